"""The resumable runner both prepare commands share: per-image jobs over a worker pool, skip
bookkeeping, the manifest kept current, and the final summary.

A job writes one image/mask pair. It is done when both output files exist (each was written
through `files.atomic_path`, so existing means complete); re-runs skip done jobs. The manifest
(see `personseg.data.manifest`) is rewritten atomically during the run, on Ctrl-C, on an error
and at the end, and always lists every finished pair, including those of earlier runs. Temporary
files a killed run left in the output folders are removed at the start.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from personseg.data.dataset_layout import pair_paths, split_dirs
from personseg.data.manifest import Row, manifest_path, read_manifest, row_for, write_manifest
from personseg.disk import remove_stale_temps
from personseg.errors import OptionError
from personseg.files import read_mask
from personseg.progress import progress_bar
from personseg.wording import plural

MANIFEST_EVERY_S = 30.0


@dataclass(frozen=True)
class Job:
    """One output pair; `persons`/`crowds` are annotation counts (None when not known)."""

    file: str  # output image name, <stem>.jpg
    image_out: Path
    mask_out: Path
    persons: int | None = None
    crowds: int | None = None

    def row(self, mask) -> Row:
        """This job's manifest row from its final 0/255 mask."""
        return row_for(self.file, mask, self.persons, self.crowds)

    def done(self) -> bool:
        return self.image_out.is_file() and self.mask_out.is_file()


@dataclass(frozen=True)
class Result:
    """What a job produced: a manifest row, or the reason it was skipped."""

    file: str
    row: Row | None = None
    skip: str | None = None
    reused: bool = False


class Skipped(Exception):
    """Raised inside a job for a per-image problem: the image is skipped and listed at the end."""


def reuse(job: Job) -> Result:
    """Result of a job finished by an earlier run (row recomputed from the mask on disk)."""
    return Result(job.file, row=job.row(read_mask(job.mask_out)), reused=True)


def run_job(worker: Callable[[Job], Row], job: Job) -> Result:
    """Run `worker` on a job unless it is done; a `Skipped` becomes a listed skip."""
    if job.done():
        return reuse(job)
    try:
        return Result(job.file, row=worker(job))
    except Skipped as exc:
        return Result(job.file, skip=str(exc))


# ---------------------------------------------------------------- pool


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is fastest, but forking a process that has started TensorFlow's threads can deadlock
    method = "spawn" if "tensorflow" in sys.modules else "fork"
    return multiprocessing.get_context(method)


def run_pool(worker: Callable[[Job], Row], jobs: list[Job], workers: int) -> Iterator[Result]:
    """Results of `run_job(worker, job)` for every job, in completion order.

    `workers <= 1` runs in this process. With a pool, Ctrl-C (or any error here) terminates the
    workers; a pair they were writing is left only as a temporary file, never under its final name.
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(worker, job)
        return
    from functools import partial

    pool = _pool_context().Pool(min(workers, len(jobs)), initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(partial(run_job, worker), jobs, chunksize=4)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


# ---------------------------------------------------------------- the run and its summary


@dataclass
class Report:
    """Counts of one run, printed as the final summary."""

    split: str
    manifest: Path
    written: int = 0
    reused: int = 0
    persons: int = 0
    crowds: int = 0
    negatives: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seconds: float = 0.0
    interrupted: bool = False
    stopped: bool = False  # ended by an error (e.g. a full disk): what is listed is all there is
    annotated: bool = False  # rows carry person/crowd counts (COCO), not just masks

    @property
    def images(self) -> int:
        return self.written + self.reused

    @property
    def exit_code(self) -> int:
        return 1 if self.skipped else 0

    def add(self, result: Result) -> None:
        if result.skip is not None:
            self.skipped.append((result.file, result.skip))
            return
        row = result.row
        if result.reused:
            self.reused += 1
        else:
            self.written += 1
        self.annotated |= row.persons is not None
        self.persons += row.persons or 0
        self.crowds += row.crowds or 0
        self.negatives += row.foreground == 0

    @property
    def status(self) -> str:
        return "interrupted" if self.interrupted else "stopped by an error" if self.stopped else "done"

    def text(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        counts = (f"{plural(self.persons, 'person instance')}, {plural(self.crowds, 'crowd region')}, "
                  if self.annotated else "")
        lines = [
            f"{self.status} ({self.split}): {plural(self.images, 'image')} "
            f"({self.written} written, {self.reused} already done), {counts}"
            f"{plural(self.negatives, 'negative')} (empty mask), "
            f"{len(self.skipped)} skipped; {self.seconds:.1f} s, {rate:.1f} images/s",
            f"manifest: {self.manifest}",
        ]
        if self.skipped:
            lines.append(f"skipped {plural(len(self.skipped), 'image')}:")
            lines += [f"  {name}: {reason}" for name, reason in sorted(self.skipped)]
        return "\n".join(lines)


def run_jobs(worker: Callable[[Job], Row], jobs: list[Job], out: Path, split: str,
             workers: int = 1, skipped: list[tuple[str, str]] | None = None) -> Report:
    """Run every job (resuming), keep the manifest current, print the summary; return the report.

    `skipped` holds problems found before any job ran (e.g. a mask without an image); they are
    listed with the others.
    """
    if workers < 1:
        raise OptionError("workers", workers, "must be at least 1")
    for folder in split_dirs(out, split):
        remove_stale_temps(folder)  # what a killed run was writing
    manifest = manifest_path(out, split)
    previous = read_manifest(manifest)
    in_run = {job.file for job in jobs}
    # rows of earlier runs stay listed as long as their files do
    rows = {name: row for name, row in previous.items()
            if name not in in_run and _exists(pair_paths(out, split, Path(name).stem))}
    report = Report(split, manifest, skipped=list(skipped or []))
    todo = []
    for job in jobs:
        if job.file in previous and job.done():  # finished and listed: no need to read anything
            rows[job.file] = previous[job.file]
            report.add(Result(job.file, row=previous[job.file], reused=True))
        else:
            todo.append(job)
    reported: set[str] = set()
    start = last_write = time.perf_counter()
    complete = False
    try:
        with progress_bar(total=len(jobs), initial=len(jobs) - len(todo), desc=f"prepare {split}",
                          unit="img", dynamic_ncols=True) as bar:
            for result in run_pool(worker, todo, workers):
                report.add(result)
                reported.add(result.file)
                if result.row is not None:
                    rows[result.file] = result.row
                bar.update(1)
                if time.perf_counter() - last_write > MANIFEST_EVERY_S:
                    write_manifest(manifest, rows.values())
                    last_write = time.perf_counter()
        complete = True
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        report.seconds = time.perf_counter() - start
        report.stopped = not complete and not report.interrupted
        if not complete:  # pairs a worker finished but had not reported yet are done too
            for job in todo:
                if job.file not in reported and job.done():
                    with contextlib.suppress(Exception):  # never hide the original error
                        rows[job.file] = reuse(job).row
        manifest_error = None
        try:
            write_manifest(manifest, rows.values())
        except Exception as exc:  # e.g. a full disk; an error already on its way says more
            manifest_error, report.stopped = exc, not report.interrupted
        print(report.text(), file=sys.stdout if complete and not manifest_error else sys.stderr)
        if complete and manifest_error is not None:
            raise manifest_error
    return report


def _exists(pair) -> bool:
    return pair.image.is_file() and pair.mask.is_file()
