"""Average the weights of several trained models of one architecture (a "model soup", Wortsman et
al. 2022): runs fine-tuned from the same initialisation usually average into a model at least as
good as the best of them, at no inference cost.

    .venv/bin/python scripts/average_weights.py runs/a/best.keras runs/b/best.keras \\
        --size 256 --out weights.h5

Every weight is averaged, BatchNorm statistics included; the result is written as a plain
fixed-size Keras model (like a run's `model.h5`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def average(paths: list[Path], size: int):
    """The models in `paths` averaged into one, rebuilt at a size×size input."""
    from personseg.errors import UserError
    from personseg.models.loading import at_size, load_keras_model

    models = [load_keras_model(path) for path in paths]
    shapes = [[w.shape for w in model.get_weights()] for model in models]
    for path, shape in zip(paths[1:], shapes[1:], strict=True):
        if shape != shapes[0]:
            raise UserError(f"{path}: not the architecture of {paths[0]} (its weights differ in shape)")
    mean = [np.mean(group, axis=0) for group in zip(*(m.get_weights() for m in models), strict=True)]
    soup = at_size(models[0], size)
    soup.set_weights(mean)
    return soup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help=".keras checkpoints or .h5 models")
    parser.add_argument("--size", type=int, required=True, help="input size of the written model")
    parser.add_argument("--out", type=Path, required=True, help="the averaged model (.h5)")
    args = parser.parse_args()

    from personseg.files import atomic_path

    soup = average(args.models, args.size)
    with atomic_path(args.out) as tmp:
        soup.save(tmp)
    print(f"wrote {args.out}: the average of {len(args.models)} models at {args.size}×{args.size}")


if __name__ == "__main__":
    main()
