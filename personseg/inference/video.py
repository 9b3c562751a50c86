"""Video inference: every frame segmented in order, one `<name>_<kind>.mp4` per output kind,
frames streamed through the model a batch at a time (never the whole video in memory).

Each output is H.264 in MP4 with the input's frame rate, timestamps, size (odd sizes too) and
audio track (`video_io`); `smooth` > 0 averages the probability maps over time first
(`temporal.TemporalSmoother`). A video is written under a temporary name, reopened and its
frames counted, and only then renamed (a full disk can leave an MP4 without its index that no
player opens). `--save-frames` frames go to a hidden temporary folder renamed onto
`<name>_frames/` once every frame and every MP4 is complete (before the MP4s get their names),
so the folder is whole or absent. A video that fails is listed and leaves nothing behind; so
does one stopped by Ctrl-C or a full disk (which stops the run, `WriteError`); a kill -9 leaves
only hidden temporaries, which the next run removes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from contextlib import ExitStack
from pathlib import Path

import av
import numpy as np

from personseg.errors import UserError, WriteError
from personseg.files import atomic_path, write_image
from personseg.inference.outputs import Item, frames_dir, output_path
from personseg.inference.render import Look, flatten, mask_image, render_all
from personseg.inference.temporal import TemporalSmoother
from personseg.inference.video_io import VideoInput, VideoOutput
from personseg.progress import progress_bar

FULL_DISK_BYTES = 1 << 20  # less free space than this after a bad write: the disk is full


def check_video(tmp: Path, final: Path, frames: int) -> None:
    """Raise unless `tmp` decodes to `frames` frames (WriteError when the disk is full). Every
    frame is decoded: the MP4 index sits at the start (`faststart`), so a file cut short
    still announces its full length."""
    readable = 0
    try:
        with av.open(str(tmp)) as container:
            for _ in container.decode(video=0):
                readable += 1
    except (av.FFmpegError, OSError, IndexError):
        pass
    if readable == frames:
        return
    if shutil.disk_usage(tmp.parent).free < FULL_DISK_BYTES:
        raise WriteError(f"{final}: cannot write: no space left on device (disk full)")
    raise UserError(f"{final}: the written video does not play back ({readable} of {frames} frames "
                    "readable); not kept")


def _video_picture(picture: np.ndarray) -> np.ndarray:
    """Any rendered picture as RGB for a video frame (masks grey, cut-outs on black)."""
    if picture.dtype == np.uint16:  # probs: 8 bits in a video
        picture = (picture >> 8).astype(np.uint8)
    if picture.ndim == 2:
        return np.repeat(picture[..., None], 3, axis=2)
    return flatten(picture) if picture.shape[2] == 4 else picture


def predict_video(seg, item: Item, out_dir: Path, kinds: list[str], look: Look, batch_size: int,
                  save_frames: bool, report, smooth: float = 0.0) -> None:
    """Segment every frame; write one `<name>_<kind>.mp4` per kind (same fps, size and audio)."""
    smoother = TemporalSmoother(smooth)
    frames_folder = frames_dir(out_dir, item)
    frames_tmp: Path | None = None
    source = None
    try:
        source = VideoInput(item.path)
        if save_frames:
            frames_tmp = _temporary_folder(frames_folder)
        count = 0
        with ExitStack() as stack:
            outputs: dict[str, VideoOutput] = {}
            temps: dict[str, Path] = {}
            for kind in kinds:
                temps[kind] = stack.enter_context(atomic_path(output_path(out_dir, item, kind)))
                outputs[kind] = VideoOutput(temps[kind], source)
                stack.callback(outputs[kind].container.close)  # before atomic_path renames or removes
            pending: deque[tuple[np.ndarray, int | None]] = deque()

            def add_audio(audio) -> None:
                for output in outputs.values():
                    output.add_audio(audio)

            def frames():
                for rgb, pts in source.frames(add_audio):
                    pending.append((rgb, pts))
                    yield rgb

            with progress_bar(total=source.frame_count, desc=item.path.name, unit="frame") as progress:
                for prob in seg.iter_predict(frames(), batch_size=batch_size):
                    rgb, pts = pending.popleft()
                    prob = smoother(rgb, prob)
                    for kind, picture in render_all(kinds, rgb, prob, look).items():
                        outputs[kind].write(_video_picture(picture), pts)
                    if save_frames:
                        mask = mask_image(prob >= look.threshold)
                        write_image(frames_tmp / f"{count:06d}_mask.png", mask)
                    count += 1
                    progress.update(1)
            if count == 0:
                raise UserError(f"{item.path}: no readable video frames")
            for kind, output in outputs.items():  # finish every file, then check it plays back
                output.close()
                check_video(temps[kind], output_path(out_dir, item, kind), count)
            if frames_tmp is not None:  # every frame written: the folder gets its name
                if frames_folder.exists():
                    shutil.rmtree(frames_folder)
                os.replace(frames_tmp, frames_folder)
        report.videos += 1
        report.frames += count
    except BaseException as exc:  # failed, full disk or Ctrl-C: nothing of this video stays
        if frames_tmp is not None:
            shutil.rmtree(frames_tmp, ignore_errors=True)
        if isinstance(exc, WriteError) or not isinstance(exc, (UserError, OSError, av.FFmpegError)):
            raise
        report.fail(str(exc) if isinstance(exc, UserError) else f"{item.path}: {exc}")
    finally:
        if source is not None:
            source.close()


def _temporary_folder(final: Path) -> Path:
    """A hidden folder beside `final`, named like `files.atomic_path`'s temporaries (with this
    process's id) so `disk.remove_stale_temps` removes it after a kill."""
    final.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    return folder
