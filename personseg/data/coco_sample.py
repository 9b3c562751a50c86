"""The COCO person sample the notebooks work on: found on disk, or fetched from cocodataset.org.

`prepare_sample` fills a prepared root (splits `train` and `val`, through
`personseg.data.prepare_coco.prepare`) from COCO files already on disk — by default the small
subset in `../shared` beside a checkout — and, when those are missing and downloading is allowed
(`download="auto"`: only in Colab), from a person sample that `download_coco` fetches. Without
either it prints what to do and returns False, so a notebook still runs its cells that need no
data. `sample_ready` tells whether a root already holds both splits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from personseg.data.dataset_layout import find_pairs
from personseg.data.download import download_coco
from personseg.data.prepare_coco import prepare
from personseg.errors import OptionError, UserError

SPLITS = ("train", "val")
SHARED_SAMPLE = Path("../shared/data/coco-person-mini")
# our split -> (instances JSON, image folder) of the COCO subset beside a checkout
SHARED_SOURCES = {
    "train": (SHARED_SAMPLE / "annotations" / "instances_minitrain.json", SHARED_SAMPLE / "images"),
    "val": (SHARED_SAMPLE / "annotations" / "instances_minival.json", SHARED_SAMPLE / "images"),
}
# our split -> the COCO 2017 split a download takes it from
DOWNLOAD_SPLITS = {"train": "train2017", "val": "val2017"}
DOWNLOAD_CHOICES = ("auto", "yes", "no")

Sources = dict[str, tuple[str | os.PathLike, str | os.PathLike]]


def in_colab() -> bool:
    return "google.colab" in sys.modules


def may_download(download: str) -> bool:
    """"auto" downloads only in Colab (a fresh VM with internet and nothing on disk)."""
    if download not in DOWNLOAD_CHOICES:
        raise OptionError("download", download, f"choose {', '.join(DOWNLOAD_CHOICES)}")
    return download == "yes" or (download == "auto" and in_colab())


def sample_ready(root: str | os.PathLike) -> bool:
    """True when `root` holds prepared `train` and `val` splits."""
    try:
        return all(find_pairs(root, split) for split in SPLITS)
    except UserError:
        return False


def missing_files(sources: Sources) -> list[str]:
    """The annotation files and image folders of `sources` that are not there."""
    files = [Path(json_file) for json_file, _ in sources.values()]
    folders = [Path(folder) for _, folder in sources.values()]
    return [str(p) for p in files if not p.is_file()] + [str(p) for p in folders if not p.is_dir()]


def download_sources(cache: str | os.PathLike, images: int) -> Sources:
    """Fetch `images` person photos of train2017 and a quarter as many val2017 photos (with and
    without people, so false positives are measured too) into `cache`."""
    sources = {}
    for split, coco_split in DOWNLOAD_SPLITS.items():
        train = split == "train"
        count = images if train else max(images // 4, 1)
        report = download_coco(cache, coco_split, person_only=train, max_images=count)
        sources[split] = (report.annotations, report.images)
    return sources


def explain(missing: list[str], out: str | os.PathLike, images: int) -> str:
    return (
        f"No COCO files to prepare {out} from ({missing[0]} not found), so the cells that need data "
        "will skip.\n"
        "To get data, either:\n"
        '  - set DOWNLOAD = "yes" in the parameters cell: it fetches the COCO 2017 annotation archive\n'
        f"    (241 MB) and {images} person photos from cocodataset.org (Colab does this by itself);\n"
        "  - or point Dataset Preparation.ipynb's parameters (TRAIN_ANNOTATIONS, TRAIN_IMAGES, VAL_...)\n"
        "    at your own COCO files and run it;\n"
        "  - or from a shell: personseg download coco --split train2017 --person-only --max-images 2000 "
        "--out data/coco-2017\n"
        "    and the same with --split val2017 --max-images 500, then point those parameters at\n"
        "    data/coco-2017/annotations/instances_{train,val}2017.json and "
        "data/coco-2017/images/{train,val}2017"
    )


def prepare_sample(out: str | os.PathLike, sources: Sources | None = None, download: str = "auto",
                   download_images: int = 300, cache: str | os.PathLike = "data/coco-2017",
                   limit: int | None = None, max_side: int | None = 640, workers: int = 2) -> bool:
    """Prepare `train` and `val` under `out` from `sources` (default: the subset in ../shared), or
    from a downloaded sample when they are missing and `download` allows; False (after saying
    what to do) when there is nothing to prepare from. Resumable: finished pairs are skipped."""
    may = may_download(download)  # a bad value is an error even when the files are there
    sources = sources or SHARED_SOURCES
    missing = missing_files(sources)
    if missing and not may:
        print(explain(missing, out, download_images))
        return False
    if missing:
        print(f"{missing[0]} not found: downloading a COCO person sample into {cache}")
        sources = download_sources(cache, download_images)
    for split, (json_file, images) in sources.items():
        prepare(json_file, images, out, split, limit=limit, max_side=max_side, workers=workers)
    return True
