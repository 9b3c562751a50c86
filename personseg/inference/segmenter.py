"""Segmenter: any image in, person probabilities out at that image's own resolution.

All pre- and post-processing lives here, so every runtime (Keras, ONNX, TFLite) sees exactly the
same input and returns comparable maps: convert to RGB, letterbox into the model's square input
(the same framing training validation uses), run the backend, crop the padding and resize back.
A Segmenter opened by name remembers it (`source`), so other processes can open the same model;
built from a name it is a Ray Data callable class (`__call__` on a batch's `image` column).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from personseg.backends import Backend, load_backend
from personseg.backends.refs import ModelRef, parse_ref
from personseg.errors import OptionError, UserError
from personseg.files import as_rgb
from personseg.inference.letterbox import Letterbox, letterbox_batch, letterbox_image, unletterbox

# a uint8 array, an image file path, the file's bytes, or a PIL image (see files.as_rgb)
ImageInput = np.ndarray | str | os.PathLike | bytes


@dataclass(frozen=True)
class ModelSource:
    """How a model was opened: the reference (`refs.py` grammar), the runtime asked for, options."""

    ref: str
    backend: str
    options: dict = field(default_factory=dict)


class Segmenter:
    """Wraps a backend (anything with `input_size` and `predict(N×S×S×3 float32) -> N×S×S`).

    `Segmenter("pretrained:fast", runtime="onnx", threads=1)` opens a model by what `open` takes
    (`runtime` is `open`'s `backend`), so the class alone builds one in each Ray Data worker:
    `ds.map_batches(Segmenter, fn_constructor_args=("pretrained:fast",), concurrency=2)`."""

    source: ModelSource | None = None  # set when opened by name (`open`)

    def __init__(self, backend: Backend | str | os.PathLike | ModelRef, tta: bool = False,
                 runtime: str = "auto", **backend_options):
        if isinstance(backend, (str, os.PathLike, ModelRef)):
            opened = type(self).open(backend, runtime, **backend_options)
            backend, self.source = opened.backend, opened.source
        height, width = (int(v) for v in backend.input_size)
        if height != width:
            raise UserError(f"model input must be square for letterboxing, got {height}×{width}")
        self.backend = backend
        self.size = height
        self.tta = tta  # also run the mirrored photo and average (twice the inference time)

    @classmethod
    def open(
        cls, model: str | os.PathLike | ModelRef | None = None, backend: str = "auto", tta: bool = False,
        **backend_options,
    ) -> Segmenter:
        """Any model by the name users type (`personseg.backends.refs`): a model file,
        `pretrained:NAME` (None: the default packaged model) or `peer:NAME`. `backend`: `keras`,
        `onnx`, `tflite`, `savedmodel`, or `auto` (a file's by its extension; a packaged model's
        ONNX twin when ONNX Runtime is installed). `tta=True` averages each prediction with that
        of the horizontally mirrored photo."""
        from personseg.pretrained import DEFAULT

        model = f"pretrained:{DEFAULT}" if model is None else model
        seg = cls(load_backend(model, backend, **backend_options), tta=tta)
        seg.source = ModelSource(str(parse_ref(model)), backend, dict(backend_options))
        return seg

    @classmethod
    def from_weights(
        cls, path: str | os.PathLike | ModelRef = "weights.h5", backend: str = "auto", tta: bool = False,
        **backend_options,
    ) -> Segmenter:
        """`open` with the repository's `weights.h5` as the default."""
        return cls.open(path, backend, tta=tta, **backend_options)

    @classmethod
    def pretrained(
        cls, name: str | None = None, backend: str = "auto", tta: bool = False, **backend_options
    ) -> Segmenter:
        """A model that ships with the package (`personseg.pretrained.MODELS`; default: the most
        accurate): `open("pretrained:NAME")`."""
        from personseg.pretrained import DEFAULT

        return cls.open(f"pretrained:{name or DEFAULT}", backend, tta=tta, **backend_options)

    def predict(self, image: ImageInput) -> np.ndarray:
        """An image (uint8 H×W[×1|3|4] array, file path, file bytes or PIL image) → float32 H×W
        person probabilities in [0, 1] at the image's own size."""
        return self.predict_batch([image], batch_size=1)[0]

    def predict_batch(self, images: Sequence[ImageInput], batch_size: int = 8) -> list[np.ndarray]:
        """Probabilities for many images of any sizes, run `batch_size` at a time."""
        return list(self.iter_predict(images, batch_size))

    def iter_predict(self, images: Iterable[ImageInput], batch_size: int = 8) -> Iterator[np.ndarray]:
        """Like `predict_batch`, but lazy: only one batch of inputs is held at a time (video)."""
        if batch_size < 1:
            raise OptionError("batch_size", batch_size, "must be at least 1")
        chunk: list[ImageInput] = []
        for image in images:
            chunk.append(image)
            if len(chunk) == batch_size:
                yield from self._run(chunk)
                chunk = []
        if chunk:
            yield from self._run(chunk)

    def mask(self, image: ImageInput, threshold: float = 0.5) -> np.ndarray:
        """Boolean H×W person mask (probability ≥ threshold)."""
        return self.predict(image) >= threshold

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A Ray Data batch (dict of columns) with its `image` column (arrays, paths or bytes)
        segmented: the same batch plus `probs`, float32 H×W per image at its own size."""
        probs = self.predict_batch(list(batch["image"]), batch_size=max(1, len(batch["image"])))
        if probs and all(p.shape == probs[0].shape for p in probs):
            return {**batch, "probs": np.stack(probs)}
        column = np.empty(len(probs), dtype=object)  # photos of different sizes: one array each
        for i, prob in enumerate(probs):
            column[i] = prob
        return {**batch, "probs": column}

    def _run(self, images: list[np.ndarray]) -> list[np.ndarray]:
        batch, geometries = letterbox_batch([self._rgb(image) for image in images], self.size)
        probs = np.asarray(self.backend.predict(batch), dtype=np.float32)
        if self.tta:
            mirrored = np.asarray(self.backend.predict(batch[:, :, ::-1]), dtype=np.float32)
            probs = (probs + mirrored[:, :, ::-1]) / 2
        expected = (len(images), self.size, self.size)
        if probs.shape != expected:
            raise UserError(f"the model returned shape {probs.shape} for {len(images)} RGB image(s) of "
                            f"{self.size}×{self.size}; expected one person probability per pixel, {expected}")
        return [np.clip(unletterbox(p, geo), 0.0, 1.0) for p, geo in zip(probs, geometries, strict=True)]

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """RGB letterboxed S×S×3 uint8 canvas and its geometry (to undo it later)."""
        return letterbox_image(self._rgb(image), self.size)

    @staticmethod
    def _rgb(image) -> np.ndarray:
        rgb = as_rgb(image)
        if rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise ValueError(f"empty image of shape {rgb.shape}")
        return rgb
