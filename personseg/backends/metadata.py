"""What personseg records in a model file besides the network, and reading it back:
- `FRAMING_KEY`: the framing the model runs best in (one of `personseg.inference.letterbox.
  FRAMINGS`; the Segmenter checks the value), measured when it was shipped (weights/README.md); a
  root attribute of a Keras `.h5` file and, when not `square`, a `metadata_props` entry of its
  free-size ONNX export (TFLite and SavedModel files do not carry it). A file without it runs
  `square`.
- `TRAINED_SIZE_KEY`: the square a free-size ONNX export of a fixed-size model was trained at.
Backends read these (`framing`, `input_size`); `scripts/ship_model.py` and the exporter write them.
"""

from __future__ import annotations

from pathlib import Path

from personseg.errors import UserError

FRAMING_KEY = "personseg.framing"
TRAINED_SIZE_KEY = "personseg.size"
DEFAULT_FRAMING = "square"  # what a file that records no framing runs


def as_framing(value: object) -> str:
    """A recorded framing entry (None or empty when absent) as text."""
    if value is None or value == "":
        return DEFAULT_FRAMING
    return value.decode() if isinstance(value, bytes) else str(value)


def h5_framing(path: str | Path) -> str:
    """The framing a Keras HDF5 model file records (`square` for any other file)."""
    import h5py

    if not h5py.is_hdf5(str(path)):
        return DEFAULT_FRAMING
    with h5py.File(path, "r") as f:
        return as_framing(f.attrs.get(FRAMING_KEY))


def set_h5_framing(path: str | Path, framing: str) -> None:
    """Record `framing` in the Keras HDF5 model file at `path`, in place (write a copy and rename
    it, as `scripts/ship_model.py` does)."""
    import h5py

    if not h5py.is_hdf5(str(path)):
        raise UserError(f"{path}: not an HDF5 model file; only .h5 files record a framing")
    with h5py.File(path, "a") as f:
        f.attrs[FRAMING_KEY] = framing
