"""Inference runtimes behind one interface, so pre/post-processing lives once (in Segmenter):
Keras, ONNX Runtime, LiteRT (TFLite), SavedModel, and peers (published models by name,
`peers.py`). `load_backend` opens anything `refs.py` names: a model file, `pretrained:NAME`
or `peer:NAME`.

A backend wraps one model file and runs batches:
    backend.input_size  -> (height, width) the model takes (its square)
    backend.predict(batch: N×H×W×3 float32 RGB 0–255) -> N×H×W float32 person probabilities
    backend.any_size    -> optional, True when predict takes any H×W (multiples of 32) besides
                           input_size: what `framing="fit"` needs (Keras; free-size ONNX, TFLite
                           and SavedModel exports)
    backend.framing     -> optional, the framing the file records (`metadata.py`; Keras .h5 and
                           ONNX files), what `framing="auto"` runs
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from personseg.backends.refs import ModelRef, parse_ref
from personseg.errors import OptionError, UserError
from personseg.extras import INSTALL, has_tensorflow, require_tensorflow

# name -> (module, class, needs TensorFlow: checked before the model is opened)
BACKENDS: dict[str, tuple[str, str, bool]] = {
    "keras": ("personseg.backends.keras_backend", "KerasBackend", True),
    "onnx": ("personseg.backends.onnx_backend", "OnnxBackend", False),
    "tflite": ("personseg.backends.tflite_backend", "TFLiteBackend", False),
    "savedmodel": ("personseg.backends.savedmodel_backend", "SavedModelBackend", True),
}


class Backend(Protocol):
    input_size: tuple[int, int]  # a backend may also say `any_size = True` (see above)

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


# file extension -> runtime, for backend="auto"
BY_SUFFIX = {".onnx": "onnx", ".tflite": "tflite", ".h5": "keras", ".keras": "keras"}


def runtime_for(path: str | Path) -> str:
    """The runtime `auto` picks for a model file: by extension; a folder is a SavedModel."""
    path = Path(path)
    return "savedmodel" if path.is_dir() else BY_SUFFIX.get(path.suffix.lower(), "keras")


def load_backend(model: str | os.PathLike | ModelRef, backend: str | None = "auto", **options) -> Backend:
    """Open a model (`FILE`, `pretrained:NAME` or `peer:NAME`, see `refs.py`) with the named
    runtime (`auto` or None: a file's by its extension; a packaged model's ONNX twin when ONNX
    Runtime is installed, else its .h5; a peer's own). Options: `size`, `threads`, `peers_dir`."""
    ref = parse_ref(model)
    backend = None if backend == "auto" else backend
    if backend is not None and backend not in BACKENDS:
        raise OptionError("backend", backend, f"choose from auto, {', '.join(BACKENDS)}")
    if ref.kind == "peer":
        from personseg.backends.peer_backend import open_peer

        return open_peer(ref.name, backend, **options)
    if ref.kind == "pretrained":
        from personseg.pretrained import model_file

        backend = backend or ("onnx" if importlib.util.find_spec("onnxruntime") else "keras")
        if backend not in ("onnx", "keras"):
            raise OptionError("backend", backend, "packaged models run with onnx or keras")
        if backend == "keras" and not has_tensorflow():
            raise OptionError("backend", backend, f"needs TensorFlow, which is not installed here; {INSTALL} "
                              "(or leave it out: packaged models run on ONNX Runtime)")
        path = model_file(ref.name, backend)
    else:
        path = Path(ref.name)
        if not path.exists():
            raise UserError(f"{path}: model file not found")
    backend = backend or runtime_for(path)
    module_name, class_name, needs_tensorflow = BACKENDS[backend]
    if needs_tensorflow:
        require_tensorflow(str(path))  # a Keras model or SavedModel; ONNX files run without
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(path, **options)
