"""`personseg train`: one flag per `personseg.training.TrainConfig` field, made from the field's
type, default and metadata (help, group, choices, metavar), so the config holds every default,
choice and word of help once. Flags left out take the config's defaults (or, with --init, the
architecture of the model it names)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from personseg.cli.options import READ, READ_ROOT, WRITE_FOLDER
from personseg.training.config import TrainConfig

PATHS = {"data": READ_ROOT, "val": READ_ROOT, "out": WRITE_FOLDER, "encoder_weights": READ, "init": READ,
         "teacher": READ, "teacher_cache": WRITE_FOLDER}


def _csv(kind: type):
    def parse(text: str) -> list:
        return [kind(v) for v in text.split(",") if v]

    parse.__name__ = f"comma-separated {kind.__name__}s"  # argparse names it in errors
    return parse


# a field's annotation -> how its flag reads a value
_TYPES = {"int": int, "float": float, "str": str, "list[int]": _csv(int), "list[float]": _csv(float)}


def _shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _add_field(group: argparse._ArgumentGroup, f: dataclasses.Field, default) -> None:
    """One field's flag; its value lands in `args.<field>` only when given (argparse.SUPPRESS)."""
    meta, flag = f.metadata, "--" + f.name.replace("_", "-")
    kind = str(f.type).replace(" | None", "")
    words = meta.get("help", "")
    if default not in (None, dataclasses.MISSING) and not isinstance(default, bool):
        words += f"{'; ' if words else ''}default: {_shown(default)}"
    options = {"dest": f.name, "default": argparse.SUPPRESS,
               "help": argparse.SUPPRESS if meta.get("hidden") else words or None}
    if kind == "bool":
        if default:  # on by default: the flag turns it off
            group.add_argument("--no-" + flag[2:], action="store_false", **options)
        else:
            group.add_argument(flag, action="store_true", **options)
        return
    if kind == "list[str]":
        options["nargs"] = "+"
    else:
        options["type"] = _TYPES[kind]
    group.add_argument(flag, choices=meta.get("choices"), metavar=meta.get("metavar"), **options)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last epoch (config read from the run; "
                        "--epochs may set a new total)")
    defaults = TrainConfig.defaults()
    groups = {"data": p, "model": p.add_argument_group("model"), "training": p.add_argument_group("training")}
    for f in dataclasses.fields(TrainConfig):
        _add_field(groups[f.metadata.get("group", "training")], f, defaults.get(f.name, dataclasses.MISSING))


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's TrainConfig: read from the run folder with --resume, else built from the flags
    given (`TrainConfig.for_run`: the rest from its defaults or the --init model)."""
    from personseg.errors import UserError

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    if "out" not in given:
        raise UserError("--out is required: the run folder")
    if args.resume:
        config = TrainConfig.load(Path(args.out) / "config.json")
        config.out = args.out
        epochs = given.get("epochs", config.epochs)
        if epochs != config.epochs:
            print(f"{args.out}: total epochs {config.epochs} -> {epochs} (cosine schedule rescaled)")
            config = dataclasses.replace(config, epochs=epochs)  # checked like any config
            config.save(Path(args.out) / "config.json")
        return config
    if "data" not in given or "val" not in given:
        raise UserError("--data and --val are required (unless --resume)")
    return TrainConfig.for_run(**given)


def run(args: argparse.Namespace) -> int:
    from personseg.extras import require_tensorflow

    require_tensorflow("personseg train")
    from personseg.training.loop import train

    config = config_from_args(args)
    train(config, resume=args.resume)
    print(f"run folder: {config.out}")
    return 0
