"""`personseg predict` logic: inputs (files, folders, globs, videos) → masks and pictures.

Outputs go to one folder, named `<name>_<kind>.<ext>` where `<name>` is the input's stem, or its
path relative to the colliding inputs' common folder (`a__photo`, `b__photo`) when two inputs
share a stem, so nothing is silently overwritten. A file that cannot be read is reported and
skipped; the run goes on and the exit code says whether everything succeeded.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from personseg.errors import UserError
from personseg.io import IMAGE_EXTENSIONS, atomic_path, read_rgb, write_image
from personseg.render import KINDS, flatten, render

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Item:
    """One input file and the base name its outputs get."""

    path: Path
    name: str
    video: bool


@dataclass
class Report:
    """What a run did: counts for the summary line and every failure with its reason."""

    images: int = 0
    videos: int = 0
    frames: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, message: str) -> None:
        self.failures.append(message)
        tqdm.write(f"warning: {message} (skipped)", file=sys.stderr)

    def summary(self) -> str:
        done = self.images + self.frames
        rate = done / self.seconds if self.seconds > 0 else 0.0
        parts = [f"{self.images} images"]
        if self.videos:
            parts.append(f"{self.videos} videos ({self.frames} frames)")
        text = f"{', '.join(parts)} in {self.seconds:.1f} s ({rate:.1f} images/s)"
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


def parse_kinds(text: str) -> list[str]:
    """`mask,overlay` → ["mask", "overlay"], with a clear error for unknown names."""
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise UserError(f"--save {text!r}: choose one or more of {','.join(KINDS)}")
    return list(dict.fromkeys(kinds))


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _walk_images(folder: Path, exclude: Path | None, report: Report) -> Iterator[Path]:
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
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                yield path
            else:
                hint = "; pass videos by name" if is_video(path) else ""
                report.notes.append(f"{path}: not an image file, ignored{hint}")


def collect_inputs(inputs: list[str], out_dir: Path | None, report: Report) -> list[Path]:
    """Expand files, folders and glob patterns into unique files, in the order given.

    Missing paths and patterns that match nothing are failures (reported, the rest goes on).
    """
    exclude = out_dir.resolve() if out_dir is not None else None
    found: dict[Path, Path] = {}  # resolved -> as given, keeps first occurrence and order

    def add(path: Path) -> None:
        found.setdefault(path.resolve(), path)

    def add_any(path: Path) -> None:
        if path.is_dir():
            for image in _walk_images(path, exclude, report):
                add(image)
        else:
            add(path)

    for spec in inputs:
        path = Path(spec)
        if path.exists():
            add_any(path)
        elif GLOB_CHARS & set(spec):
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                report.fail(f"{spec}: no files match this pattern")
            for match in matches:
                add_any(Path(match))
        else:
            report.fail(f"{spec}: no such file or folder")
    return list(found.values())


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
    return out_dir / f"{item.name}_{kind}{'.mp4' if item.video else KINDS[kind]}"


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
                    f"{target}: output of {item.path} would overwrite an input file; choose another --out"
                )
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: --out exists and is not a folder")


def predict_images(seg, items: list[Item], out_dir: Path, kinds: list[str], threshold: float,
                   batch_size: int, report: Report) -> None:
    """Segment still images `batch_size` at a time and write the requested outputs."""
    progress = tqdm(total=len(items), desc="images", unit="img", disable=not items)
    for batch in _read_batches(items, batch_size, report, progress):
        probs = seg.predict_batch([rgb for _, rgb in batch], batch_size=batch_size)
        for (item, rgb), prob in zip(batch, probs, strict=True):
            mask = prob >= threshold
            try:
                for kind in kinds:
                    write_image(output_path(out_dir, item, kind), render(kind, rgb, mask))
            except (UserError, OSError) as exc:
                report.fail(f"{item.path}: cannot write outputs ({exc})")
                continue
            report.images += 1
        progress.update(len(batch))
    progress.close()


def _read_batches(items: list[Item], batch_size: int, report: Report, progress) -> Iterator[list]:
    batch = []
    for item in items:
        try:
            batch.append((item, read_rgb(item.path)))
        except UserError as exc:
            report.fail(str(exc))
            progress.update(1)
            continue
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_video(seg, item: Item, out_dir: Path, kinds: list[str], threshold: float, batch_size: int,
                  save_frames: bool, report: Report) -> None:
    """Segment every frame; write one `<name>_<kind>.mp4` per kind (same fps and size)."""
    capture = cv2.VideoCapture(str(item.path))
    try:
        if not capture.isOpened():
            raise UserError(f"{item.path}: cannot open as a video")
        ok, first = capture.read()
        if not ok or first is None:
            raise UserError(f"{item.path}: no readable video frames")
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = fps if fps and np.isfinite(fps) and fps > 0 else 25.0
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        height, width = first.shape[:2]
        if width % 2 or height % 2:
            tqdm.write(f"note: {item.path}: {width}×{height} is odd; the mp4v encoder drops the last "
                       "row/column of the output videos", file=sys.stderr)
        pending: deque[np.ndarray] = deque()

        def frames() -> Iterator[np.ndarray]:
            frame = first
            while frame is not None:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                pending.append(rgb)
                yield rgb
                ok, frame = capture.read()
                frame = frame if ok else None

        count = 0
        with ExitStack() as stack:
            writers = {}
            for kind in kinds:
                tmp = stack.enter_context(atomic_path(output_path(out_dir, item, kind)))
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
                stack.callback(writer.release)  # runs before the rename in atomic_path
                if not writer.isOpened():
                    raise UserError(f"{tmp}: OpenCV cannot write mp4 video here")
                writers[kind] = writer
            progress = stack.enter_context(tqdm(total=total, desc=item.path.name, unit="frame"))
            for prob in seg.iter_predict(frames(), batch_size=batch_size):
                rgb = pending.popleft()
                mask = prob >= threshold
                for kind, writer in writers.items():
                    picture = render(kind, rgb, mask)
                    if picture.ndim == 2:
                        picture = np.repeat(picture[..., None], 3, axis=2)
                    elif picture.shape[2] == 4:
                        picture = flatten(picture)
                    writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
                if save_frames:
                    frame_path = frames_dir(out_dir, item) / f"{count:06d}_mask.png"
                    write_image(frame_path, render("mask", rgb, mask))
                count += 1
                progress.update(1)
        report.videos += 1
        report.frames += count
    except (UserError, OSError, cv2.error) as exc:
        report.fail(str(exc))
    finally:
        capture.release()


def run_predict(seg, inputs: list[str], out_dir: str | Path, kinds: list[str], threshold: float = 0.5,
                batch_size: int = 8, save_frames: bool = False, verbose: bool = True) -> Report:
    """Everything `personseg predict` does after loading the model; returns the report."""
    if not 0.0 <= threshold <= 1.0:
        raise UserError(f"--threshold must be between 0 and 1, got {threshold}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    out_dir = Path(out_dir)
    report = Report()
    paths = collect_inputs(inputs, out_dir, report)
    for note in report.notes if verbose else ():
        print(f"note: {note}", file=sys.stderr)
    if not paths:
        reason = f" ({report.failures[-1]})" if report.failures else ""
        raise UserError(f"no input images or videos{reason}")
    items = [Item(p, n, is_video(p)) for p, n in zip(paths, output_names(paths), strict=True)]
    check_no_input_overwritten(items, out_dir, kinds)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    predict_images(seg, [i for i in items if not i.video], out_dir, kinds, threshold, batch_size, report)
    for item in (i for i in items if i.video):
        predict_video(seg, item, out_dir, kinds, threshold, batch_size, save_frames, report)
    report.seconds = time.perf_counter() - started
    return report
