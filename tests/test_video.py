"""Videos people can play: H.264 MP4s with the input's frame rate, size (odd too) and audio,
frames streamed, temporal smoothing that measurably steadies a static scene, and playback in a
real browser."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import personseg.inference.video
from personseg.cli import main
from personseg.files import read_mask
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from personseg.inference.temporal import TemporalSmoother, flicker
from personseg.inference.video_io import video_summary
from tests.browser import chromium
from tests.fakes import ChannelBackend


@pytest.fixture
def fake_backend(monkeypatch):
    backend = ChannelBackend(64)
    monkeypatch.setattr(Segmenter, "open", classmethod(lambda cls, *a, **k: cls(backend)))
    return backend


def growing_block(width: int, height: int, count: int) -> list[np.ndarray]:
    frames = []
    for i in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, : (i + 1) * width // (count + 1)] = (250, 40, 40)  # the red "person" grows
        frames.append(frame)
    return frames


def make_video(path: Path, frames: list[np.ndarray], fps: int = 12, codec: str = "libx264",
               audio: str | None = "aac", seconds_of_audio: float | None = None) -> None:
    """A test input: `frames` at `fps`, with a 440 Hz tone in `audio` (None: no audio track)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "rgb24" if codec == "png" else "yuv444p" if width % 2 or height % 2 else "yuv420p"
        sound = None
        if audio:
            sound = out.add_stream(audio, rate=16000)
            sound.layout = "mono"
        for frame in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(video.encode(None))
        if sound is not None:
            rate = 16000
            total = int(rate * (seconds_of_audio or len(frames) / fps))
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / rate)).astype(np.float32)
            fmt = "s16" if audio.startswith("pcm") else "fltp"
            samples = (tone * 32767).astype(np.int16) if fmt == "s16" else tone
            for start in range(0, total, 1024):
                chunk = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format=fmt,
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = rate, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def test_h264_output_keeps_rate_size_frames_and_the_audio(tmp_path, fake_backend, capsys):
    video = tmp_path / "clip.mp4"
    make_video(video, growing_block(80, 48, 24), fps=12)
    out = tmp_path / "out"
    assert main(["predict", str(video), "--out", str(out), "--save", "mask,cutout,replace",
                 "--save-frames", "--edges", "sharp"]) == 0
    for kind in ("mask", "cutout", "replace"):
        summary = video_summary(out / f"clip_{kind}.mp4")
        assert summary == {"frames": 24, "width": 80, "height": 48, "fps": 12.0, "codec": "h264",
                           "profile": "High", "audio": "aac"}, kind
        assert abs(audio_seconds(out / f"clip_{kind}.mp4") - audio_seconds(video)) < 0.07
    assert "1 video (24 frames)" in capsys.readouterr().out
    for i in (0, 11, 23):  # masks follow the block frame by frame
        mask = read_mask(out / "clip_frames" / f"{i:06d}_mask.png") > 0
        edge = (i + 1) * 80 // 25
        assert mask[:, : edge - 2].all() and not mask[:, edge + 2 :].any(), i


def test_odd_size_and_uncopyable_audio(tmp_path, fake_backend):
    """81×47 lossless PNG-in-QuickTime with PCM audio: the size is kept exactly (H.264 4:4:4),
    the PCM track (which MP4 cannot hold) is re-encoded to AAC of the same length."""
    video = tmp_path / "odd.mov"
    make_video(video, growing_block(81, 47, 10), fps=10, codec="png", audio="pcm_s16le")
    out = tmp_path / "out"
    assert main(["predict", str(video), "--out", str(out), "--save", "overlay"]) == 0
    summary = video_summary(out / "odd_overlay.mp4")
    assert (summary["width"], summary["height"], summary["frames"], summary["fps"]) == (81, 47, 10, 10.0)
    assert summary["profile"] == "High 4:4:4 Predictive" and summary["audio"] == "aac"
    assert abs(audio_seconds(out / "odd_overlay.mp4") - 1.0) < 0.1


def test_a_video_without_audio_and_a_fractional_rate(tmp_path, fake_backend):
    video = tmp_path / "silent.mp4"
    frames = growing_block(64, 32, 6)
    with av.open(str(video), "w") as container:  # 30000/1001 fps, like NTSC
        stream = container.add_stream("libx264", rate=Fraction(30000, 1001))
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    assert main(["predict", str(video), "--out", str(tmp_path / "out"), "--save", "mask"]) == 0
    summary = video_summary(tmp_path / "out" / "silent_mask.mp4")
    assert summary["audio"] is None and summary["frames"] == 6
    assert abs(summary["fps"] - 30000 / 1001) < 1e-3


def test_frames_are_streamed_not_collected(tmp_path, fake_backend, monkeypatch):
    """At most a batch of decoded frames waits for the model at any time."""
    video = tmp_path / "long.mp4"
    make_video(video, growing_block(64, 32, 40), audio=None)
    decoded, written, waiting = [0], [0], []
    real_frames = personseg.inference.video.VideoInput.frames
    real_write = personseg.inference.video.VideoOutput.write

    def frames(self, on_audio=None):
        for item in real_frames(self, on_audio):
            decoded[0] += 1
            waiting.append(decoded[0] - written[0])
            yield item

    def write(self, rgb, pts):
        written[0] += 1
        return real_write(self, rgb, pts)

    monkeypatch.setattr(personseg.inference.video.VideoInput, "frames", frames)
    monkeypatch.setattr(personseg.inference.video.VideoOutput, "write", write)
    assert main(["predict", str(video), "--out", str(tmp_path / "out"), "--save", "mask",
                 "--batch-size", "4"]) == 0
    assert written[0] == 40 and max(waiting) <= 4


def test_smoother_calms_a_static_scene_and_follows_motion():
    rng = np.random.default_rng(0)
    photo = np.full((40, 60, 3), 128, np.uint8)
    noisy = [np.clip(0.5 + rng.normal(0, 0.15, (40, 60)), 0, 1) for _ in range(30)]
    smoother = TemporalSmoother(0.7)
    smoothed = [smoother(photo, p) for p in noisy]
    before, after = flicker(p >= 0.5 for p in noisy), flicker(p >= 0.5 for p in smoothed)
    assert before > 0.3 and after < before / 2
    # a bright block moving 10 px a frame: motion-aware smoothing leaves no trail behind it
    smoother, plain = TemporalSmoother(0.7), TemporalSmoother(0.7, motion_aware=False)
    for step in range(4):
        frame = np.zeros((40, 80, 3), np.uint8)
        truth = np.zeros((40, 80), np.float32)
        frame[10:30, 10 * step : 10 * step + 20] = 255
        truth[10:30, 10 * step : 10 * step + 20] = 1
        aware, blind = smoother(frame, truth), plain(frame, truth)
    assert np.array_equal(aware >= 0.5, truth >= 0.5)
    assert (blind >= 0.5).sum() < (truth >= 0.5).sum()  # lags behind the block


def test_smoothing_lowers_measured_flicker_on_a_real_static_scene(tmp_path):
    """The packaged model on a still photo with sensor noise, through H.264: --smooth steadies it."""
    rng = np.random.default_rng(1)
    photo = sample_images()["grace_hopper"][:, :, :]
    frames = [np.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(np.uint8) for _ in range(16)]
    video = tmp_path / "still.mp4"
    make_video(video, frames, fps=8, audio=None)
    scores = {}
    for smooth in ("0", "0.7"):
        out = tmp_path / f"out{smooth}"
        assert main(["predict", str(video), "--out", str(out), "--save", "mask", "--save-frames",
                     "--smooth", smooth]) == 0
        masks = [read_mask(p) > 0 for p in sorted((out / "still_frames").iterdir())]
        assert len(masks) == 16
        scores[smooth] = flicker(masks)
    assert scores["0"] > 0 and scores["0.7"] < scores["0"] * 0.7


def test_bad_smooth_value_is_refused(tmp_path, fake_backend, capsys):
    video = tmp_path / "clip.mp4"
    make_video(video, growing_block(32, 32, 2), audio=None)
    assert main(["predict", str(video), "--out", str(tmp_path / "out"), "--smooth", "1"]) == 2
    assert "--smooth 1.0: must be at least 0 and below 1" in capsys.readouterr().err


PLAY = """
const done = arguments[arguments.length - 1];
const video = document.createElement("video");
video.muted = true;
video.onerror = () => done({error: video.error ? video.error.code : -1});
video.ontimeupdate = () => {
  if (video.currentTime > 0) {
    video.ontimeupdate = null;
    done({width: video.videoWidth, height: video.videoHeight, duration: video.duration,
          time: video.currentTime, frames: video.getVideoPlaybackQuality().totalVideoFrames});
  }
};
video.onloadeddata = () => video.play().catch((e) => done({error: String(e)}));
video.src = arguments[0];
document.body.appendChild(video);
"""


@pytest.mark.slow
def test_outputs_play_in_chromium(tmp_path, fake_backend):
    """The MP4s load and play in a real browser at their own size (even: 4:2:0, odd: 4:4:4)."""
    make_video(tmp_path / "even.mp4", growing_block(80, 48, 24), fps=12)
    make_video(tmp_path / "odd.mov", growing_block(81, 47, 24), fps=12, codec="png", audio=None)
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "even.mp4"), str(tmp_path / "odd.mov"), "--out", str(out),
                 "--save", "overlay"]) == 0
    import base64

    with chromium() as driver:
        driver.set_script_timeout(60)
        driver.get("about:blank")
        for name, size in (("even_overlay.mp4", (80, 48)), ("odd_overlay.mp4", (81, 47))):
            url = "data:video/mp4;base64," + base64.b64encode((out / name).read_bytes()).decode()
            result = driver.execute_async_script(PLAY, url)  # resolves once playback has advanced
            assert "error" not in result, (name, result)
            assert (result["width"], result["height"]) == size, name
            assert abs(result["duration"] - 2.0) < 0.1 and result["time"] > 0 and result["frames"] > 0, name
