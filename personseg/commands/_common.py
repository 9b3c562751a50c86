"""Options shared by the inference commands (predict, evaluate, grid)."""

from __future__ import annotations

import argparse
import os


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--weights", default="weights.h5", help="model file (default: weights.h5)")
    g.add_argument("--backend", choices=["keras", "onnx", "tflite"], default="keras",
                   help="runtime (onnx/tflite need the export extra and an exported model)")
    g.add_argument("--size", type=int,
                   help="input size for a model saved with a dynamic input (e.g. a run's best.keras)")


def load_segmenter(args: argparse.Namespace):
    """Segmenter for --weights/--backend/--size (TensorFlow's C++ logging quietened first)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from personseg.segmenter import Segmenter

    options = {"size": args.size} if args.size is not None else {}
    return Segmenter.from_weights(args.weights, backend=args.backend, **options)
