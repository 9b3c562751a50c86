"""What a prepare run may write, checked before it writes anything: `--out` must be a folder
(or not exist yet) that can be written, no output folder may be an input folder or hold one,
and no output file may be an input file (same inode: hard links and symlinks included).

A tool must never write over its inputs: `--images ROOT/images/train --out ROOT` would otherwise
replace the source photos with their prepared copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from personseg.data.dataset_layout import manifest_path, split_dirs
from personseg.disk import check_writable_folder
from personseg.errors import UserError


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _same_or_inside(inner: Path, outer: Path) -> bool:
    """`inner` is `outer` or lies inside it (by resolved path, or by inode for bind mounts)."""
    inner_r, outer_r = inner.resolve(), outer.resolve()
    if inner_r == outer_r or outer_r in inner_r.parents:
        return True
    key = _inode(outer)
    return key is not None and any(_inode(p) == key for p in (inner, *inner_r.parents))


def check_prepare_outputs(out: str | os.PathLike, splits: Iterable[str],
                          input_folders: dict[str, Path], input_files: Iterable[Path],
                          outputs: Iterable[Path]) -> None:
    """Refuse (UserError, nothing written) when the run would write over its inputs or cannot
    write at all. `input_folders` maps an option (`--images`) to its folder; `input_files` are
    every source file; `outputs` every file the run would write."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out exists and is not a folder")
    splits = list(splits)
    for option, folder in input_folders.items():
        for split in splits:
            for written in split_dirs(out, split):
                if _same_or_inside(folder, written):
                    raise UserError(
                        f"{written}: the output folder is {option} {folder} (or holds it); prepared "
                        "files would replace the input files. Choose an --out outside the input folders"
                    )
    outputs = [*outputs, *(manifest_path(out, split) for split in splits)]
    existing = {key: path for path in outputs if (key := _inode(path)) is not None}
    if existing:  # a fresh output cannot be an input; only files already there can
        for source in input_files:
            key = _inode(source)
            if key in existing:
                raise UserError(f"{existing[key]}: this output file is the input {source}; "
                                "writing it would destroy the input. Choose another --out")
    check_writable_folder(out)
