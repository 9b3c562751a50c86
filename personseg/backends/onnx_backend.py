"""ONNX Runtime backend for `personseg export --format onnx` files (NHWC float input)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size, physical_cores, require
from personseg.errors import UserError


def open_session(path: str | Path, threads: int | None = None):
    """An InferenceSession on `path` with every graph optimisation on and `threads` intra-op
    threads (default: physical cores); UserError when it is not an ONNX file."""
    ort = require("onnxruntime", f"{path}: the onnx backend")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or physical_cores()
    options.inter_op_num_threads = 1  # one chain of convolutions: nothing to run in parallel
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types per failure
        raise UserError(f"{path}: cannot load as an ONNX model ({exc})") from exc


class OnnxBackend:
    """InferenceSession with every graph optimisation on and one intra-op thread per core.

    `threads` overrides the thread count (e.g. 1 when running several processes side by side).
    """

    def __init__(self, path: str | Path, size: int | None = None, threads: int | None = None):
        self.session = open_session(path, threads)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[3] != 3:
            raise UserError(f"{path}: expected one N×H×W×3 input, got {[i.shape for i in inputs]}")
        self.threads = threads or physical_cores()
        self._input, self._output = inputs[0].name, outputs[0].name
        self.input_size = fixed_or_requested_size(path, inputs[0].shape[1], inputs[0].shape[2], size)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        feed = {self._input: np.ascontiguousarray(batch, dtype=np.float32)}
        return np.asarray(self.session.run([self._output], feed)[0], dtype=np.float32)[..., 0]
