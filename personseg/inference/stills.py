"""Still images at scale: decode → segment → render and write, overlapped, with bounded memory.

Three stages run at once: worker threads decode the next photos (OpenCV releases the GIL), the
calling thread runs the model a batch at a time, and writer threads render the pictures and
write them. Between the stages at most `window` photos wait (a sliding window of futures, so
results keep the input order), so memory stays flat however many thousands of photos a folder
holds. A photo whose outputs all exist already is skipped before it is read (`resume`).

A photo that cannot be read or written is reported and skipped; a full or read-only disk
(`WriteError`) stops the run, with everything written before complete.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from personseg.errors import UserError, WriteError
from personseg.files import read_rgb, write_image
from personseg.inference.outputs import Item, output_path
from personseg.inference.render import Look, render_all
from personseg.progress import progress_bar


def missing_kinds(out_dir: Path, item: Item, kinds: list[str], overwrite: bool) -> list[str]:
    """The kinds still to write for `item`: all of them with `overwrite`, else those whose file
    does not exist yet (files are written atomically, so an existing one is complete)."""
    if overwrite:
        return list(kinds)
    return [kind for kind in kinds if not output_path(out_dir, item, kind).exists()]


def _read(path: Path) -> np.ndarray | UserError:
    try:
        return read_rgb(path)
    except UserError as exc:
        return exc


def _decoded(jobs: list[tuple[Item, list[str]]], workers: int, window: int
             ) -> Iterator[tuple[Item, list[str], np.ndarray | UserError]]:
    """(item, kinds, RGB or the read error) in input order, decoded ahead by `workers` threads,
    never more than `window` photos ahead."""
    with ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
        pending: deque[tuple[Item, list[str], Future]] = deque()
        try:
            for item, kinds in jobs:
                pending.append((item, kinds, pool.submit(_read, item.path)))
                if len(pending) >= window:
                    first, first_kinds, future = pending.popleft()
                    yield first, first_kinds, future.result()
            while pending:
                first, first_kinds, future = pending.popleft()
                yield first, first_kinds, future.result()
        finally:
            for *_, future in pending:
                future.cancel()


def _write(out_dir: Path, item: Item, kinds: list[str], rgb: np.ndarray, prob: np.ndarray,
           look: Look) -> str | None:
    """Render and write `item`'s pictures; a failure message, or None. WriteError propagates."""
    try:
        for kind, picture in render_all(kinds, rgb, prob, look).items():
            write_image(output_path(out_dir, item, kind), picture)
    except WriteError:
        raise  # a full or read-only disk: every later write would fail too
    except (UserError, OSError) as exc:
        return f"{item.path}: cannot write outputs ({exc})"
    return None


def predict_stills(seg, items: list[Item], out_dir: Path, kinds: list[str], look: Look, batch_size: int,
                   report, overwrite: bool = False, workers: int = 2, writers: int = 1,
                   progress: bool = True) -> None:
    """Segment still images and write their outputs, skipping those already written unless
    `overwrite`. `report` gets `images`, `skipped` and `fail(message)`. The `local` engine
    (`engines`); the `ray` engine runs it in each worker on its share of the photos."""
    jobs = []
    for item in items:
        todo = missing_kinds(out_dir, item, kinds, overwrite)
        if todo:
            jobs.append((item, todo))
        else:
            report.skipped += 1
    window = max(2 * batch_size, 2 * workers)
    with progress_bar(total=len(jobs), desc="images", unit=" images", disable=not (jobs and progress),
                      dynamic_ncols=True, smoothing=0.1) as progress, \
            ThreadPoolExecutor(writers, thread_name_prefix="write") as pool:
        writes: deque[tuple[Item, Future]] = deque()

        def finish(oldest: Callable[[], tuple[Item, Future]]) -> None:
            item, future = oldest()
            failure = future.result()  # WriteError: raised here, the run stops
            if failure:
                report.fail(failure)
            else:
                report.images += 1
            progress.update(1)

        try:
            for batch in _batches(_decoded(jobs, workers, window), batch_size, report, progress):
                probs = seg.predict_batch([rgb for _, _, rgb in batch], batch_size=batch_size)
                for (item, todo, rgb), prob in zip(batch, probs, strict=True):
                    writes.append((item, pool.submit(_write, out_dir, item, todo, rgb, prob, look)))
                    while len(writes) > window:
                        finish(writes.popleft)
            while writes:
                finish(writes.popleft)
        except BaseException:
            for _, future in writes:
                future.cancel()
            raise


def _batches(decoded, batch_size: int, report, progress) -> Iterator[list]:
    batch = []
    for item, todo, rgb in decoded:
        if isinstance(rgb, UserError):
            report.fail(str(rgb))
            progress.update(1)
            continue
        batch.append((item, todo, rgb))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
