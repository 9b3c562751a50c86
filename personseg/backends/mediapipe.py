"""MediaPipe's selfie segmenter as a speed peer: its .tflite run by our LiteRT backend.

mediapipe 0.10.21 pins numpy<2 and protobuf<5, which conflict with this project's
environment, so we do not install it: its wheel ships
`mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite` (256×256 RGB input in
[0, 1], sigmoid person probability out), which `fetch_model` extracts from
`pip download mediapipe==0.10.21 --no-deps` into a cache folder outside the repository.
Running the file with the same interpreter and thread count as our own TFLite exports makes
the comparison about the networks, not the runtimes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from personseg.errors import UserError

VERSION = "0.10.21"
MEMBER = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
NAME = "mediapipe-selfie"


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "personseg" / "mediapipe" / Path(MEMBER).name


def find_model(explicit: str | Path | None = None) -> Path | None:
    """An explicit path, $PERSONSEG_MEDIAPIPE_TFLITE, an installed mediapipe, or the cache."""
    candidates = [explicit, os.environ.get("PERSONSEG_MEDIAPIPE_TFLITE")]
    spec = importlib.util.find_spec("mediapipe")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations))).parent
        candidates.append(root / MEMBER)
    candidates.append(cache_path())
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    if explicit:
        raise UserError(f"{explicit}: MediaPipe selfie segmentation model not found")
    return None


def fetch_model() -> Path:
    """Download the mediapipe wheel with pip (no dependencies, not installed) and extract the model."""
    target = cache_path()
    with tempfile.TemporaryDirectory(prefix="personseg-mediapipe-") as tmp:
        command = [sys.executable, "-m", "pip", "download", f"mediapipe=={VERSION}", "--no-deps",
                   "--only-binary=:all:", "-d", tmp, "-q"]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("mediapipe-*.whl"))
        if done.returncode or not wheels:
            raise UserError(f"pip download mediapipe=={VERSION} failed: {done.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(MEMBER)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class MediaPipeSelfie:
    """Backend protocol around the .tflite: takes RGB 0–255 like ours, feeds it 0–1 as MediaPipe
    does (ImageToTensorCalculator, output_tensor_float_range 0..1)."""

    def __init__(self, path: str | Path, threads: int | None = None):
        from personseg.backends.tflite_backend import TFLiteBackend

        self.backend = TFLiteBackend(path, threads=threads)
        self.input_size = self.backend.input_size
        self.threads = self.backend.threads

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.backend.predict(np.asarray(batch, dtype=np.float32) * np.float32(1 / 255))
