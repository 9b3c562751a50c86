"""The COCO annotation archive of `personseg download`: fetched, verified, extracted.

An archive counts as complete only when the split's member is there and its data matches its
CRC-32 (read to the end through `zipfile`, which checks it): a download that fails the check is
fetched again (`fetch.Fetcher` retries), and an archive already under OUT/downloads that fails it
(a corrupt copy of the right length) is deleted and fetched again, never kept as complete. A
local archive the user gave that fails it is an error naming it.
"""

from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from personseg.data.fetch import Fetcher, FetchError
from personseg.errors import UserError
from personseg.files import atomic_path
from personseg.progress import progress_bar

CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError)


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def written_annotations(out: str | os.PathLike, split: str, source: str | None) -> list[Path]:
    """The annotation files a download writes under `out` (checked against its inputs first)."""
    out = Path(out)
    written = [out / "annotations" / f"instances_{split}.json"]
    if not (source and not is_url(source) and source.lower().endswith(".json")):
        written.append(out / "downloads" / f"instances_{split}.json")
    return written


def member(archive: Path, name: str) -> str | None:
    """The archive's member called `name` (in any folder), None if absent or not a zip."""
    if not archive.is_file() or not zipfile.is_zipfile(archive):
        return None
    try:
        with zipfile.ZipFile(archive) as zf:
            return next((m for m in zf.namelist() if Path(m).name == name), None)
    except CORRUPT:
        return None


def archive_problem(archive: Path, name: str) -> str | None:
    """What is wrong with `archive` as the source of `name`: not a zip, no such member, or a
    member whose data fails its CRC; None when it is whole."""
    if not zipfile.is_zipfile(archive):
        return "not a zip archive"
    found = member(archive, name)
    if found is None:
        return f"the archive has no {name}"
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(found) as src:
            while src.read(1 << 20):  # zipfile checks the CRC-32 at the end of the member
                pass
    except CORRUPT as exc:
        return f"the archive is corrupt ({name}: {exc})"
    return None


def _fetch(source: str, archive: Path, name: str, fetcher: Fetcher) -> None:
    print(f"downloading {source}")
    with progress_bar(desc=archive.name, unit="B", unit_scale=True, unit_divisor=1024,
                      dynamic_ncols=True) as bar:
        try:
            fetcher.fetch(source, archive, check=lambda tmp: archive_problem(tmp, name), progress=bar)
        except FetchError as exc:
            raise UserError(f"{source}: {exc}") from None


def _extract(archive: Path, name: str, extracted: Path) -> None:
    """Extract the member atomically; CORRUPT propagates (nothing is left under `extracted`)."""
    with zipfile.ZipFile(archive) as zf, zf.open(member(archive, name)) as src, \
            atomic_path(extracted) as tmp, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def split_annotations(source: str, out: Path, split: str, fetcher: Fetcher) -> Path:
    """The split's instances JSON: `source` is the archive's URL, a local copy of it, or a JSON."""
    name = f"instances_{split}.json"
    extracted = out / "downloads" / name
    if is_url(source):
        archive = out / "downloads" / (Path(urlsplit(source).path).name or "annotations.zip")
        if member(archive, name) is None:
            _fetch(source, archive, name, fetcher)
        if extracted.is_file():
            return extracted
        try:
            _extract(archive, name, extracted)
        except CORRUPT as exc:  # kept from an earlier run but damaged: fetch it again, verified
            print(f"{archive}: corrupt ({exc}); deleted, downloading it again")
            archive.unlink()
            _fetch(source, archive, name, fetcher)
            _extract(archive, name, extracted)
        return extracted
    archive = Path(source)
    if not archive.is_file():
        raise UserError(f"{archive}: annotations file not found")
    if archive.suffix.lower() == ".json":
        return archive
    if not extracted.is_file():
        problem = archive_problem(archive, name)
        if problem:
            raise UserError(f"{archive}: {problem}")
        _extract(archive, name, extracted)
    return extracted
