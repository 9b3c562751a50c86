"""LiteRT (TensorFlow Lite) backend for `personseg export --format tflite` files.

Float models run on the XNNPACK delegate that LiteRT applies by default on CPU. A batch is
fed one image at a time: exported models have a batch-1 input, and on a 2-core CPU looping
was faster per image than resizing the input tensor to the batch size.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size, physical_cores, require
from personseg.errors import UserError
from personseg.quiet import quiet_stderr


def quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not scale:
        return x.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def dequantize(q: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not scale:
        return q.astype(np.float32)
    return ((q.astype(np.float32) - zero_point) * scale).astype(np.float32)


def open_interpreter(path: str | Path, threads: int, preserve_all_tensors: bool = False):
    """A LiteRT Interpreter on `path` (not yet allocated); UserError when it is not a TFLite file.
    `preserve_all_tensors` keeps intermediate tensors readable after invoke (peers read one)."""
    interpreter_class = require("ai_edge_litert.interpreter", f"{path}: the tflite backend").Interpreter
    try:
        with warnings.catch_warnings():  # LiteRT warns that preserving tensors is for debugging
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors")
            return interpreter_class(model_path=str(path), num_threads=threads,
                                     experimental_preserve_all_tensors=preserve_all_tensors)
    except Exception as exc:  # LiteRT raises ValueError/RuntimeError depending on the problem
        raise UserError(f"{path}: cannot load as a TFLite model ({exc})") from exc


def allocate(interpreter) -> None:
    """`interpreter.allocate_tensors()` without LiteRT's note that it chose XNNPACK."""
    with quiet_stderr():
        interpreter.allocate_tensors()


class TFLiteBackend:
    """LiteRT Interpreter with `threads` (default: one per physical core).

    Models with integer input/output tensors are fed and read through their scale and zero
    point, so callers always pass RGB 0–255 floats and get probabilities back.
    """

    def __init__(self, path: str | Path, size: int | None = None, threads: int | None = None):
        self.threads = threads or physical_cores()
        self.interpreter = open_interpreter(path, self.threads)
        inputs = self.interpreter.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape_signature"]) != 4 or inputs[0]["shape_signature"][3] != 3:
            shapes = [list(i["shape_signature"]) for i in inputs]
            raise UserError(f"{path}: expected one N×H×W×3 input, got {shapes}")
        signature = [int(d) for d in inputs[0]["shape_signature"]]
        self.input_size = fixed_or_requested_size(path, signature[1], signature[2], size)
        if signature[0] != 1 or (signature[1], signature[2]) != self.input_size:
            self.interpreter.resize_tensor_input(inputs[0]["index"], [1, *self.input_size, 3])
        allocate(self.interpreter)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        out = np.empty(batch.shape[:3], dtype=np.float32)
        for i in range(len(batch)):
            self.interpreter.set_tensor(self._input["index"], quantize(batch[i : i + 1], self._input))
            self.interpreter.invoke()
            out[i] = dequantize(self.interpreter.get_tensor(self._output["index"]), self._output)[0, ..., 0]
        return out
