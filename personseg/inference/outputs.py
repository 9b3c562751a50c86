"""Where inference outputs go: `<name>_<kind>.<ext>` in one folder, a distinct name per input,
and the guard that refuses to write over an input file.

`<name>` is the input's stem, or its path relative to the colliding inputs' common folder
(`a__photo`, `b__photo`) when two inputs share a stem, so nothing is silently overwritten.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from personseg.errors import OptionError, UserError
from personseg.inference.render import KINDS


@dataclass(frozen=True)
class Item:
    """One input file and the base name its outputs get."""

    path: Path
    name: str
    video: bool


def parse_kinds(text: str) -> list[str]:
    """`mask,overlay` → ["mask", "overlay"], with a clear error for unknown names."""
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise OptionError("save", text, f"choose one or more of {','.join(KINDS)}")
    return list(dict.fromkeys(kinds))


def output_names(paths: list[Path]) -> list[str]:
    """A distinct output base name per input: the stem, or a relative path when stems collide."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, path in enumerate(paths):
        groups[path.stem].append(i)
    names = [path.stem for path in paths]
    for indices in groups.values():
        if len(indices) < 2:
            continue
        resolved = [paths[i].resolve() for i in indices]
        base = Path(os.path.commonpath([p.parent for p in resolved]))
        relative = [p.relative_to(base) for p in resolved]
        candidates = ["__".join(r.with_suffix("").parts) for r in relative]
        if len(set(candidates)) < len(candidates):  # same folder, different extensions
            candidates = ["__".join(r.parts).replace(".", "_") for r in relative]
        for i, candidate in zip(indices, candidates, strict=True):
            names[i] = candidate
    seen: dict[str, int] = {}
    for i, name in enumerate(names):  # a rewritten name can still meet a real stem: number it
        count = seen.get(name, 0)
        seen[name] = count + 1
        if count:
            names[i] = f"{name}-{count + 1}"
    return names


def output_path(out_dir: Path, item: Item, kind: str) -> Path:
    return out_dir / f"{item.name}_{kind}{'.mp4' if item.video else KINDS[kind].suffix}"


def frames_dir(out_dir: Path, item: Item) -> Path:
    return out_dir / f"{item.name}_frames"


def check_no_input_overwritten(items: list[Item], out_dir: Path, kinds: list[str]) -> None:
    """Refuse before doing anything if an output file would replace one of the inputs."""
    inputs = {item.path.resolve() for item in items}
    for item in items:
        for kind in kinds:
            target = output_path(out_dir, item, kind).resolve()
            if target in inputs:
                raise UserError(
                    f"{target}: output of {item.path} would overwrite an input file; "
                    "choose another output folder"
                )
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: output folder exists and is not a folder")
