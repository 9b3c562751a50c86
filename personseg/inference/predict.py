"""`personseg predict` as a library call: inputs (files, folders, globs, videos) → masks and
pictures in one folder, and a report of what was done and what failed.

A file that cannot be read or written is reported and skipped; the run goes on and the report's
failures say whether everything succeeded. A full or read-only disk stops the run (`WriteError`);
everything written before is complete. Temporary files a killed run left in `--out` are removed.
Inputs are found by `inputs`, named by `outputs`, videos run through `video`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from personseg.disk import check_writable_folder, remove_stale_temps
from personseg.errors import OptionError, UserError, WriteError
from personseg.files import read_rgb, write_image
from personseg.inference.inputs import collect_inputs, is_video
from personseg.inference.outputs import (
    Item,
    check_no_input_overwritten,
    frames_dir,
    output_names,
    output_path,
)
from personseg.inference.render import DEFAULT_BACKGROUND, Background, Look, render_all
from personseg.inference.temporal import TemporalSmoother
from personseg.inference.video import predict_video
from personseg.wording import plural


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
        parts = [plural(self.images, "image")]
        if self.videos:
            parts.append(f"{plural(self.videos, 'video')} ({plural(self.frames, 'frame')})")
        text = f"{', '.join(parts)} in {self.seconds:.1f} s ({rate:.1f} images/s)"
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


def predict_images(seg, items: list[Item], out_dir: Path, kinds: list[str], look: Look,
                   batch_size: int, report: Report) -> None:
    """Segment still images `batch_size` at a time and write the requested outputs."""
    with tqdm(total=len(items), desc="images", unit="img", disable=not items) as progress:
        _predict_batches(seg, items, out_dir, kinds, look, batch_size, report, progress)


def _predict_batches(seg, items, out_dir, kinds, look, batch_size, report, progress) -> None:
    for batch in _read_batches(items, batch_size, report, progress):
        probs = seg.predict_batch([rgb for _, rgb in batch], batch_size=batch_size)
        for (item, rgb), prob in zip(batch, probs, strict=True):
            try:
                for kind, picture in render_all(kinds, rgb, prob, look).items():
                    write_image(output_path(out_dir, item, kind), picture)
            except WriteError:
                raise  # a full or read-only disk: every later write would fail too
            except (UserError, OSError) as exc:
                report.fail(f"{item.path}: cannot write outputs ({exc})")
                continue
            report.images += 1
        progress.update(len(batch))


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


def run_predict(seg, inputs: list[str], out_dir: str | Path, kinds: list[str], threshold: float = 0.5,
                batch_size: int = 8, save_frames: bool = False, verbose: bool = True, *,
                edges: str = "refined", background: Background = DEFAULT_BACKGROUND,
                blur_strength: float = 0.03, smooth: float = 0.0) -> Report:
    """Everything `personseg predict` does after loading the model; returns the report.

    `edges`, `background` and `blur_strength` say how the pictures look (`render.Look`);
    `smooth` in [0, 1) averages video probabilities over time (`temporal`; 0: off)."""
    look = Look(threshold, edges, background, blur_strength)
    TemporalSmoother(smooth)  # checks the value before any work
    if batch_size < 1:
        raise OptionError("batch_size", batch_size, "must be at least 1")
    out_dir = Path(out_dir)
    report = Report()
    found = collect_inputs(inputs, out_dir)
    for failure in found.failures:
        report.fail(failure)
    report.notes += found.notes
    paths = found.files
    if not paths:
        for note in report.notes if verbose else ():
            print(f"note: {note}", file=sys.stderr)
        reason = f" ({report.failures[-1]})" if report.failures else ""
        raise UserError(f"no input images or videos{reason}")
    items = [Item(p, n, is_video(p)) for p, n in zip(paths, output_names(paths), strict=True)]
    check_no_input_overwritten(items, out_dir, kinds)
    check_writable_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in [out_dir, *(frames_dir(out_dir, i) for i in items if i.video and save_frames)]:
        for path in remove_stale_temps(folder):
            report.notes.append(f"{path}: removed, a temporary file of a killed run")
    for note in report.notes if verbose else ():
        print(f"note: {note}", file=sys.stderr)
    started = time.perf_counter()
    predict_images(seg, [i for i in items if not i.video], out_dir, kinds, look, batch_size, report)
    for item in (i for i in items if i.video):
        predict_video(seg, item, out_dir, kinds, look, batch_size, save_frames, report, smooth)
    report.seconds = time.perf_counter() - started
    return report
