"""What a benchmark run measures: the backend variants (runtime × export × quantisation) and
the run's `Settings` (sizes, repetitions, threads, photos, peers), with a quick preset for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

# label -> (runtime, export format or None for Keras, quantization)
VARIANTS: dict[str, tuple[str, str | None, str]] = {
    "keras": ("keras", None, "none"),
    "onnx": ("onnx", "onnx", "none"),
    "onnx-fp16": ("onnx", "onnx", "fp16"),
    "onnx-int8": ("onnx", "onnx", "int8"),
    "tflite": ("tflite", "tflite", "none"),
    "tflite-fp16": ("tflite", "tflite", "fp16"),
    "tflite-int8": ("tflite", "tflite", "int8"),
}
DEFAULT_VARIANTS = ["keras", "onnx", "onnx-int8", "tflite", "tflite-int8"]


@dataclass
class Settings:
    sizes: list[int] = field(default_factory=lambda: [256, 512])
    variants: list[str] = field(default_factory=lambda: list(DEFAULT_VARIANTS))
    runs: int = 50
    warmup: int = 10
    batch: int = 32
    batch_runs: int = 3
    threads: int | None = None
    calibration: tuple[str, ...] = ()
    calibration_count: int = 100
    e2e_inputs: tuple[str, ...] = ()
    e2e_images: int = 64
    peers: tuple[str, ...] | None = None  # peer models to time too (None: every one whose file is found)
    peers_dir: str | None = None  # where peer files are (default: see personseg.backends.peers)

    def __post_init__(self) -> None:
        """Every count checked before anything runs (a bad one would fail after minutes of work)."""
        from personseg.errors import OptionError
        from personseg.limits import check_size

        minimum = {"runs": 1, "warmup": 0, "batch": 1, "batch_runs": 1, "calibration_count": 1,
                   "e2e_images": 0}
        for name, low in minimum.items():
            if getattr(self, name) < low:
                raise OptionError(name, getattr(self, name), f"must be at least {low}")
        if self.threads is not None and self.threads < 1:
            raise OptionError("threads", self.threads, "must be at least 1")
        if not self.sizes:
            raise OptionError("sizes", "", "expected positive multiples of 32")
        for size in self.sizes:
            check_size(size, "sizes")

    @classmethod
    def quick(cls, **overrides) -> Settings:
        """Tiny sizes and few runs: checks the whole pipeline in seconds (used by the tests)."""
        values = {"sizes": [64], "variants": ["keras", "onnx", "tflite"], "runs": 5, "warmup": 2,
                  "batch": 4, "batch_runs": 2, "calibration_count": 8, "e2e_images": 4}
        values.update(overrides)
        return cls(**values)
