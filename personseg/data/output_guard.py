"""Inputs are never written: the one check every command makes, before any work, that no file it
would write is a file it reads.

`check_outputs(reads, writes, write_folders)` compares paths resolved through symlinks and by
inode (hard links, bind mounts):

- an output file may not be an input file;
- an output file may not be an image inside an input folder (it would replace a photo or mask,
  or be read as one by the next run);
- an output folder may not be an input folder or an input file.

The command line declares what each command reads and writes (`personseg.cli.guard`) and calls
this for every command; `check_prepare_outputs` adds the prepared layout's own folders for
`prepare` and `prepare-folder`, which know every file they will write.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from personseg.data.dataset_layout import manifest_path, split_dirs
from personseg.disk import check_writable_folder
from personseg.errors import UserError
from personseg.files import PHOTO_EXTENSIONS

# (what the user typed, e.g. "--weights", and the path)
Labelled = Iterable[tuple[str, "str | os.PathLike"]]


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """`a` and `b` are one file: the same resolved path, or the same inode (hard links)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    key = _inode(a)
    return key is not None and key == _inode(b)


def _same_or_inside(inner: Path, outer: Path) -> bool:
    """`inner` is `outer` or lies inside it (by resolved path, or by inode for bind mounts)."""
    inner_r, outer_r = inner.resolve(), outer.resolve()
    if inner_r == outer_r or outer_r in inner_r.parents:
        return True
    key = _inode(outer)
    return key is not None and any(_inode(p) == key for p in (inner, *inner_r.parents))


def check_outputs(reads: Labelled, writes: Labelled = (), write_folders: Labelled = ()) -> None:
    """Refuse (UserError naming both paths, nothing written) when an output would write over an
    input; see the module docstring for the rules. `reads` may hold files and folders (as found
    on disk; missing ones are skipped: the command names them itself)."""
    files, folders = [], []
    for option, path in reads:
        path = Path(path)
        if path.is_dir():
            folders.append((option, path))
        elif path.exists() or path.is_symlink():
            files.append((option, path))
    for out_option, out in ((o, Path(p)) for o, p in writes):
        for in_option, source in files:
            if same_file(out, source):
                raise UserError(f"{out}: this output ({out_option}) is the input {in_option} {source}; "
                                f"writing it would destroy the input. Choose another {out_option}")
        if out.suffix.lower() in PHOTO_EXTENSIONS:
            for in_option, folder in folders:
                if _same_or_inside(out.parent, folder):
                    raise UserError(f"{out}: this output ({out_option}) is an image inside the input folder "
                                    f"{in_option} {folder}; it would replace or join its images. "
                                    f"Choose a {out_option} outside it")
    for out_option, out in ((o, Path(p)) for o, p in write_folders):
        for in_option, source in [*files, *folders]:
            if same_file(out, source):
                raise UserError(f"{out}: this output folder ({out_option}) is the input {in_option} "
                                f"{source}; choose another {out_option}")


def check_prepare_outputs(out: str | os.PathLike, splits: Iterable[str],
                          input_folders: dict[str, Path], input_files: Iterable[Path],
                          outputs: Iterable[Path]) -> None:
    """A prepare run (prepare, prepare-folder): `--out` must be a folder (or not exist yet) that
    can be written, no output folder may be an input folder or hold one, and no output file may
    be an input file. `input_folders` maps an option (`--images`) to its folder; `input_files`
    are every source file; `outputs` every file the run would write."""
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
