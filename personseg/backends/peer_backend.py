"""Running one peer model (a `peers.PeerSpec` and its file) as a backend: RGB 0–255 batches in,
person probabilities out, so `Segmenter` letterboxes for it exactly as for our models.

The pre- and post-processing here is the peer's own (its spec says which); the runtime settings
are ours (`open_interpreter` / `open_session`, one thread per physical core by default), so a
speed comparison is about the networks. Models with a batch-1 input run one image at a time.
`open_peer(name)` finds a peer's file (`peers.find_peer`) and opens it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from personseg.backends.peers import PEERS, PeerSpec, find_peer
from personseg.backends.refs import parse_ref
from personseg.backends.runtime import physical_cores
from personseg.errors import OptionError, UserError


def softmax_channel(logits: np.ndarray, channel: int, axis: int) -> np.ndarray:
    """softmax(logits) along `axis`, at index `channel` (numerically stable)."""
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return np.take(shifted, channel, axis=axis) / shifted.sum(axis=axis)


def _cast(x: np.ndarray, dtype) -> np.ndarray:
    """Float input values → the model's input dtype (rounded and clipped for an integer one)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(x), info.min, info.max).astype(dtype)
    return x.astype(dtype)


class _LiteRT:
    """A LiteRT model that reads `tensor` (any tensor, by name) or its first output."""

    def __init__(self, path: Path, threads: int, tensor: str | None):
        from personseg.backends.tflite_backend import allocate, dequantize, open_interpreter

        self._dequantize = dequantize
        self.interpreter = open_interpreter(path, threads, preserve_all_tensors=tensor is not None)
        allocate(self.interpreter)
        self._input = self.interpreter.get_input_details()[0]
        if tensor is None:
            self._output = self.interpreter.get_output_details()[0]
        else:
            named = [d for d in self.interpreter.get_tensor_details() if d["name"] == tensor]
            if not named:
                raise UserError(f"{path}: no tensor named {tensor!r} in this model")
            self._output = named[0]
        self.input_shape = tuple(int(d) for d in self._input["shape"])
        self.batch = 1  # LiteRT peers are all batch-1 models

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self._input["index"], _cast(x, self._input["dtype"]))
        self.interpreter.invoke()
        return self._dequantize(self.interpreter.get_tensor(self._output["index"]), self._output)


class _Onnx:
    """An ONNX Runtime model's first output for its one input."""

    _DTYPES = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8}

    def __init__(self, path: Path, threads: int):
        from personseg.backends.onnx_backend import open_session

        self.session = open_session(path, threads)
        (model_input,) = self.session.get_inputs()
        self._name, self._output = model_input.name, self.session.get_outputs()[0].name
        self._dtype = self._DTYPES.get(model_input.type, np.float32)
        self.input_shape = tuple(d if isinstance(d, int) else -1 for d in model_input.shape)
        self.batch = self.input_shape[0] if self.input_shape[0] > 0 else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run([self._output], {self._name: _cast(x, self._dtype)})[0],
                          dtype=np.float32)


class PeerBackend:
    """Backend protocol for a peer: `input_size`, `threads`, `predict(N×S×S×3 RGB 0–255)`."""

    def __init__(self, spec: PeerSpec, path: str | Path, threads: int | None = None):
        self.spec, self.path = spec, Path(path)
        self.threads = threads or physical_cores()
        self.input_size = (spec.size, spec.size)
        if spec.runtime == "tflite":
            self._model = _LiteRT(self.path, self.threads, spec.tensor)
        else:
            self._model = _Onnx(self.path, self.threads)
        expected = (3, spec.size, spec.size) if spec.layout == "NCHW" else (spec.size, spec.size, 3)
        if self._model.input_shape[1:] != expected:
            shape = "×".join(map(str, self._model.input_shape))
            raise UserError(f"{self.path}: peer {spec.name} takes N×{'×'.join(map(str, expected))} "
                            f"{spec.layout} input; this file takes {shape}")

    def preprocess(self, batch: np.ndarray) -> np.ndarray:
        """N×S×S×3 RGB 0–255 → what the model is fed (before the cast to its input dtype)."""
        x = np.asarray(batch, dtype=np.float32) * np.float32(self.spec.scale) + np.float32(self.spec.offset)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if self.spec.layout == "NCHW" else x

    def raw(self, batch: np.ndarray) -> np.ndarray:
        """The model's dequantised output (or chosen tensor) for a batch, one image at a time when
        the model takes batch 1."""
        x = self.preprocess(batch)
        if self._model.batch is None or self._model.batch == len(x):
            return self._model(x)
        if self._model.batch != 1:
            raise ValueError(f"{self.path}: model takes batches of {self._model.batch}, got {len(x)}")
        return np.concatenate([self._model(x[i : i + 1]) for i in range(len(x))])

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1:] != (*self.input_size, 3):
            raise ValueError(f"expected N×{self.spec.size}×{self.spec.size}×3, got {batch.shape}")
        out = self.raw(batch)
        axis = 1 if self.spec.layout == "NCHW" else -1
        if self.spec.softmax:
            return softmax_channel(out, self.spec.person, axis).astype(np.float32)
        return np.take(out, self.spec.person, axis=axis).astype(np.float32)


def open_peer(name: str, backend: str | None = None, size: int | None = None, threads: int | None = None,
              peers_dir: str | os.PathLike | None = None) -> PeerBackend:
    """A backend running peer `name` (`peer:NAME` or NAME). `backend`, when given, must be the
    peer's own runtime; `size`, its input size."""
    name = parse_ref(f"peer:{name.removeprefix('peer:')}", "weights", ("peer",)).name
    spec = PEERS[name]
    if backend is not None and backend != spec.runtime:
        raise OptionError("backend", backend, f"peer {name} runs on {spec.runtime}; leave the backend out")
    if size is not None and size != spec.size:
        raise OptionError("size", size, f"peer {name} has a fixed {spec.size}×{spec.size} input")
    return PeerBackend(spec, find_peer(name, peers_dir), threads=threads)
