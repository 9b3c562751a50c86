"""Keras model → ONNX / TFLite / SavedModel files, with BatchNorm folded and optional quantisation.

One writer per format; each takes a model whose input size is already what the file should
have (H, W fixed, or None for any size) and writes exactly one file or folder. Checking that
the result still matches the Keras model is `personseg.export.exporter`'s job.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from personseg.backends.runtime import require
from personseg.errors import UserError
from personseg.quiet import quiet_stderr

# ONNX opset 17: Resize/Conv semantics every current runtime implements (onnxruntime ≥ 1.11,
# OpenCV DNN, TensorRT 8.5+); the models use nothing newer.
ONNX_OPSET = 17

Calibration = Sequence[np.ndarray]  # 1×H×W×3 float32 letterboxed photos (parity.CalibrationPhotos)

# Layers a TFLite int8 export keeps in float32: MobileNetV2's first inverted-residual block (3×3
# depthwise + 1×1 projection at half resolution). 8-bit rounding of its BatchNorm-folded
# weights (a third of the projection's round to 0) is the error the rest of the network
# amplifies most; 16-bit activations or more calibration photos do not remove it. In float it
# costs a few MACs and one quantise/dequantise pair. Models without such layers are unaffected.
FLOAT_LAYERS = re.compile(r"(^|[/;])expanded_conv_")


def kept_float(names: Iterable[str]) -> list[str]:
    """The names (Keras layers, TFLite tensors) that belong to a `FLOAT_LAYERS` layer."""
    return [name for name in names if FLOAT_LAYERS.search(name)]


def input_spec(model: keras.Model, batch: int | None) -> tf.TensorSpec:
    """The signature the file gets: NHWC float32 RGB 0–255, named `image`."""
    height, width = model.input_shape[1:3]
    return tf.TensorSpec((batch, height, width, 3), tf.float32, name="image")


def write_savedmodel(model: keras.Model, folder: Path, batch: int | None = None) -> None:
    """SavedModel with one `serve` endpoint (inference mode: BatchNorm uses moving statistics)."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", lambda x: model(x, training=False), input_signature=[input_spec(model, batch)]
    )
    archive.write_out(str(folder), verbose=False)


def set_onnx_metadata(path: Path, entries: dict[str, str]) -> None:
    """Add (or replace) `metadata_props` entries of the ONNX file at `path`."""
    onnx = require("onnx", "ONNX export")
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in entries.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def onnx_op_counts(path: Path) -> dict[str, int]:
    onnx = require("onnx", "ONNX export")
    return dict(Counter(node.op_type for node in onnx.load(str(path)).graph.node))


def _fold_onnx(raw: Path, out: Path) -> None:
    """Constant-fold with onnxruntime's BASIC level and save: folds every Conv→Mul/Add (the
    BatchNorms tf2onnx leaves after depthwise convolutions) into the convolution weights.
    BASIC only rewrites with standard ONNX ops, so the file stays portable to other runtimes;
    the hardware-specific fusions happen when a session loads it (level ALL)."""
    ort = require("onnxruntime", "ONNX export")
    onnx = require("onnx", "ONNX export")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out)
    options.log_severity_level = 3
    ort.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
    model = onnx.load(str(out))
    used = {node.domain for node in model.graph.node} | {""}
    kept = [opset for opset in model.opset_import if opset.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    onnx.save(model, str(out))


def _onnx_int8(raw: Path, out: Path, calibration: Calibration, work: Path) -> None:
    """Static int8 (QOperator: QLinearConv etc.), per-channel int8 weights, uint8 activations
    with ranges from the calibration photos (MinMax); input and output stay float32.
    (`FLOAT_LAYERS` are not excluded here: in float they did not bring the fast model's
    agreement back, so the error onnxruntime's int8 adds is not only theirs.)"""
    quantization = require("onnxruntime.quantization", "int8 ONNX export")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = work / "prepared.onnx"
    quant_pre_process(str(raw), str(prepared), skip_symbolic_shape=True)

    class Reader(quantization.CalibrationDataReader):
        """Feeds photos [start, end) — quantize_static calibrates in strides of these."""

        def __init__(self):
            self.set_range(0, len(calibration))

        def __len__(self):
            return len(calibration)

        def set_range(self, start_index: int, end_index: int):
            self.indices = iter(range(start_index, min(end_index, len(calibration))))

        def get_next(self):
            index = next(self.indices, None)
            return None if index is None else {"image": calibration[index]}

    # Ranges are folded every `stride` photos (MinMax merges them): by default every
    # activation of every photo is kept until the end — tens of GB for 200 photos at 320 px.
    stride = max(d for d in range(1, 9) if len(calibration) % d == 0)
    quantization.quantize_static(
        str(prepared), str(out), Reader(),
        quant_format=quantization.QuantFormat.QOperator,
        per_channel=True,
        activation_type=quantization.QuantType.QUInt8,
        weight_type=quantization.QuantType.QInt8,
        extra_options={"CalibStridedMinMax": stride},
    )


def _onnx_fp16(folded: Path, out: Path) -> None:
    """fp16 weights and activations, float32 input/output (for GPUs and ARM CPUs with fp16
    arithmetic; on x86 onnxruntime runs most fp16 ops through inserted casts — slower)."""
    onnx = require("onnx", "fp16 ONNX export")
    float16 = require("onnxruntime.transformers.float16", "fp16 ONNX export")
    model = float16.convert_float_to_float16(onnx.load(str(folded)), keep_io_types=True)
    onnx.save(model, str(out))


def write_onnx(model: keras.Model, path: Path, quantize: str = "none", calibration: Calibration | None = None,
               opset: int = ONNX_OPSET) -> None:
    """tf2onnx (through keras' `model.export`) → BatchNorm folded → optional fp16/int8."""
    require("tf2onnx", "ONNX export")
    with tempfile.TemporaryDirectory(prefix="personseg-onnx-") as tmp:
        work = Path(tmp)
        raw = work / "raw.onnx"
        model.export(str(raw), format="onnx", input_signature=[input_spec(model, None)],
                     opset_version=opset, verbose=False)
        if quantize == "int8":
            _onnx_int8(raw, path, calibration, work)
            return
        folded = path if quantize == "none" else work / "folded.onnx"
        _fold_onnx(raw, folded)
        if quantize == "fp16":
            _onnx_fp16(folded, path)


def tflite_op_counts(path: Path) -> dict[str, int]:
    """Builtin operator names and how often the main subgraph uses them."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(Path(path).read_bytes(), 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    graph = model.Subgraphs(0)
    counts: Counter[str] = Counter()
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        counts[names.get(builtin, f"op{builtin}") if builtin != 32 else code.CustomCode().decode()] += 1
    return dict(counts)


def write_tflite(model: keras.Model, path: Path, quantize: str = "none",
                 calibration: Calibration | None = None) -> None:
    """TFLiteConverter from a SavedModel (freezes the weights, folds BatchNorm into the
    convolutions). Batch-1 input. fp16: float16 weights, dequantised at load on CPU.
    int8: integer ops with float32 input/output, quantised from the calibration photos, except
    the `FLOAT_LAYERS` (see `_tflite_int8`)."""
    with tempfile.TemporaryDirectory(prefix="personseg-tflite-") as tmp:
        write_savedmodel(model, Path(tmp), batch=1)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantize == "fp16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        try:
            int8 = quantize == "int8"
            flatbuffer = _tflite_int8(converter, model, calibration) if int8 else converter.convert()
        except UserError:
            raise
        except Exception as exc:  # the converter raises ConverterError, RuntimeError, ValueError…
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise UserError(f"{path}: TFLite conversion failed ({reason})") from exc
    Path(path).write_bytes(flatbuffer)


def _tflite_int8(converter: tf.lite.TFLiteConverter, model: keras.Model, calibration: Calibration) -> bytes:
    """Full-integer int8, or — when `model` has `FLOAT_LAYERS` — TFLite's selective quantisation:
    calibrate once, then quantise every op but those layers' (their neighbours get QUANTIZE /
    DEQUANTIZE)."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x] for x in calibration)
    if not kept_float(layer.name for layer in model.layers):
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        with quiet_stderr():  # the calibrator prints its settings
            return converter.convert()
    interpreter = require("ai_edge_litert.interpreter", "int8 TFLite export").Interpreter
    builtins = tf.lite.OpsSet
    converter.target_spec.supported_ops = [builtins.TFLITE_BUILTINS, builtins.TFLITE_BUILTINS_INT8]
    with warnings.catch_warnings(), quiet_stderr():  # the debugger builds TF's deprecated interpreter
        warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=lambda: iter(()))  # never run: it only calibrates here
        tensors = interpreter(model_content=debugger.calibrated_model).get_tensor_details()
        nodes = kept_float(tensor["name"] for tensor in tensors)
        if not nodes:  # e.g. a TensorFlow that names tensors differently: never a silent float file
            raise RuntimeError(f"no tensor of the layers kept float ({FLOAT_LAYERS.pattern}) in the model")
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=nodes)
        return debugger.get_nondebug_quantized_model()
