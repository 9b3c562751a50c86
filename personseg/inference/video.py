"""Video inference: every frame segmented in order, one `<name>_<kind>.mp4` per output kind
(same frame rate and size), frames streamed through the model a batch at a time.

OpenCV's writer reports no errors (a full disk leaves an MP4 without its index that no player
opens), so each video is written under a temporary name, reopened and its frames counted, and
only then renamed. A video that fails is listed and leaves nothing behind: no MP4, and no
`<name>_frames/` folder if this run created it; so does one stopped by Ctrl-C or a full disk
(which stops the run, `WriteError`).
"""

from __future__ import annotations

import shutil
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from personseg.errors import UserError, WriteError
from personseg.files import atomic_path, write_image
from personseg.inference.outputs import Item, frames_dir, output_path
from personseg.inference.render import flatten, render

FULL_DISK_BYTES = 1 << 20  # less free space than this after a bad write: the disk is full


def check_video(tmp: Path, final: Path, frames: int) -> None:
    """Raise unless `tmp` opens as a video with `frames` frames (WriteError when the disk is full)."""
    capture = cv2.VideoCapture(str(tmp))
    readable = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    if readable == frames:
        return
    if shutil.disk_usage(tmp.parent).free < FULL_DISK_BYTES:
        raise WriteError(f"{final}: cannot write: no space left on device (disk full)")
    raise UserError(f"{final}: the written video does not play back ({readable} of {frames} frames "
                    "readable); not kept")


def predict_video(seg, item: Item, out_dir: Path, kinds: list[str], threshold: float, batch_size: int,
                  save_frames: bool, report) -> None:
    """Segment every frame; write one `<name>_<kind>.mp4` per kind (same fps and size)."""
    capture = cv2.VideoCapture(str(item.path))
    frames_folder = frames_dir(out_dir, item)
    new_frames_folder = save_frames and not frames_folder.exists()
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
            writers, temps = {}, {}
            for kind in kinds:
                final = output_path(out_dir, item, kind)
                tmp = temps[kind] = stack.enter_context(atomic_path(final))
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
                stack.callback(writer.release)  # runs before atomic_path renames or removes
                if not writer.isOpened():
                    raise UserError(f"{tmp}: OpenCV cannot write mp4 video here")
                writers[kind] = writer
            with tqdm(total=total, desc=item.path.name, unit="frame") as progress:
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
                        write_image(frames_folder / f"{count:06d}_mask.png", render("mask", rgb, mask))
                    count += 1
                    progress.update(1)
            for kind, writer in writers.items():  # finish every file, then check it plays back
                writer.release()
                check_video(temps[kind], output_path(out_dir, item, kind), count)
        report.videos += 1
        report.frames += count
    except BaseException as exc:  # failed, full disk or Ctrl-C: nothing of this video stays
        if new_frames_folder:
            shutil.rmtree(frames_folder, ignore_errors=True)
        if isinstance(exc, WriteError) or not isinstance(exc, (UserError, OSError, cv2.error)):
            raise
        report.fail(str(exc))
    finally:
        capture.release()
