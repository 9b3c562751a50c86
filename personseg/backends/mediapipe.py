"""Where MediaPipe's selfie segmenter file comes from, besides the peers folder: the
`mediapipe-selfie` peer (`personseg.backends.peers`, run like every peer) also looks here.

mediapipe 0.10.21 pins numpy<2 and protobuf<5, which conflict with this project's
environment, so we do not install it: its wheel ships
`mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite` (256×256 RGB input in
[0, 1], sigmoid person probability out), which `fetch_model` extracts from
`pip download mediapipe==0.10.21 --no-deps` into a cache folder outside the repository.
`$PERSONSEG_MEDIAPIPE_TFLITE` or an installed mediapipe package are used too.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from personseg.errors import UserError

VERSION = "0.10.21"
MEMBER = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "personseg" / "mediapipe" / Path(MEMBER).name


def known_locations() -> list[Path]:
    """$PERSONSEG_MEDIAPIPE_TFLITE, an installed mediapipe package's file, and the cache."""
    explicit = os.environ.get("PERSONSEG_MEDIAPIPE_TFLITE")
    candidates = [Path(explicit)] if explicit else []
    spec = importlib.util.find_spec("mediapipe")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations))).parent
        candidates.append(root / MEMBER)
    candidates.append(cache_path())
    return candidates


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
    from personseg.files import atomic_path  # a killed download never leaves half a model in the cache

    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target
