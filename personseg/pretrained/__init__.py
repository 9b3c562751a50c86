"""The pretrained models that ship inside the package, so `pip install personseg` can segment from
any folder: each as a plain Keras `.h5`, its parity-checked ONNX twin (`personseg export`) and
its build options (`NAME.json`: the `TrainConfig` architecture fields it was built with, so
`train --init pretrained:NAME` needs no model flags; a test builds them and compares the file).

    Segmenter.pretrained()            # the default model, ONNX Runtime when installed
    Segmenter.pretrained("fast")      # another one by name
    personseg predict photo.jpg --out out                     # the same default on the CLI
    personseg predict photo.jpg --weights pretrained:fast --out out

Each `.h5` is stored once, where the notebooks and recipes expect it (`weights.h5`,
`weights/*.h5`); in a checkout the package's `NAME.h5` is a link to it, and building the wheel
copies the file itself in (tested). Replacing a shipped model is a change of that one `.h5`, its
ONNX twin here and, if the architecture changed, `NAME.json` (a test builds it and compares).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from personseg.errors import OptionError, UserError


@dataclass(frozen=True)
class PretrainedModel:
    name: str
    description: str
    repo_file: str  # where the repository keeps the same .h5 (relative to its root)


MODELS = {
    "unet": PretrainedModel("unet", "the most accurate shipped model (U-Net on MobileNetV2)", "weights.h5"),
    "fast": PretrainedModel("fast", "real-time model: a narrow U-Net at 224×224", "weights/fast.h5"),
    "shallow": PretrainedModel("shallow", "the seed's shallow encoder-decoder", "weights/shallow.h5"),
}
DEFAULT = "unet"
SUFFIX = {"keras": ".h5", "onnx": ".onnx", "build": ".json"}


def model_file(name: str = DEFAULT, fmt: str = "onnx") -> Path:
    """The packaged file of model `name` in `fmt` ("keras" → .h5, "onnx" → .onnx, "build" → its
    build options, .json). An unknown
    name is a UserError naming it as users type it (`pretrained:NAME`, whichever flag took it)."""
    if name not in MODELS:
        known = ", ".join(f"pretrained:{known}" for known in MODELS)
        raise UserError(f"pretrained:{name}: no packaged model of that name; choose from {known}")
    if fmt not in SUFFIX:
        raise OptionError("fmt", fmt, f"choose from {', '.join(SUFFIX)}")
    path = Path(str(resources.files(__name__) / f"{name}{SUFFIX[fmt]}"))
    if not path.is_file():
        raise UserError(f"{path}: packaged model file missing (a broken install? reinstall personseg)")
    return path


def build_options(name: str) -> dict:
    """The `TrainConfig` architecture fields packaged model `name` was built with."""
    return json.loads(model_file(name, "build").read_text())
