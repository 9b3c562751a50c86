"""`personseg download coco`: the official COCO 2017 annotations, then only the photos a run needs
(a few thousand person photos instead of the 18 GB image archives).

Written under OUT (a rerun skips every file already there and valid, so it resumes):
    downloads/annotations_trainval2017.zip   the official archive (both splits come from it)
    downloads/instances_<split>.json         the split's instances JSON, extracted from it
    images/<split>/<file_name>               each photo, from its `coco_url`, checked: it decodes
                                             and has its annotated width × height
    annotations/instances_<split>.json       the JSON restricted to the photos on disk, ready for
                                             `personseg prepare --annotations … --images …`

Where COCO lives is configurable (flags, or PERSONSEG_COCO_ANNOTATIONS_URL and
PERSONSEG_COCO_IMAGES_URL) for mirrors and for tests against a local server. Photos come over
a thread pool through `personseg.data.fetch` (retries, atomic writes); the archive is verified
by its CRC before it counts as complete (`coco_archive`). Temporary files a killed run left
under OUT are removed at start.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from personseg.data.coco_archive import is_url, split_annotations, written_annotations
from personseg.data.coco_schema import check_schema
from personseg.data.fetch import Fetcher, FetchError, Stopped
from personseg.data.output_guard import check_outputs
from personseg.disk import remove_stale_temps
from personseg.errors import OptionError, UserError
from personseg.files import write_text
from personseg.limits import check_number
from personseg.progress import progress_bar
from personseg.wording import plural

SPLITS = ("train2017", "val2017")
ANNOTATIONS_URL = "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
IMAGES_URL = "http://images.cocodataset.org"
ANNOTATIONS_ENV = "PERSONSEG_COCO_ANNOTATIONS_URL"
IMAGES_ENV = "PERSONSEG_COCO_IMAGES_URL"


@dataclass
class DownloadReport:
    """What a download did: counts for the summary and every photo that failed with its reason."""

    split: str
    annotations: Path
    images: Path
    downloaded: int = 0
    present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def text(self) -> str:
        done = self.downloaded + self.present
        lines = [
            f"{'interrupted' if self.interrupted else 'done'} ({self.split}): {plural(done, 'image')} "
            f"({self.downloaded} downloaded, {self.present} already there), {len(self.failed)} failed; "
            f"{self.seconds:.1f} s",
        ]
        if self.failed:
            lines.append(f"failed {plural(len(self.failed), 'image')} (run again to retry):")
            lines += [f"  {name}: {reason}" for name, reason in sorted(self.failed)]
        lines += [
            f"annotations: {self.annotations} ({plural(done, 'image')})",
            f"images: {self.images}",
            f"next: personseg prepare --annotations {self.annotations} --images {self.images} "
            f"--out data/coco --split {self.split.removesuffix('2017')}",
        ]
        return "\n".join(lines)


def image_problem(path: Path, width: int, height: int) -> str | None:
    """What is wrong with a downloaded photo (unreadable, or not its annotated size), or None."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()  # decodes every pixel: a truncated file fails here
            size = image.size  # as stored (EXIF rotation not applied), like the annotations
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return "not a readable image (corrupt or truncated)"
    if size != (width, height):
        return f"image is {size[0]}×{size[1]} but the annotations say {width}×{height}"
    return None


def image_url(image: dict, base: str, split: str) -> str:
    """The photo's `coco_url` moved onto `base` (a mirror or a test server)."""
    path = urlsplit(image.get("coco_url") or "").path or f"/{split}/{image['file_name']}"
    return base.rstrip("/") + path


def select_images(coco: dict, person_only: bool = False, max_images: int | None = None) -> list[dict]:
    """The split's images by file name: all, or only those with a person annotation; the first N."""
    images = sorted(coco["images"], key=lambda image: image["file_name"])
    if person_only:
        person = {c["id"] for c in coco.get("categories", []) if c.get("name") == "person"}
        if not person:
            raise UserError("annotations: no 'person' category; --person-only needs one")
        with_person = {a["image_id"] for a in coco["annotations"] if a["category_id"] in person}
        images = [image for image in images if image["id"] in with_person]
    return images if max_images is None else images[:max_images]


def restricted(coco: dict, images: list[dict]) -> dict:
    """The COCO JSON cut down to `images` and their annotations (every category kept)."""
    ids = {image["id"] for image in images}
    kept = {key: value for key, value in coco.items() if key not in ("images", "annotations")}
    kept["images"] = images
    kept["annotations"] = [a for a in coco["annotations"] if a["image_id"] in ids]
    return kept


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as file:
            coco = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read annotations ({exc})") from None
    if not isinstance(coco, dict) or not {"images", "annotations"} <= coco.keys():
        raise UserError(f"{path}: not a COCO instances file (no 'images' and 'annotations')")
    coco.setdefault("categories", [])
    check_schema(path, coco)  # list ids would crash the selection; duplicates would mix photos
    return coco


def download_coco(out: str | os.PathLike, split: str, person_only: bool = False,
                  max_images: int | None = None, workers: int = 8, annotations: str | None = None,
                  images_url: str | None = None, retries: int = 3, backoff: float = 1.0) -> DownloadReport:
    """Download a COCO split's annotations and photos into `out` (see the module docstring).

    `annotations`: the archive's URL or a local .zip/.json (default: $PERSONSEG_COCO_ANNOTATIONS_URL,
    else the official archive); `images_url`: the base photos are fetched from (default:
    $PERSONSEG_COCO_IMAGES_URL, else images.cocodataset.org).
    """
    if split not in SPLITS:
        raise OptionError("split", split, f"choose from {', '.join(SPLITS)}")
    limits = (("max_images", max_images, 1), ("workers", workers, 1), ("retries", retries, 0))
    for option, value, least in limits:
        if value is not None and value < least:
            raise OptionError(option, value, f"must be at least {least}")
    check_number("backoff", backoff, 0, 3600)
    from personseg import __version__

    out = Path(out)
    for folder in (out / "downloads", out / "annotations", out / "images" / split):
        for path in remove_stale_temps(folder):
            print(f"note: {path}: removed, a temporary file of a killed run", file=sys.stderr)
    fetcher = Fetcher(retries=retries, backoff=backoff, user_agent=f"personseg/{__version__}")
    source = annotations or os.environ.get(ANNOTATIONS_ENV) or ANNOTATIONS_URL
    check_outputs([("annotations", source)] if not is_url(source) else [],  # the API too
                  [("out", path) for path in written_annotations(out, split, source)])
    base = images_url or os.environ.get(IMAGES_ENV) or IMAGES_URL
    coco = _read_json(split_annotations(source, out, split, fetcher))
    selected = select_images(coco, person_only, max_images)
    folder = out / "images" / split
    report = DownloadReport(split, out / "annotations" / f"instances_{split}.json", folder)

    def get(image: dict) -> bool:
        """True when the photo was already there and valid, False when downloaded now."""
        dest = folder / Path(image["file_name"]).name
        check = partial(image_problem, width=image["width"], height=image["height"])
        if dest.is_file() and check(dest) is None:
            return True
        fetcher.fetch(image_url(image, base, split), dest, check)
        return False

    on_disk: dict[str, dict] = {}
    start = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {}
    try:
        futures = {pool.submit(get, image): image for image in selected}
        with progress_bar(total=len(selected), desc=f"download {split}", unit="img",
                          dynamic_ncols=True) as bar:
            for future in as_completed(futures):
                _count(report, on_disk, futures[future], future)
                bar.update(1)
    except KeyboardInterrupt:
        report.interrupted = True
        fetcher.stop.set()  # transfers in flight give up at their next chunk
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future, image in futures.items():  # photos finished after an interruption count too
            if image["file_name"] not in on_disk and future.done() and not future.cancelled() \
                    and future.exception() is None:
                _count(report, on_disk, image, future)
        report.seconds = time.perf_counter() - start
        kept = [image for image in selected if image["file_name"] in on_disk]
        write_text(report.annotations, json.dumps(restricted(coco, kept)))
        print(report.text(), file=sys.stderr if report.interrupted else sys.stdout)
    return report


def _count(report: DownloadReport, on_disk: dict[str, dict], image: dict, future) -> None:
    """Add one finished photo to the report (and to `on_disk` unless it failed)."""
    try:
        present = future.result()
    except (FetchError, Stopped) as exc:
        report.failed.append((image["file_name"], str(exc)))
        return
    on_disk[image["file_name"]] = image
    report.present += present
    report.downloaded += not present
