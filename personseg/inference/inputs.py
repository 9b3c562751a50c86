"""Input discovery for inference: files, folders (searched recursively) and glob patterns →
the image and video files to segment, in the order given, each once.

Missing paths and patterns that match nothing are failures the caller reports; files in a
folder that are not images are noted and ignored; the output folder is never read as input.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from personseg.files import PHOTO_EXTENSIONS, is_image_file

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
GLOB_CHARS = set("*?[")


@dataclass
class Inputs:
    """What `collect_inputs` found: the files, the inputs that failed, and notes on ignored files."""

    files: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _walk_images(folder: Path, exclude: Path | None, notes: list[str]) -> Iterator[Path]:
    """Image files under `folder` (recursive, sorted), skipping hidden files and the output folder."""
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and (exclude is None or (here / d).resolve() != exclude)
        )
        for filename in sorted(filenames):
            path = here / filename
            if filename.startswith("."):
                continue
            if is_image_file(path, PHOTO_EXTENSIONS):  # GIFs: one rule, named or found
                yield path
            else:
                hint = "; pass videos by name" if is_video(path) else ""
                notes.append(f"{path}: not an image file, ignored{hint}")


def collect_inputs(inputs: list[str], out_dir: Path | None = None) -> Inputs:
    """Expand files, folders and glob patterns into unique files, in the order given."""
    exclude = out_dir.resolve() if out_dir is not None else None
    result = Inputs()
    found: dict[Path, Path] = {}  # resolved -> as given, keeps first occurrence and order

    def add_any(path: Path) -> None:
        for file in _walk_images(path, exclude, result.notes) if path.is_dir() else [path]:
            found.setdefault(file.resolve(), file)

    for spec in inputs:
        path = Path(spec)
        if path.exists():
            add_any(path)
        elif GLOB_CHARS & set(spec):
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                result.failures.append(f"{spec}: no files match this pattern")
            for match in matches:
                add_any(Path(match))
        else:
            result.failures.append(f"{spec}: no such file or folder")
    result.files = list(found.values())
    return result
