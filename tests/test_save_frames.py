"""`--save-frames`: the frames folder appears complete or not at all (a hidden temporary folder
renamed at the end), a failed or interrupted video leaves none, and a killed run's temporary
folder is removed by the next run."""

from __future__ import annotations

import personseg.inference.video
from personseg.files import write_image
from tests.cli_run import run_cli
from tests.test_predict import write_video
from tests.test_predict_safety import fake_backend  # noqa: F401 - the fixture


def test_frames_are_written_under_a_temporary_name_and_appear_whole(tmp_path, fake_backend,  # noqa: F811
                                                                     capsys, monkeypatch):
    video, out = tmp_path / "clip.mp4", tmp_path / "out"
    write_video(video, frames=6, size=(64, 32), fps=10)
    seen = []

    def spy(path, image, **kwargs):
        seen.append((path.parent.name, (out / "clip_frames").exists()))
        write_image(path, image, **kwargs)

    monkeypatch.setattr(personseg.inference.video, "write_image", spy)
    for _ in range(2):  # a second run (--overwrite) replaces the folder whole
        code, _, _ = run_cli(capsys, "predict", video, "--out", out, "--save", "mask", "--save-frames",
                             "--overwrite")
        assert code == 0
    assert len(seen) == 12 and all(folder.startswith(".clip_frames.") for folder, _ in seen)
    assert [exists for _, exists in seen[:6]] == [False] * 6  # never visible while being written
    assert sorted(p.name for p in (out / "clip_frames").iterdir()) == [f"{i:06d}_mask.png" for i in range(6)]
    assert sorted(p.name for p in out.iterdir()) == ["clip_frames", "clip_mask.mp4"]


def test_an_interrupted_video_leaves_no_frames_folder(tmp_path, fake_backend, capsys, monkeypatch):  # noqa: F811
    video, out = tmp_path / "clip.mp4", tmp_path / "out"
    write_video(video, frames=6, size=(64, 32), fps=10)
    calls = []

    def interrupt(path, image, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        write_image(path, image, **kwargs)

    monkeypatch.setattr(personseg.inference.video, "write_image", interrupt)
    code, _, _ = run_cli(capsys, "predict", video, "--out", out, "--save", "mask", "--save-frames")
    assert code == 130
    assert list(out.iterdir()) == []


def test_a_killed_runs_temporary_frames_folder_is_removed(tmp_path, fake_backend, capsys):  # noqa: F811
    video, out = tmp_path / "clip.mp4", tmp_path / "out"
    write_video(video, frames=4, size=(64, 32), fps=10)
    dead = out / ".clip_frames.999999999.abcdefgh.tmp"  # a writer pid that cannot be running
    dead.mkdir(parents=True)
    (dead / "000000_mask.png").write_bytes(b"half")
    code, _, err = run_cli(capsys, "predict", video, "--out", out, "--save", "mask", "--save-frames")
    assert code == 0 and f"{dead}: removed, a temporary file of a killed run" in err
    assert sorted(p.name for p in out.iterdir()) == ["clip_frames", "clip_mask.mp4"]
