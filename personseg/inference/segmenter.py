"""Segmenter: any image in, person probabilities out at that image's own resolution.

All pre- and post-processing lives here, so every runtime (Keras, ONNX, TFLite) sees exactly the
same input and returns comparable maps: convert to RGB, letterbox into the model's input (its
square, or with `framing="fit"` a canvas shaped like the photo at the same pixel cost, see
`personseg.inference.letterbox`; by default the framing the model file records), run the
backend, crop the padding and resize back.
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
from personseg.inference.letterbox import (
    AUTO,
    FIT_RUNTIMES,
    FRAMING_CHOICES,
    FRAMINGS,
    Letterbox,
    canvas_for,
    letterbox_batch,
    letterbox_image,
    unletterbox,
)

# a uint8 array, an image file path, the file's bytes, or a PIL image (see files.as_rgb)
ImageInput = np.ndarray | str | os.PathLike | bytes


@dataclass(frozen=True)
class ModelSource:
    """How a model was opened: the reference (`refs.py` grammar), the runtime asked for, options,
    and the framing (so a Ray worker opens it the same way)."""

    ref: str
    backend: str
    options: dict = field(default_factory=dict)
    framing: str = AUTO


def check_framing(framing: str, backend: Backend) -> str:
    """The framing to run: `framing` if it is one of FRAMINGS and this backend can run it (`fit`
    needs a runtime that takes any input size), else OptionError; `auto`: the one the model file
    records (a backend's `framing`, `square` when it has none) where this backend can run it,
    else `square`."""
    if framing == AUTO:
        own = getattr(backend, "framing", "square")
        if own not in FRAMINGS:
            raise UserError(f"{getattr(backend, 'path', 'the model')}: records framing {own!r}; expected "
                            f"one of {', '.join(FRAMINGS)} (pass --framing square or fit to run it anyway)")
        return own if own == "square" or getattr(backend, "any_size", False) else "square"
    if framing not in FRAMINGS:
        raise OptionError("framing", framing, f"choose one of {'|'.join(FRAMING_CHOICES)}")
    if framing == "fit" and not getattr(backend, "any_size", False):
        height, width = backend.input_size
        raise OptionError("framing", framing, f"this model runs only at {height}×{width}; 'fit' needs "
                          f"a runtime that takes any H×W ({FIT_RUNTIMES})")
    return framing


class Segmenter:
    """Wraps a backend (anything with `input_size` and `predict(N×H×W×3 float32) -> N×H×W`).

    `Segmenter("pretrained:fast", runtime="onnx", threads=1)` opens a model by what `open` takes
    (`runtime` is `open`'s `backend`), so the class alone builds one in each Ray Data worker:
    `ds.map_batches(Segmenter, fn_constructor_args=("pretrained:fast",), concurrency=2)`."""

    source: ModelSource | None = None  # set when opened by name (`open`)

    def __init__(self, backend: Backend | str | os.PathLike | ModelRef, tta: bool = False,
                 runtime: str = "auto", framing: str = AUTO, **backend_options):
        if isinstance(backend, (str, os.PathLike, ModelRef)):
            opened = type(self).open(backend, runtime, framing=framing, **backend_options)
            backend, self.source = opened.backend, opened.source
        height, width = (int(v) for v in backend.input_size)
        if height != width:
            raise UserError(f"model input must be square for letterboxing, got {height}×{width}")
        self.backend = backend
        self.size = height  # the square's side; a `fit` canvas has at most size² pixels
        self.framing = check_framing(framing, backend)
        self._asked_framing = framing
        self.tta = tta  # also run the mirrored photo and average (twice the inference time)

    @classmethod
    def open(
        cls, model: str | os.PathLike | ModelRef | None = None, backend: str = "auto", tta: bool = False,
        framing: str = AUTO, **backend_options,
    ) -> Segmenter:
        """Any model by the name users type (`personseg.backends.refs`): a model file,
        `pretrained:NAME` (None: the default packaged model) or `peer:NAME`. `backend`: `keras`,
        `onnx`, `tflite`, `savedmodel`, or `auto` (a file's by its extension; a packaged model's
        ONNX twin when ONNX Runtime is installed). `tta=True` averages each prediction with that
        of the horizontally mirrored photo. `framing`: `auto` (default: the one the model file
        records, `square` when none), `square` or `fit` (a canvas shaped like the photo, no more
        pixels; needs a runtime that takes any input size)."""
        from personseg.pretrained import DEFAULT

        model = f"pretrained:{DEFAULT}" if model is None else model
        seg = cls(load_backend(model, backend, **backend_options), tta=tta, framing=framing)
        seg.source = ModelSource(str(parse_ref(model)), backend, dict(backend_options), seg.framing)
        return seg

    @classmethod
    def from_weights(
        cls, path: str | os.PathLike | ModelRef = "weights.h5", backend: str = "auto", tta: bool = False,
        framing: str = AUTO, **backend_options,
    ) -> Segmenter:
        """`open` with the repository's `weights.h5` as the default."""
        return cls.open(path, backend, tta=tta, framing=framing, **backend_options)

    @classmethod
    def pretrained(
        cls, name: str | None = None, backend: str = "auto", tta: bool = False, framing: str = AUTO,
        **backend_options,
    ) -> Segmenter:
        """A model that ships with the package (`personseg.pretrained.MODELS`; default: the most
        accurate): `open("pretrained:NAME")`."""
        from personseg.pretrained import DEFAULT

        return cls.open(f"pretrained:{name or DEFAULT}", backend, tta=tta, framing=framing, **backend_options)

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

    @property
    def framing_note(self) -> str | None:
        """Said when `auto` cannot run the framing the file records (e.g. a fixed-size export)."""
        recorded = getattr(self.backend, "framing", "square")
        if self._asked_framing != AUTO or recorded == self.framing:
            return None
        return (f"{getattr(self.backend, 'path', 'the model')}: records the {recorded} framing, but this "
                f"runtime takes only {self.size}×{self.size}: running square")

    def canvas(self, height: int, width: int) -> tuple[int, int]:
        """The model input (H, W) a photo of height×width gets under this Segmenter's framing."""
        return canvas_for(height, width, self.size, self.framing)

    def _run(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Letterbox, run and undo; photos that share a canvas shape run as one batch."""
        rgbs = [self._rgb(image) for image in images]
        groups: dict[tuple[int, int], list[int]] = {}
        for index, rgb in enumerate(rgbs):
            groups.setdefault(self.canvas(*rgb.shape[:2]), []).append(index)
        results: list[np.ndarray] = [np.empty(0)] * len(rgbs)
        for canvas, indices in groups.items():
            batch, geometries = letterbox_batch([rgbs[i] for i in indices], canvas)
            for index, prob, geo in zip(indices, self._infer(batch), geometries, strict=True):
                results[index] = np.clip(unletterbox(prob, geo), 0.0, 1.0)
        return results

    def _infer(self, batch: np.ndarray) -> np.ndarray:
        """N×H×W×3 canvases → N×H×W probabilities (with the mirrored pass when `tta`)."""
        probs = np.asarray(self.backend.predict(batch), dtype=np.float32)
        if self.tta:
            mirrored = np.asarray(self.backend.predict(batch[:, :, ::-1]), dtype=np.float32)
            probs = (probs + mirrored[:, :, ::-1]) / 2
        expected = batch.shape[:3]
        if probs.shape != expected:
            raise UserError(f"the model returned shape {probs.shape} for {len(batch)} RGB image(s) of "
                            f"{expected[1]}×{expected[2]}; expected one person probability per pixel, "
                            f"{expected}")
        return probs

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """RGB letterboxed H×W×3 uint8 canvas (this Segmenter's framing) and its geometry."""
        rgb = self._rgb(image)
        return letterbox_image(rgb, self.canvas(*rgb.shape[:2]))

    @staticmethod
    def _rgb(image) -> np.ndarray:
        rgb = as_rgb(image)
        if rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise ValueError(f"empty image of shape {rgb.shape}")
        return rgb
