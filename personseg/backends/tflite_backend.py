"""LiteRT (TensorFlow Lite) backend for `personseg export --format tflite` files.

Float models run on the XNNPACK delegate that LiteRT applies by default on CPU. A batch is
fed one image at a time: exported models have a batch-1 input, and on a 2-core CPU looping
was faster per image than resizing the input tensor to the batch size. A file exported with a
free input size (`--dynamic`) takes any H×W (`any_size`, what `framing="fit"` needs): each
input shape gets its own interpreter, resized and allocated on first use, the last few kept
(re-planning one interpreter at every change of shape would cost an allocation each time; each
kept one holds its own packed weights, arena and threads, as ONNX Runtime's pinned sessions do).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size, physical_cores, require
from personseg.errors import UserError
from personseg.quiet import quiet_stderr

INTERPRETERS_KEPT = 16  # H×W shapes with an interpreter of their own (free-size files)


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
        self.path = path
        self.threads = threads or physical_cores()
        interpreter = open_interpreter(path, self.threads)
        inputs = interpreter.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape_signature"]) != 4 or inputs[0]["shape_signature"][3] != 3:
            shapes = [list(i["shape_signature"]) for i in inputs]
            raise UserError(f"{path}: expected one N×H×W×3 input, got {shapes}")
        self._signature = [int(d) for d in inputs[0]["shape_signature"]]
        self.any_size = self._signature[1] < 0 and self._signature[2] < 0  # -1: a free dimension
        self.input_size = fixed_or_requested_size(path, self._signature[1], self._signature[2], size)
        self._interpreters: OrderedDict[tuple[int, int], tuple] = OrderedDict()
        self._interpreter_for(self.input_size, interpreter)

    def _interpreter_for(self, shape: tuple[int, int], interpreter=None) -> tuple:
        """(interpreter, input detail, output detail) allocated for one 1×H×W×3 input."""
        if shape not in self._interpreters:
            if len(self._interpreters) >= INTERPRETERS_KEPT:
                self._interpreters.popitem(last=False)
            if interpreter is None:
                interpreter = open_interpreter(self.path, self.threads)
            detail = interpreter.get_input_details()[0]
            if self._signature[0] != 1 or tuple(self._signature[1:3]) != shape:
                interpreter.resize_tensor_input(detail["index"], [1, *shape, 3])
            allocate(interpreter)
            self._interpreters[shape] = (interpreter, interpreter.get_input_details()[0],
                                         interpreter.get_output_details()[0])
        self._interpreters.move_to_end(shape)
        return self._interpreters[shape]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        shape = tuple(batch.shape[1:3])
        if shape != self.input_size and not self.any_size:
            raise UserError(f"{self.path}: takes {self.input_size[0]}×{self.input_size[1]} input only, "
                            f"got {shape[0]}×{shape[1]}")
        interpreter, source, result = self._interpreter_for(shape)
        out = np.empty(batch.shape[:3], dtype=np.float32)
        for i in range(len(batch)):
            interpreter.set_tensor(source["index"], quantize(batch[i : i + 1], source))
            interpreter.invoke()
            out[i] = dequantize(interpreter.get_tensor(result["index"]), result)[0, ..., 0]
        return out
