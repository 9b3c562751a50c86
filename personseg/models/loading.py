"""Opening and saving personseg Keras model files, and rebuilding a model at another input size.

`load_keras_model` opens `model.h5` inference models and `.keras` training checkpoints alike
(a file that is not one is named, never reported as "not found"); `check_segmentation_model`
says which shape a model should have;
`at_size` gives the same network and weights with a fixed N×N (or any H×W) float32 input —
what training writes as `model.h5` (with `save_h5`) and what every export starts from;
`start_from` copies a trained model's weights into a freshly built one (fine-tuning).
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from personseg.errors import UserError
from personseg.limits import check_size

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"


def _file_kind_problem(path: Path) -> str | None:
    """Why `path` cannot be a Keras model file, judged from its first bytes (None: it may be)."""
    if path.is_dir():
        return "is a folder, not a model file"
    with open(path, "rb") as f:
        head = f.read(8)
        if not head:
            return "is empty (0 bytes): not a model file"
        hdf5 = head == HDF5_SIGNATURE
        for offset in (512, 1024, 2048):  # HDF5 allows a user block before its signature
            f.seek(offset)
            hdf5 = hdf5 or f.read(8) == HDF5_SIGNATURE
    if head.startswith(ZIP_SIGNATURE) or hdf5:
        return None
    expected = "a zip archive" if path.suffix == ".keras" else "an HDF5 or .keras file"
    return f"not a Keras model file (expected {expected}; the file holds something else)"


def check_segmentation_model(model: keras.Model, path: str | Path) -> None:
    """UserError unless the model maps (batch, H, W, 3) RGB to (batch, H, W, 1) probabilities."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UserError(f"{path}: model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                        "expected one image in, one probability map out")
    shape_in, shape_out = tuple(model.input_shape), tuple(model.output_shape)
    if len(shape_in) != 4 or shape_in[3] != 3:
        raise UserError(f"{path}: model input is {shape_in}; expected RGB images (batch, H, W, 3)")
    if len(shape_out) != 4 or shape_out[3] != 1 or any(
            i is not None and o != i for i, o in zip(shape_in[1:3], shape_out[1:3], strict=True)):
        expected = f"(batch, {shape_in[1]}, {shape_in[2]}, 1)"
        raise UserError(f"{path}: model output is {shape_out}; expected one person probability per "
                        f"input pixel, {expected}")


def load_keras_model(path: str | Path) -> keras.Model:
    """A personseg model file (`model.h5` inference model or `.keras` checkpoint). Loaded without
    its training configuration, so a checkpoint's loss, metrics and optimizer are not needed."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: model file not found")
    try:
        problem = _file_kind_problem(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    if problem:
        raise UserError(f"{path}: {problem}")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # h5py/keras raise many types for unreadable files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot load as a Keras model, damaged or truncated? ({detail})") from exc


class _LegacyH5Notice(logging.Filter):
    """Drops Keras' "saving your model as an HDF5 file ... considered legacy" record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("HDF5 file" in message and "legacy" in message)


def saved_bytes(model: keras.Model, optimizer: bool = False) -> int:
    """About how many bytes saving `model` (with its optimizer state) takes on disk, with room
    to spare: checked free before h5py writes (`disk.check_space`)."""
    variables = list(model.weights)
    if optimizer and getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    data = sum(int(np.prod(v.shape)) * np.dtype(str(v.dtype)).itemsize for v in variables)
    return int(data * 1.25) + (1 << 18)


def save_h5(model: keras.Model, path: str | Path) -> None:
    """`model.save(path)` to an .h5 file, on purpose: plain H5 is what loads in any TensorFlow
    2.16+ without personseg. An inference file: no optimizer state (it would triple the size).
    Keras logs a "this file format is considered legacy" notice for every such save (through
    absl logging, not `warnings`); that one record is dropped here."""
    absl_logger = logging.getLogger("absl")
    notice = _LegacyH5Notice()
    absl_logger.addFilter(notice)
    try:
        model.save(path, include_optimizer=False)
    finally:
        absl_logger.removeFilter(notice)


class ShapeUpsampling(keras.layers.Layer):
    """×k resize computed from the runtime shape. Keras 3.15's UpSampling2D cannot be traced
    with unknown H×W (ops.image.resize compares the size to 0 in Python), so dynamic-size
    models swap it for this layer; it has no weights and computes the same tf.image.resize."""

    def __init__(self, size: tuple[int, int], interpolation: str, **kwargs):
        super().__init__(**kwargs)
        self.size, self.interpolation = tuple(size), interpolation

    def call(self, x):
        shape = tf.shape(x)
        new_size = (shape[1] * self.size[0], shape[2] * self.size[1])
        return tf.image.resize(x, new_size, method=self.interpolation)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "interpolation": self.interpolation}


def at_size(model: keras.Model, size: int | None) -> keras.Model:
    """The same network and weights with a size×size input (None: any H×W), float32 throughout."""
    if size is not None:
        check_size(size)

    def clone(layer):
        if size is None and isinstance(layer, keras.layers.UpSampling2D) and layer.interpolation != "nearest":
            return ShapeUpsampling(layer.size, layer.interpolation, name=layer.name)
        config = layer.get_config()
        if "dtype" in config:
            config["dtype"] = "float32"  # ship float32 even if trained under mixed precision
        return layer.__class__.from_config(config)

    inputs = keras.Input((size, size, 3), name="image")
    resized = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    resized.set_weights(model.get_weights())
    return resized


def square_size(model: keras.Model) -> int | None:
    """The model's fixed N of an N×N input, or None when it takes any size."""
    height, width = model.input_shape[1:3]
    if height is None or width is None:
        return None
    if height != width:
        raise UserError(f"model input is {height}×{width}; personseg needs square (letterboxed) inputs")
    return int(height)


def weight_mismatch(model: keras.Model, trained: keras.Model) -> str | None:
    """Where `trained`'s weights stop fitting `model` (`weight 3 is (3, 3, 32) there, (3, 3, 16)
    here`), or None when every weight has the same shape."""
    wanted = [tuple(w.shape) for w in model.weights]
    found = [tuple(w.shape) for w in trained.weights]
    if wanted == found:
        return None
    pairs = enumerate(zip(wanted, found, strict=False))
    i = next((i for i, (a, b) in pairs if a != b), min(len(wanted), len(found)))
    theirs, mine = (shapes[i] if i < len(shapes) else "none" for shapes in (found, wanted))
    return f"weight {i} is {theirs} there, {mine} here"


def start_from(model: keras.Model, source: str | Path) -> None:
    """Give `model` the weights of the trained model file `source` of the same architecture."""
    trained = load_keras_model(source)
    mismatch = weight_mismatch(model, trained)
    if mismatch:
        raise UserError(
            f"{source}: not the architecture this run builds ({mismatch}); give the model options it "
            "was trained with (--model, --encoder-alpha, --decoder-filters, --no-encoder-last-conv, "
            "--shallow-filters, --output-stride)"
        )
    model.set_weights(trained.get_weights())
