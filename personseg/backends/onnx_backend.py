"""ONNX Runtime backend for `personseg export --format onnx` files (NHWC float input).

A file exported with a free input size (`--dynamic`) takes any H×W (`any_size`). ONNX Runtime
ran such a graph 12–25% slower than one with fixed shapes (the fast model, probe runs), so each
input shape gets its own session with the free dimensions pinned
(`add_free_dimension_override_by_name`), opened on first use and kept for the last few shapes.
The batch size is pinned too: pinning only H and W left the graph 6–10% slower than the fixed
export (batch 8 / batch 1, one probe run), pinning all three matched it; a new shape costs a
session (~30 ms for the fast model). A free-size export of a fixed-size model records that size
(metadata `personseg.size`), which is then its default input size (for `fit`: its pixel budget);
the framing it runs best in is read from its metadata too (`personseg.backends.metadata`).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from personseg.backends.metadata import FRAMING_KEY, TRAINED_SIZE_KEY, as_framing
from personseg.backends.runtime import fixed_or_requested_size, physical_cores, require
from personseg.errors import UserError

SESSIONS_KEPT = 16  # (batch, H, W) shapes with a pinned session: a video or a `square` folder needs 2


def open_session(path: str | Path, threads: int | None = None, pinned: dict[str, int] | None = None):
    """An InferenceSession on `path` with every graph optimisation on and `threads` intra-op
    threads (default: physical cores), free dimensions pinned as `pinned` says (name → value);
    UserError when it is not an ONNX file."""
    ort = require("onnxruntime", f"{path}: the onnx backend")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or physical_cores()
    options.inter_op_num_threads = 1  # one chain of convolutions: nothing to run in parallel
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    for name, value in (pinned or {}).items():
        options.add_free_dimension_override_by_name(name, value)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types per failure
        raise UserError(f"{path}: cannot load as an ONNX model ({exc})") from exc


class OnnxBackend:
    """InferenceSession with every graph optimisation on and one intra-op thread per core.

    `threads` overrides the thread count (e.g. 1 when running several processes side by side).
    """

    def __init__(self, path: str | Path, size: int | None = None, threads: int | None = None):
        self.path = path
        self.session = open_session(path, threads)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[3] != 3:
            raise UserError(f"{path}: expected one N×H×W×3 input, got {[i.shape for i in inputs]}")
        self.threads = threads or physical_cores()
        self._input, self._output = inputs[0].name, outputs[0].name
        self._dims = inputs[0].shape[:3]  # ints where fixed, names (or None) where free
        height, width = self._dims[1:3]
        free = not isinstance(height, int) and not isinstance(width, int)
        self.any_size = free and (height != width or not height)  # one name for both: H == W only
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.framing = as_framing(metadata.get(FRAMING_KEY))  # the framing it runs best in
        if free and size is None:  # a fixed model exported free-size says its own size
            size = int(metadata.get(TRAINED_SIZE_KEY, 0)) or None
        self.input_size = fixed_or_requested_size(path, self._dims[1], self._dims[2], size)
        names = [d for d in self._dims if isinstance(d, str) and d]  # free dimensions to pin by
        # pinned sessions only for a free-size graph (a fixed H×W with a free batch runs at full
        # speed as it is), and only when each free dimension has a name of its own
        self._pin = self.any_size and len(set(names)) == len(names)
        self._pinned: OrderedDict[tuple[int, ...], object] = OrderedDict()

    def _session_for(self, shape: tuple[int, ...]):
        """The session for an N×H×W input: one with those free dimensions pinned, when they
        have names to pin by (else the file's own session)."""
        if not self._pin:
            return self.session
        if shape not in self._pinned:
            if len(self._pinned) >= SESSIONS_KEPT:
                self._pinned.popitem(last=False)
            free = {d: v for d, v in zip(self._dims, shape, strict=True) if isinstance(d, str) and d}
            self._pinned[shape] = open_session(self.path, self.threads, free)
        self._pinned.move_to_end(shape)
        return self._pinned[shape]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        session = self._session_for(tuple(batch.shape[:3]))
        return np.asarray(session.run([self._output], {self._input: batch})[0], dtype=np.float32)[..., 0]
