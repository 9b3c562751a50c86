"""Training throughput (images/s) per model and image size on this machine, as JSON.

Synthetic batches (random images and masks) isolate the model's train step from data loading.
Each configuration: compile, warm-up steps, then the median of timed repeats of `--steps` steps.

    python benchmarks/bench_train.py --out benchmarks/results/train.json
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from personseg.files import print_json  # noqa: E402
from personseg.models import build_model  # noqa: E402
from personseg.training.losses import bce_dice_loss  # noqa: E402
from personseg.training.metrics import training_metrics  # noqa: E402

CONFIGS = {
    # the shipped architectures (weights/README.md): weights.h5, weights/fast.h5, weights/shallow.h5
    "unet-mnv2-1.0-os4": ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 1.0, "encoder_weights": None,
                                   "output_stride": 4}),
    "fast-mnv2-0.35-os4": ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "encoder_weights": None,
                                    "decoder_filters": (64, 48, 32, 24, 16), "output_stride": 4}),
    "shallow-shipped": ("shallow", {"filters": (16, 24, 48, 96, 192), "separable": True, "output_stride": 2}),
    # references
    "unet-mnv2-0.5-os4": ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.5, "encoder_weights": None,
                                   "output_stride": 4}),
    "shallow-dense": ("shallow", {}),
    "unet-scratch-32": ("unet", {"encoder": "none", "base_filters": 32, "separable": False}),
    "unet-scratch-sep16": ("unet", {"encoder": "none", "base_filters": 16}),
    "unet-mnv2-0.35": ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.35, "encoder_weights": None}),
    "unet-mnv2-0.5": ("unet", {"encoder": "mobilenetv2", "encoder_alpha": 0.5, "encoder_weights": None}),
}


def measure(name: str, size: int, batch: int, steps: int, repeats: int, precision: str) -> dict:
    keras.mixed_precision.set_global_policy(precision)
    arch, options = CONFIGS[name]
    model = build_model(arch, (size, size, 3), **options)
    model.compile(keras.optimizers.AdamW(1e-3), loss=bce_dice_loss, metrics=training_metrics())
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    y = (rng.uniform(size=(batch, size, size, 1)) > 0.7).astype("float32")
    for _ in range(3):  # warm-up: tracing and allocator
        model.train_on_batch(x, y)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    keras.mixed_precision.set_global_policy("float32")
    return {
        "model": name, "size": size, "batch": batch, "precision": precision,
        "params": model.count_params(), "images_per_s": round(steps * batch / median, 2),
        "repeat_seconds": [round(t, 3) for t in times],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[256])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", nargs="+", default=["float32"],
                        choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    results = [
        measure(m, s, args.batch, args.steps, args.repeats, p)
        for m in args.models for s in args.sizes for p in args.precision
    ]
    report = {
        "benchmark": "train_step_images_per_s", "machine": platform.machine(),
        "cpus": os.cpu_count(), "keras": keras.__version__, "results": results,
    }
    print_json(report, args.out)


if __name__ == "__main__":
    main()
