"""Ship a trained model as a packaged one (`pretrained:NAME`): the one command that keeps its three
files in step.

    .venv/bin/python scripts/ship_model.py unet runs/unet-soup.h5 --config runs/unet-ft-s1/config.json

1. checks that the build options (from `--config`, a run's config.json; else the model's current
   `personseg/pretrained/NAME.json`) build exactly the network in FILE;
2. copies FILE to where the repository keeps it (`weights.h5`, `weights/NAME.h5`: the package
   links there, so the file is stored once), recording the framing it runs best in (`--framing`,
   measured: weights/README.md; `personseg.backends.metadata`);
3. writes `personseg/pretrained/NAME.json` (the build options) and exports the ONNX twin
   `personseg/pretrained/NAME.onnx` (free input size, its own size and framing recorded: `fit`
   framing runs on it; parity-checked against the Keras file).

`--dry-run` does step 1 only. Then re-run the accuracy and speed records (weights/README.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from personseg.inference.letterbox import FRAMINGS

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="packaged name (personseg.pretrained.MODELS)")
    parser.add_argument("file", type=Path, help="the trained Keras model (.h5, fixed input size)")
    parser.add_argument("--config", type=Path, help="the run's config.json: its build options")
    parser.add_argument("--framing", choices=FRAMINGS,
                        help="the framing the model runs best in, as measured (weights/README.md): "
                             "what `--framing auto` runs it in; required unless --dry-run")
    parser.add_argument("--dry-run", action="store_true", help="only check; write nothing")
    args = parser.parse_args(argv)

    from personseg.quiet import quiet

    quiet()  # TensorFlow's start-up lines
    from personseg.errors import UserError
    from personseg.files import atomic_path, write_text
    from personseg.pretrained import MODELS, build_options
    from personseg.training.build_check import build_problem
    from personseg.training.config import TrainConfig

    try:
        if args.name not in MODELS:
            raise UserError(f"{args.name}: not a packaged model; choose from {', '.join(MODELS)}")
        import h5py

        if not h5py.is_hdf5(args.file):
            raise UserError(f"{args.file}: not an HDF5 (.h5) model file; ship a run's model.h5")
        if args.framing is None and not args.dry_run:
            raise UserError("--framing: say which framing FILE runs in by default (square or fit), as "
                            "measured for it (weights/README.md)")
        options = TrainConfig.load(args.config).build_options() if args.config else build_options(args.name)
        problem = build_problem(args.file, options)
        if problem:
            raise UserError(problem)
        print(f"{args.file}: built by {json.dumps(options)}")
        if args.dry_run:
            return 0
        from personseg.backends.metadata import set_h5_framing
        from personseg.export.exporter import export_model

        package = REPO / "personseg" / "pretrained"
        target = REPO / MODELS[args.name].repo_file
        with atomic_path(target) as tmp:  # FILE may be the target itself; renamed once the twin is made
            shutil.copyfile(args.file, tmp)
            set_h5_framing(tmp, args.framing)
            # free input size, so `fit` framing runs on ONNX Runtime too; it records size and framing
            result = export_model(tmp, "onnx", dynamic=True, out=package / f"{args.name}.onnx")
        write_text(package / f"{args.name}.json", json.dumps(options, indent=2) + "\n")
        print(f"wrote {target.relative_to(REPO)} ({args.framing} framing), "
              f"personseg/pretrained/{args.name}.json, "
              f"{result.path.relative_to(REPO)} ({result.tolerance.describe()})")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
