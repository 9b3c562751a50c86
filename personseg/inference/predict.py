"""`personseg predict` as a library call: inputs (files, folders, globs, videos) → masks and
pictures in one folder, and a report of what was done and what failed.

A file that cannot be read or written is reported and skipped; the run goes on and the report's
failures say whether everything succeeded. Inputs whose outputs all exist are skipped, so a rerun
resumes where a stopped one ended (`overwrite=True` redoes them). Stills go through `stills`
(decode, model and writes overlapped, memory bounded). A full or read-only disk stops the run (`WriteError`);
everything written before is complete. Temporary files a killed run left in `--out` are removed.
Inputs are found by `inputs`, named by `outputs`, videos run through `video`; the photos run on
an engine (`engines`: this process, or a Ray cluster), with the same names, writes and resume.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from personseg.disk import check_writable_folder, remove_stale_temps
from personseg.errors import OptionError, UserError
from personseg.inference.engines import engine_runner
from personseg.inference.inputs import collect_inputs, is_video
from personseg.inference.outputs import Item, check_no_input_overwritten, frames_dir, output_names
from personseg.inference.render import DEFAULT_BACKGROUND, Background, Look
from personseg.inference.stills import missing_kinds
from personseg.inference.temporal import TemporalSmoother
from personseg.inference.video import predict_video
from personseg.wording import plural


@dataclass
class Report:
    """What a run did: counts for the summary line and every failure with its reason."""

    images: int = 0
    videos: int = 0
    frames: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    out: Path | None = None  # the folder the outputs went to
    workers: dict[str, dict] = field(default_factory=dict)  # ray engine: peak MB etc. per worker

    def fail(self, message: str) -> None:
        self.failures.append(message)
        tqdm.write(f"warning: {message} (skipped)", file=sys.stderr)

    def summary(self) -> str:
        """One line: what was done, how fast (images/s for photos, frames/s for videos) and where
        the outputs are: `2 images in 0.4 s (5.0 images/s) -> out/`."""
        parts = [plural(self.images, "image")] if self.images or not self.videos else []
        if self.videos:
            parts.append(f"{plural(self.videos, 'video')} ({plural(self.frames, 'frame')})")
        text = f"{', '.join(parts)} in {self.seconds:.1f} s"
        if self.seconds > 0 and bool(self.images) != bool(self.frames):
            done, unit = (self.images, "images") if self.images else (self.frames, "frames")
            text += f" ({done / self.seconds:.1f} {unit}/s)"
        if self.out is not None:
            text += f" -> {self.out}{os.sep}"
        if self.skipped:
            text += f"; {self.skipped} skipped (outputs exist; --overwrite redoes them)"
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


def run_predict(seg, inputs: list[str], out_dir: str | Path, kinds: list[str], threshold: float = 0.5,
                batch_size: int = 8, save_frames: bool = False, verbose: bool = True, *,
                edges: str = "refined", background: Background = DEFAULT_BACKGROUND,
                blur_strength: float = 0.03, smooth: float = 0.0, overwrite: bool = False,
                workers: int = 2, engine: str = "local", engine_options: dict | None = None) -> Report:
    """Everything `personseg predict` does after loading the model; returns the report.

    `edges`, `background` and `blur_strength` say how the pictures look (`render.Look`);
    `smooth` in [0, 1) averages video probabilities over time (`temporal`; 0: off). Inputs whose
    outputs all exist are skipped (a rerun resumes) unless `overwrite`; `workers` threads decode
    photos ahead of the model (`stills`). Photos run on `engine` (`engines.ENGINES`, with its
    `engine_options`); videos always run here."""
    run_stills = engine_runner(engine)
    if workers < 1:
        raise OptionError("workers", workers, "must be at least 1")
    look = Look(threshold, edges, background, blur_strength)
    TemporalSmoother(smooth)  # checks the value before any work
    if batch_size < 1:
        raise OptionError("batch_size", batch_size, "must be at least 1")
    out_dir = Path(out_dir)
    report = Report(out=out_dir)
    found = collect_inputs(inputs, out_dir)
    for failure in found.failures:
        report.fail(failure)
    report.notes += found.notes + ([seg.framing_note] if getattr(seg, "framing_note", None) else [])
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
    run_stills(seg, [i for i in items if not i.video], out_dir, kinds, look, batch_size, report,
               overwrite=overwrite, workers=workers, **(engine_options or {}))
    for item in (i for i in items if i.video):
        if not missing_kinds(out_dir, item, kinds, overwrite):
            report.skipped += 1
            continue
        predict_video(seg, item, out_dir, kinds, look, batch_size, save_frames, report, smooth)
    report.seconds = time.perf_counter() - started
    return report
