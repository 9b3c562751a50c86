"""The COCO instances schema, checked before pycocotools indexes a file (it would crash on a list
id, and silently keep one of two records sharing an id, mixing their annotations).

Every record has its keys; image, annotation and category ids are whole numbers and unique
(a duplicate names both records); `image_id` and `category_id` are whole numbers, `iscrowd` is
0 or 1; file names are plain relative names whose every part is visible (no `..`, no hidden
`.name`, no absolute path); widths and heights are positive whole numbers. Any violation is
a `UserError` naming the file, the record and the problem: nothing is prepared or scored.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from personseg.errors import UserError

REQUIRED_KEYS = ("images", "annotations", "categories")
IMAGE_KEYS = ("id", "file_name", "width", "height")
ANNOTATION_KEYS = ("id", "image_id", "category_id", "segmentation")
CATEGORY_KEYS = ("id", "name")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_schema(path: Path, data: dict) -> None:
    """Raise UserError for the first schema problem of a loaded instances JSON (see module)."""
    missing = [key for key in REQUIRED_KEYS if not isinstance(data.get(key), list)]
    if missing:
        raise UserError(f"{path}: missing or not a list: {', '.join(missing)} (not a COCO instances file?)")
    for kind, key, keys in (("image", "images", IMAGE_KEYS), ("annotation", "annotations", ANNOTATION_KEYS),
                            ("category", "categories", CATEGORY_KEYS)):
        _check_records(path, data[key], keys, kind)
        _check_ids(path, data[key], kind)
    _check_images(path, data["images"])
    for index, ann in enumerate(data["annotations"]):
        where = f"{path}: annotation #{index} (id {ann['id']})"
        for key in ("image_id", "category_id"):
            if not _whole(ann[key]):
                raise UserError(f"{where}: {key} {ann[key]!r} is not a whole number")
        if ann.get("iscrowd", 0) not in (0, 1) or isinstance(ann.get("iscrowd", 0), float):
            raise UserError(f"{where}: iscrowd {ann['iscrowd']!r} is not 0 or 1")


def _check_records(path: Path, records: list, keys: tuple[str, ...], kind: str) -> None:
    for index, record in enumerate(records):
        lacking = [key for key in keys if not isinstance(record, dict) or key not in record]
        if lacking:
            raise UserError(f"{path}: {kind} #{index} has no {', '.join(lacking)}")


def _check_ids(path: Path, records: list[dict], kind: str) -> None:
    """Ids are whole numbers, each used once; a duplicate names both records."""
    seen: dict[int, int] = {}
    for index, record in enumerate(records):
        value = record["id"]
        if not _whole(value):
            raise UserError(f"{path}: {kind} #{index}: id {value!r} is not a whole number")
        if value in seen:
            first = records[seen[value]]
            names = (f" ({first.get('file_name')!r} and {record.get('file_name')!r})"
                     if kind == "image" else "")
            raise UserError(f"{path}: {kind} #{seen[value]} and #{index} share the id {value}{names}; "
                            "ids must be unique (neither would be prepared or scored correctly)")
        seen[value] = index


def _check_images(path: Path, images: list[dict]) -> None:
    """Every image needs a plain, visible file name and a usable size (masks are built from it)."""
    for index, info in enumerate(images):
        where = f"{path}: image #{index} (id {info['id']})"
        name = info["file_name"]
        if not isinstance(name, str) or not name:
            raise UserError(f"{where}: file_name {name!r} is not a file name")
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ":" in parts[0] or any(
                part in ("", ".", "..") or part.startswith(".") for part in parts):
            raise UserError(f"{where}: file_name {name!r} is not a plain visible file name "
                            "(no hidden '.name', '..' or absolute path)")
        for key in ("width", "height"):
            value = info[key]
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or value < 1 or value != int(value):
                raise UserError(f"{where}: {key} {value!r} is not a positive whole number")
