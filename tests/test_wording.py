"""Summaries count in words: "1 image", "2 images" (the shared `plural` helper and its users)."""

from __future__ import annotations

from pathlib import Path

from personseg.data.runner import Report as PrepareReport
from personseg.inference.predict import Report as PredictReport
from personseg.wording import plural


def test_plural_is_singular_only_for_exactly_one():
    assert [plural(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
    assert plural(1, "person", "people") == "1 person" and plural(3, "person", "people") == "3 people"


def test_predict_summary_says_1_image_not_1_images():
    assert PredictReport(images=1, seconds=1.0).summary().startswith("1 image in ")
    assert "2 videos (1 frame)" in PredictReport(images=2, videos=2, frames=1, seconds=1.0).summary()


def test_predict_summary_says_where_the_outputs_are_and_counts_frames_as_frames(tmp_path):
    """Was: `1 image in 0.2 s`, and a video's frames counted as images/s."""
    still = PredictReport(images=2, seconds=0.5, out=tmp_path / "out").summary()
    assert still == f"2 images in 0.5 s (4.0 images/s) -> {tmp_path / 'out'}/"
    video = PredictReport(videos=1, frames=120, seconds=4.0, out=tmp_path).summary()
    assert video.startswith("1 video (120 frames) in 4.0 s (30.0 frames/s) -> ") and "image" not in video
    mixed = PredictReport(images=3, videos=1, frames=10, seconds=2.0).summary()
    assert mixed == "3 images, 1 video (10 frames) in 2.0 s"  # one clock for both: no rate to give


def test_prepare_summary_says_1_image_not_1_images():
    report = PrepareReport("val", Path("m.csv"), written=1, persons=1, crowds=1, negatives=1,
                           annotated=True, skipped=[("a.jpg", "broken")], seconds=1.0)
    text = report.text()
    assert "1 image (1 written, 0 already done), 1 person instance, 1 crowd region, 1 negative " in text
    assert "skipped 1 image:" in text
