"""The manifest of a prepared split (`ROOT/manifest_<split>.csv`): one row per image/mask pair
with its size, person and crowd counts and the share of person pixels. Read, written atomically.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import manifest_path
from personseg.files import write_text

__all__ = ["MANIFEST_COLUMNS", "Row", "manifest_path", "read_manifest", "row_for", "write_manifest"]

MANIFEST_COLUMNS = ("file", "width", "height", "persons", "crowds", "foreground")


@dataclass(frozen=True)
class Row:
    """One manifest line."""

    file: str
    width: int
    height: int
    persons: int | None
    crowds: int | None
    foreground: float


def row_for(file: str, mask: np.ndarray, persons: int | None = None, crowds: int | None = None) -> Row:
    """Manifest row of one output pair from its final 0/255 mask."""
    height, width = mask.shape
    foreground = float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
    return Row(file, width, height, persons, crowds, foreground)


def read_manifest(path: Path) -> dict[str, Row]:
    """Rows of an existing manifest by file name; an unreadable manifest is ignored (rebuilt)."""
    if not path.is_file():
        return {}
    rows: dict[str, Row] = {}
    try:
        with open(path, newline="") as f:
            for rec in csv.DictReader(f):
                rows[rec["file"]] = Row(
                    rec["file"], int(rec["width"]), int(rec["height"]),
                    int(rec["persons"]) if rec["persons"] else None,
                    int(rec["crowds"]) if rec["crowds"] else None,
                    float(rec["foreground"]),
                )
    except (KeyError, ValueError, TypeError, csv.Error):
        return {}
    return rows


def write_manifest(path: Path, rows: Iterable[Row]) -> None:
    """Atomically write the manifest, sorted by file name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in sorted(rows, key=lambda r: r.file):
        writer.writerow([row.file, row.width, row.height,
                         "" if row.persons is None else row.persons,
                         "" if row.crowds is None else row.crowds, f"{row.foreground:.6f}"])
    write_text(path, buffer.getvalue())
