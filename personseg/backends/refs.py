"""Naming a model: the one grammar every flag and function that takes a model reads.

    FILE               a model file (.h5, .keras, .onnx, .tflite, a SavedModel folder)
    pretrained:NAME    a model the package ships (`personseg.pretrained.MODELS`)
    peer:NAME          a published model run through our code (`personseg.backends.peers.PEERS`)

`parse_ref(text, option)` turns what the user typed into a `ModelRef`; a bad reference is one
`OptionError` naming the parameter (the CLI shows it as its flag: `--init pretrained:nope: ...`)
and saying what it takes. `--weights`, `--init`, `--teacher`, `bench --weights` and `export`
all come through here, each with the kinds it accepts (`init` and `export` need a Keras model).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from personseg.backends.peers import PEERS
from personseg.errors import OptionError

KINDS = ("file", "pretrained", "peer")
KERAS_KINDS = ("file", "pretrained")  # what can be rebuilt, fine-tuned or exported


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference: `kind` (file | pretrained | peer) and `name` (path or NAME)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return self.name if self.kind == "file" else f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        """A short, folder-safe name: the packaged or peer NAME, or the file's stem."""
        return Path(self.name).stem if self.kind == "file" else self.name

    def keras_file(self) -> Path:
        """The Keras model file this names (a packaged model's `.h5`); never a peer."""
        if self.kind == "peer":
            raise ValueError(f"{self}: a peer has no Keras model file")
        if self.kind == "pretrained":
            from personseg.pretrained import model_file

            return model_file(self.name, "keras")
        return Path(self.name)


def expected(kinds: tuple[str, ...]) -> str:
    """What a parameter accepting `kinds` takes, in words: `a model file, pretrained:{unet,...} or ...`."""
    from personseg.pretrained import MODELS

    words = {"file": "a model file", "pretrained": f"pretrained:{{{','.join(MODELS)}}}",
             "peer": f"peer:{{{','.join(PEERS)}}}"}
    shown = [words[k] for k in kinds]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def parse_ref(text: str | os.PathLike | ModelRef, option: str = "weights",
              kinds: tuple[str, ...] = KINDS) -> ModelRef:
    """What `text` names; an OptionError for `option` when it names nothing `kinds` allows."""
    if isinstance(text, ModelRef):
        ref = text
    else:
        prefix, sep, name = str(text).partition(":")
        kind = prefix if sep and prefix in ("pretrained", "peer") else "file"
        ref = ModelRef(kind, name if kind != "file" else str(text))
    if not ref.name:
        problem = "empty model name"
    elif ref.kind not in kinds:
        problem = f"{'a published model' if ref.kind == 'peer' else 'a packaged model'} is not taken here"
    else:
        problem = _unknown(ref)
    if problem:
        raise OptionError(option, str(text), f"{problem}; give {expected(kinds)}")
    return ref


def _unknown(ref: ModelRef) -> str | None:
    """Why a packaged or peer name is not registered (None: it is, or it is a file)."""
    from personseg.pretrained import MODELS

    if ref.kind == "pretrained" and ref.name not in MODELS:
        return "no packaged model of that name"
    if ref.kind == "peer" and ref.name not in PEERS:
        return "no peer of that name"
    return None
