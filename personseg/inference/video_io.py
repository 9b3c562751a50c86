"""Video files in and out with PyAV (FFmpeg's libraries, libx264 included, inside the wheel):
frames decoded one at a time, H.264 MP4s that browsers play, the audio track carried over.

- `VideoInput`: the first video stream's frames as RGB arrays with their timestamps, while
  every audio packet met on the way is handed to a callback (the outputs copy it).
- `VideoOutput`: one MP4 with H.264 at the input's frame rate, size and timestamps, and the
  input's audio: copied as it is when MP4 can hold its codec (AAC, MP3, Opus, FLAC, ALAC, AC-3),
  else re-encoded to AAC. Even sizes use 4:2:0 (High profile: every browser and phone); an odd
  width or height cannot be coded in 4:2:0, so it is kept exactly with 4:4:4 (High 4:4:4
  Predictive: Chrome, Edge and FFmpeg-based players play it; Safari and Firefox may not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from personseg.errors import UserError

COPYABLE_AUDIO = {"aac", "mp3", "opus", "flac", "alac", "ac3", "eac3"}
DEFAULT_RATE = Fraction(25)
CRF = "20"  # libx264 quality: visually lossless for masks and overlays, small files


class VideoInput:
    """An opened video file: `rate`, `width`, `height`, `frame_count` (may be None), `audio`."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.container = av.open(str(path))
        except (av.FFmpegError, OSError) as exc:
            raise UserError(f"{path}: cannot open as a video ({exc})") from None
        if not self.container.streams.video:
            self.container.close()
            raise UserError(f"{path}: has no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.rate = Fraction(rate) if rate and rate > 0 else DEFAULT_RATE
        self.width, self.height = self.stream.codec_context.width, self.stream.codec_context.height
        self.frame_count = self.stream.frames or None

    @property
    def copies_audio(self) -> bool:
        """True when MP4 can hold the audio codec as it is (else it is re-encoded to AAC)."""
        return self.audio is not None and self.audio.codec_context.name in COPYABLE_AUDIO

    def frames(self, on_audio: Callable[[av.Packet | av.AudioFrame], None] | None = None
               ) -> Iterator[tuple[np.ndarray, int | None]]:
        """(RGB frame, pts in the stream's time base) in order. Audio met on the way goes to
        `on_audio`: packets when `copies_audio`, else decoded frames (decoded once here)."""
        streams = [self.stream] + ([self.audio] if self.audio is not None and on_audio else [])
        try:
            for packet in self.container.demux(*streams):
                if packet.stream is self.stream:
                    for frame in packet.decode():
                        yield frame.to_ndarray(format="rgb24"), frame.pts
                elif packet.dts is not None:
                    for item in [packet] if self.copies_audio else packet.decode():
                        on_audio(item)
        except av.FFmpegError as exc:
            raise UserError(f"{self.path}: cannot decode the video ({exc})") from None

    def close(self) -> None:
        self.container.close()


class VideoOutput:
    """An H.264 MP4 at `path` with the timing of `source` and a copy of its audio."""

    def __init__(self, path: Path, source: VideoInput):
        self.path, self.frames = path, 0
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        odd = source.width % 2 or source.height % 2
        self.video = self.container.add_stream("libx264", rate=source.rate)
        self.video.width, self.video.height = source.width, source.height
        self.video.pix_fmt = "yuv444p" if odd else "yuv420p"
        self.video.codec_context.time_base = source.stream.time_base or 1 / source.rate
        self.video.options = {"crf": CRF, "preset": "veryfast"}
        self.time_base = self.video.codec_context.time_base
        self.audio = None
        if source.audio is not None and source.copies_audio:
            self.audio = self.container.add_stream_from_template(source.audio)
        elif source.audio is not None:
            self.audio = self.container.add_stream("aac", rate=source.audio.codec_context.sample_rate)
            self.audio.layout = source.audio.codec_context.layout
        self.copies_audio = source.copies_audio

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = pts if pts is not None else self.frames
        frame.time_base = self.time_base
        self.container.mux(self.video.encode(frame))
        self.frames += 1

    def add_audio(self, item: av.Packet | av.AudioFrame) -> None:
        """The source's audio: a packet to copy, or a decoded frame to encode to AAC."""
        if self.audio is None:
            return
        if isinstance(item, av.AudioFrame):
            item.pts = None  # the encoder numbers its samples itself
            self.container.mux(self.audio.encode(item))
            return
        copy = av.Packet(bytes(item))  # muxing consumes a packet; every output gets its own
        copy.pts, copy.dts, copy.time_base = item.pts, item.dts, item.time_base
        copy.duration, copy.is_keyframe = item.duration, item.is_keyframe
        copy.stream = self.audio
        self.container.mux(copy)

    def close(self) -> None:
        """Flush the encoders and finish the file (the MP4 index is written here)."""
        try:
            self.container.mux(self.video.encode(None))
            if self.audio is not None and not self.copies_audio:
                self.container.mux(self.audio.encode(None))
        finally:
            self.container.close()


def video_summary(path: Path) -> dict:
    """What a written video holds: frames, width, height, fps, video codec and profile, audio."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        audio = container.streams.audio[0] if container.streams.audio else None
        return {"frames": frames, "width": stream.codec_context.width, "height": stream.codec_context.height,
                "fps": float(stream.average_rate or 0), "codec": stream.codec_context.name,
                "profile": stream.codec_context.profile,
                "audio": audio.codec_context.name if audio is not None else None}
