"""Exporting a trained model to ONNX, TFLite or SavedModel, each file checked against Keras.

Every file is verified before it gets its final name: the exported model and the Keras model
segment the same photos (bundled sample images, plus a few calibration photos when given)
and the export fails — nothing written — when they diverge beyond `parity.TOLERANCES`.
The format writers are in `converters`, the comparison in `parity`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from personseg.backends import load_backend
from personseg.backends.metadata import DEFAULT_FRAMING, FRAMING_KEY, TRAINED_SIZE_KEY, h5_framing
from personseg.backends.refs import KERAS_KINDS, ModelRef, parse_ref
from personseg.data.dataset_layout import spec_images
from personseg.data.output_guard import check_outputs
from personseg.disk import check_space, check_writable_file, check_writable_folder, write_error
from personseg.errors import OptionError, UserError
from personseg.export import FORMATS, QUANTIZATIONS, converters, parity
from personseg.files import atomic_path, read_rgb
from personseg.inference.sample_photos import sample_images
from personseg.limits import check_opset, check_size
from personseg.models.loading import at_size, load_keras_model, saved_bytes, square_size

SUFFIX = {"onnx": ".onnx", "tflite": ".tflite", "savedmodel": "_savedmodel"}
DEFAULT_DYNAMIC_CHECK_SIZE = 256  # a dynamic model is checked at this size and at +64 px
VERIFY_CALIBRATION_IMAGES = 4


@dataclass
class ExportResult:
    path: Path
    format: str
    quantize: str
    size: int | None  # None: any H×W (multiple of 32)
    bytes: int
    ops: dict[str, int]
    tolerance: parity.Tolerance
    parity: list[parity.ParityRow] = field(default_factory=list)
    seconds: float = 0.0
    note: str | None = None  # e.g. the model records a framing this file cannot carry

    def as_dict(self) -> dict:
        return {
            "path": str(self.path), "format": self.format, "quantize": self.quantize, "size": self.size,
            "bytes": self.bytes, "ops": self.ops, "tolerance": self.tolerance.describe(),
            "parity": [row.as_dict() for row in self.parity], "seconds": round(self.seconds, 2),
            "note": self.note,
        }


def default_out(weights: Path, fmt: str, quantize: str, size: int | None, native: int | None) -> Path:
    """weights.h5 → weights.onnx, weights-512.int8.tflite, weights-dynamic_savedmodel, …"""
    stem = weights.stem
    if size is None:
        stem += "-dynamic"
    elif size != native:
        stem += f"-{size}"
    if quantize != "none":
        stem += f".{quantize}"
    return weights.with_name(stem + SUFFIX[fmt])


def _check(model: keras.Model, tmp: Path, fmt: str, sizes: list[int], images: dict[str, np.ndarray],
           tolerance: parity.Tolerance) -> list[parity.ParityRow]:
    rows = []
    for size in sizes:
        reference = at_size(model, size)
        infer = tf.function(lambda x, m=reference: m(x, training=False)[..., 0])
        candidate = load_backend(tmp, fmt, size=size)
        rows += parity.check(lambda b, f=infer: f(b).numpy(), candidate.predict, images, size, tolerance)
    return rows


def _failure(out: Path, fmt: str, quantize: str, rows: list[parity.ParityRow], tolerance) -> UserError:
    bad = "; ".join(
        f"{r.image}@{r.size}: max |Δp| {r.max_abs_diff:.3g}, agreement {r.agreement:.2%}"
        for r in rows
        if not r.ok
    )
    return UserError(
        f"{out}: {fmt} ({quantize}) export diverges from the Keras model beyond the tolerance "
        f"({tolerance.describe()}): {bad}; file not written"
    )


def export_model(
    weights: str | os.PathLike | ModelRef,
    fmt: str,
    *,
    quantize: str = "none",
    size: int | None = None,
    dynamic: bool = False,
    out: str | Path | None = None,
    calibration: list[str] | tuple[str, ...] = (),
    calibration_count: int = 200,
    opset: int = converters.ONNX_OPSET,
    strict: bool = True,
) -> ExportResult:
    """Export `weights` (a Keras model file or `pretrained:NAME`) and verify the file against the
    Keras model; see the module docstring. A packaged model's export goes to the current folder.

    strict=False keeps a file that misses the tolerance (its rows say so): for measurements
    like the benchmark's, never for files handed to users."""
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise OptionError("format", fmt, f"choose from {', '.join(FORMATS)}")
    if quantize not in QUANTIZATIONS:
        raise OptionError("quantize", quantize, f"choose from {', '.join(QUANTIZATIONS)}")
    if fmt == "savedmodel" and quantize != "none":
        raise OptionError("quantize", quantize, "a SavedModel is float32; quantize a tflite or onnx export")
    if dynamic and size is not None:
        raise OptionError("size", size, "a fixed size and dynamic=True exclude each other")
    if calibration_count < 1:
        raise OptionError("calibration_count", calibration_count, "must be at least 1")
    if size is not None:
        check_size(size)  # before the model loads: `--size 100000` would exhaust memory
    if fmt == "onnx":
        check_opset(opset)
    ref = parse_ref(weights, "weights", KERAS_KINDS)
    weights = ref.keras_file()
    model = load_keras_model(weights)
    native = square_size(model)
    framing = h5_framing(weights)  # a free-size ONNX export records it too (`backends.metadata`)
    if not dynamic and size is None:
        size = native
        if size is None:
            raise UserError(f"{weights}: model has a dynamic input size; give an export size "
                            "or make the export dynamic")
    export_size = None if dynamic else size
    check_sizes = [export_size] if export_size else [native or DEFAULT_DYNAMIC_CHECK_SIZE]
    if dynamic:
        check_sizes.append(check_sizes[0] + 64)

    images, calibration_photos = _photos(list(calibration), calibration_count, check_sizes[0])
    if quantize == "int8" and calibration_photos is None:
        raise OptionError("calibration", "none", "int8 quantization needs calibration photos "
                          "(ROOT[:SPLIT]): a few hundred representative ones")

    named = weights if ref.kind == "file" else Path(ref.label + weights.suffix)  # not into the package
    out = Path(out) if out else default_out(named, fmt, quantize, export_size, native)
    check_outputs([("weights", weights)], [("out", out)])  # the API too: never over the model
    if fmt == "savedmodel":  # found now, not after the conversion
        if out.exists() and not out.is_dir():
            raise UserError(f"{out}: exists and is a file; a SavedModel is a folder")
        check_writable_folder(out.parent)
    else:
        check_writable_file(out)
    exportable = at_size(model, export_size)
    tolerance = parity.TOLERANCES[quantize]
    check_space(out.parent, saved_bytes(exportable) * (2 if fmt == "savedmodel" else 1))
    if fmt == "savedmodel":
        rows, ops = _export_folder(exportable, model, out, check_sizes, images, tolerance, strict)
        total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    else:
        with atomic_path(out) as tmp:
            if fmt == "onnx":
                converters.write_onnx(exportable, tmp, quantize, calibration_photos, opset)
                if export_size is None:  # a free-size file records its own size and framing
                    recorded = {TRAINED_SIZE_KEY: str(native)} if native else {}
                    if framing != DEFAULT_FRAMING:
                        recorded[FRAMING_KEY] = framing
                    if recorded:
                        converters.set_onnx_metadata(tmp, recorded)
                ops = converters.onnx_op_counts(tmp)
                if ops.get("BatchNormalization"):
                    count = ops["BatchNormalization"]
                    raise UserError(f"{out}: {count} BatchNormalization nodes were not folded")
            else:
                converters.write_tflite(exportable, tmp, quantize, calibration_photos)
                ops = converters.tflite_op_counts(tmp)
            rows = _check(model, tmp, fmt, check_sizes, images, tolerance)
            if strict and not all(r.ok for r in rows):
                raise _failure(out, fmt, quantize, rows, tolerance)
        total = out.stat().st_size
    return ExportResult(out, fmt, quantize, export_size, total, ops, tolerance, rows,
                        time.perf_counter() - started, _framing_note(weights, framing, fmt, export_size))


def _framing_note(weights: Path, framing: str, fmt: str, export_size: int | None) -> str | None:
    """What to tell when the model records a framing (`backends.metadata`) the export does not
    carry: only a free-size ONNX file records it; a fixed-size file runs `square` only."""
    if framing == DEFAULT_FRAMING or (fmt == "onnx" and export_size is None):
        return None
    if export_size is not None:
        return (f"{weights} records the {framing} framing; this fixed-size file runs square only "
                f"(export with --dynamic to run {framing})")
    return (f"{weights} records the {framing} framing; a {fmt} file does not carry it, so run it "
            f"with --framing {framing} (only ONNX exports record it)")


def _spread(files: list[Path], count: int) -> list[Path]:
    """Up to `count` files evenly spaced over the list (deterministic, covers every root)."""
    if len(files) <= count:
        return list(files)
    return [files[i] for i in np.linspace(0, len(files) - 1, count).round().astype(int)]


def _photos(specs: list[str], count: int, size: int):
    """(photos to check parity on, calibration photos or None). The parity photos are the
    bundled samples plus a few calibration-folder photos that int8 did not calibrate on."""
    files = spec_images(specs)
    calibration_files = _spread(files, count)
    used = set(calibration_files)
    held_out = [f for f in files if f not in used] or files
    images = sample_images()
    for path in _spread(held_out, VERIFY_CALIBRATION_IMAGES):
        images[path.stem] = read_rgb(path)

    return images, (parity.CalibrationPhotos(calibration_files, size) if calibration_files else None)


def _export_folder(exportable, model, out: Path, sizes, images, tolerance, strict: bool):
    if out.exists() and not (out / "saved_model.pb").exists():
        raise UserError(f"{out}: exists and is not a SavedModel folder; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.rmtree(tmp)
        try:
            converters.write_savedmodel(exportable, tmp)
        except Exception as exc:  # TensorFlow's ResourceExhaustedError on a full disk
            error = write_error(out, exc)
            if error is None:
                raise
            raise error from exc
        rows = _check(model, tmp, "savedmodel", sizes, images, tolerance)
        if strict and not all(r.ok for r in rows):
            raise _failure(out, "savedmodel", "none", rows, tolerance)
        old = out.with_name(f".{out.name}.{os.getpid()}.old") if out.exists() else None
        if old is not None:
            os.replace(out, old)  # the previous export stays whole until the new one has its name
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows, {}
