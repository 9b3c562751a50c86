"""What each command reads and writes, checked by `data.output_guard` before the command runs.

Every command module declares its path options in `PATHS` (flag dest → `READ`, `READ_ROOT`,
`WRITE`, `WRITE_FOLDER`, `DERIVED` or `NOT_A_PATH`) and, for files it writes under names it makes itself
(`download`'s annotation file, `curves`' default figure), `derived_paths(args)`. Every option
that takes a text value must be declared (`tests/test_output_guard.py` walks them all), so a new
command or flag cannot skip the check. `personseg.cli.main` calls `check_command` for every
command, before it runs. Commands take the roles from `cli.options` (they import no other cli module).

A READ value is a path, a glob pattern, `NAME=PATH` (bench), `ROOT[:SPLIT][@WEIGHT]` (data
roots) or a name that is no path at all (`pretrained:unet`, a URL, a colour): whatever of it
exists on disk is an input. A READ_ROOT value is a dataset root (`ROOT[:SPLIT][@WEIGHT]`): what
is read of it is its `images/` and `masks/` folders and manifests (or the folder itself when it
is a plain folder of photos), so a figure or CSV beside them is not refused.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path
from types import ModuleType

from personseg.data.output_guard import check_outputs

READ, READ_ROOT, WRITE, WRITE_FOLDER = "read", "read-root", "write", "write-folder"
DERIVED, NOT_A_PATH = "derived", "not-a-path"
ROLES = (READ, READ_ROOT, WRITE, WRITE_FOLDER, DERIVED, NOT_A_PATH)
Paths = tuple[list[tuple[str, Path]], list[tuple[str, Path]], list[tuple[str, Path]]]


def text_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options and positionals that take free text (anything that could be a path)."""
    return [action for action in parser._actions
            if action.nargs != 0 and action.choices is None and action.type in (None, str)
            and action.dest not in ("help", "command")]


def _candidates(value: str) -> list[Path]:
    """The paths a READ value may name (see the module docstring), existing ones only."""
    if "://" in value:
        return []
    texts = {value, value.partition("=")[2] if "=" in value else value}
    for text in list(texts):
        root = text.rsplit("@", 1)[0]
        texts |= {root, root.rsplit(":", 1)[0]}
    found: list[Path] = []
    for text in texts:
        if not text:
            continue
        if set("*?[") & set(text):
            found += [Path(p) for p in glob.glob(text, recursive=True)]
        elif Path(text).exists() or Path(text).is_symlink():
            found.append(Path(text))
    return found


def _root_parts(value: str) -> list[Path]:
    """What is read of a dataset root: images/, masks/ and manifests, or the plain folder."""
    parts: list[Path] = []
    for root in (p for p in _candidates(value) if p.is_dir()):
        inside = [root / "images", root / "masks"]
        found = [p for p in inside if p.is_dir()] + sorted(root.glob("manifest_*.csv"))
        parts += found or [root]
    return parts


def _flag(dest: str, positional: dict[str, str]) -> str:
    """How the user typed it: `--csv`, or a positional's metavar (`IN`, `INPUT`)."""
    return positional[dest] if dest in positional else f"--{dest.replace('_', '-')}"


def command_paths(module: ModuleType, parser: argparse.ArgumentParser | None,
                  args: argparse.Namespace) -> Paths:
    """(reads, writes, write_folders) of one parsed command line, each as (flag, path)."""
    declared: dict[str, str] = getattr(module, "PATHS", {})
    positional = {a.dest: str(a.metavar or a.dest.upper()) for a in parser._actions
                  if not a.option_strings} if parser else {}
    reads, writes, folders = [], [], []
    for dest, role in declared.items():
        value = getattr(args, dest, None)
        if value is None or role in (DERIVED, NOT_A_PATH):
            continue
        values = value if isinstance(value, list) else [value]
        flag = _flag(dest, positional)
        for item in values:
            if role == READ:
                reads += [(flag, path) for path in _candidates(str(item))]
            elif role == READ_ROOT:
                reads += [(flag, path) for path in _root_parts(str(item))]
            elif role == WRITE:
                writes.append((flag, Path(item)))
            else:
                folders.append((flag, Path(item)))
    derived = getattr(module, "derived_paths", None)
    if derived is not None:
        more = derived(args)
        reads, writes, folders = reads + more[0], writes + more[1], folders + more[2]
    return reads, writes, folders


def check_command(module: ModuleType, parser: argparse.ArgumentParser | None,
                  args: argparse.Namespace) -> None:
    """Refuse the command line (UserError) when a file it writes is one it reads."""
    check_outputs(*command_paths(module, parser, args))
