"""Result grids (layout, legibility, which rows: first N, worst K, the teaching mix) and the
`grid` / `curves` commands."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.cli import main
from personseg.display import DPI
from personseg.evaluation.grid import (
    ERRORS_TITLE,
    FALSE_POSITIVE,
    FOUND,
    MISSED,
    grid_from_images,
    grid_from_samples,
    people_box,
    result_grid,
)
from personseg.evaluation.grid_rows import ImageStats, choose_mix, count_blobs
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb, write_image
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error
from tests.fakes import ChannelBackend, probability_image, save_tiny_model
from tests.synthetic import make_root


def row_labels(fig) -> list[str]:
    """The label of each row (set on its first panel), lines joined by " | "."""
    return [ax.get_ylabel().replace("\n", " | ") for ax in panels(fig) if ax.get_ylabel()]


def panels(fig) -> list:
    """The image panels, without the colour bar."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_result_grid_layout_with_and_without_ground_truth():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
              rng.integers(0, 256, (50, 20, 3), dtype=np.uint8)]
    probs = [np.full((30, 40), 0.7, np.float32), np.zeros((50, 20), np.float32)]
    truths = [np.ones((30, 40), bool), np.zeros((50, 20), bool)]
    truths[1][:10] = True  # missed
    probs[1][40:] = 0.9  # marked, but nobody there
    fig = result_grid(images, probs, truths, titles=["a.jpg", "b.jpg"], notes=["why a", ""])
    assert len(panels(fig)) == 2 * 3  # three panels a row: the mask is drawn against the truth
    titles = [ax.get_title() for ax in panels(fig)[:3]]
    assert titles == ["input", "probability", f"mask @0.5: {ERRORS_TITLE}"]
    # why the row is there, the file, and its IoU
    assert row_labels(fig) == ["why a | a.jpg | IoU 1.000", "b.jpg | IoU 0.000"]
    found, errors = (panels(fig)[i].get_images()[0].get_array() for i in (2, 5))
    assert (np.asarray(found) == FOUND).all()  # all person, all found: white
    assert (np.asarray(errors[:10]) == MISSED).all() and (np.asarray(errors[40:]) == FALSE_POSITIVE).all()
    assert (np.asarray(errors[10:40]) == 0).all()
    # each row as tall as its photo asks: the portrait row is the taller one
    fig.draw_without_rendering()
    heights = [panels(fig)[i].get_window_extent().height for i in (0, 3)]
    assert heights[1] > 1.5 * heights[0]
    fig = result_grid(images, probs, threshold=0.8)
    assert len(panels(fig)) == 2 * 3 and fig.axes[2].get_title() == "mask @0.8"
    # masks are drawn on a fixed 0..1 scale: an all-person mask must come out white, not black
    no_truth = fig.axes[2].get_images()[0]
    assert no_truth.norm.vmin == 0 and no_truth.norm.vmax == 1
    with pytest.raises(ValueError):
        result_grid(images, probs[:1])


def test_people_box_crops_to_small_people_and_their_largest_group():
    """The "worst" row that was 70 px tall: two cyclists at either end of a wide photo."""
    wide = np.zeros((300, 900), bool)
    wide[200:260, 40:80] = wide[190:260, 820:870] = True
    rows, cols = people_box(wide)
    assert cols.start >= 450 and cols.stop >= 870 and rows.stop >= 260  # the larger cyclist, closer
    assert 0.75 <= (cols.stop - cols.start) / (rows.stop - rows.start) <= 1.8
    one = np.zeros((400, 300), bool)
    one[100:140, 100:130] = True
    rows, cols = people_box(one)
    assert rows.start <= 100 and rows.stop >= 140 and cols.start <= 100 and cols.stop >= 130
    crowd = np.zeros((300, 400), bool)
    crowd[20:280, 10:390:20] = True  # people everywhere: nothing to crop
    assert people_box(crowd) is None and people_box(np.zeros((10, 10), bool)) is None


def test_worst_k_rows_are_the_lowest_iou_images_in_order(tmp_path):
    """Five 8×8 images whose prediction covers 0..4 of the 4 truth pixels: IoU 0, .25, .5, .75, 1."""
    samples = []
    for i, covered in enumerate([3, 0, 4, 1, 2]):
        prob = np.zeros((8, 8))
        prob[0, :covered] = 0.9
        truth = np.zeros((8, 8), bool)
        truth[0, :4] = True
        write_image(tmp_path / f"s{i}.png", probability_image(prob))
        samples.append(Sample(f"s{i}", tmp_path / f"s{i}.png", lambda t=truth: t))
    seg = Segmenter(ChannelBackend(8))
    fig = grid_from_samples(seg, samples, worst=3, batch_size=2)
    assert row_labels(fig) == ["s1 | IoU 0.000", "s3 | IoU 0.250", "s4 | IoU 0.500"]
    fig = grid_from_samples(seg, samples, n=2)
    assert row_labels(fig) == ["s0 | IoU 0.750", "s1 | IoU 0.000"]
    with pytest.raises(ValueError, match="one of"):
        grid_from_samples(seg, samples, n=2, worst=2)


def test_result_grid_is_legible_at_the_size_a_notebook_shows_it():
    """At show()'s dpi the figure fits a notebook's output area (so it is not scaled down), all
    text is at least 12 pt there (13.3 px: 10 pt in a browser), row labels stay within their
    row, and the probability column has a 0..1 colour bar."""
    import io

    from PIL import Image

    images = [np.zeros((480, 640, 3), np.uint8)] * 3
    probs = [np.zeros((480, 640), np.float32)] * 3
    fig = result_grid(images, probs, [np.ones((480, 640), bool)] * 3, titles=["000000000009.jpg"] * 3,
                      notes=["2nd worst"] * 3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    assert Image.open(buffer).width <= 980
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylim() == (0, 1)
    texts = [ax.title for ax in panels(fig) if ax.get_title()] + [ax.yaxis.label for ax in panels(fig)]
    texts += bars[0].get_yticklabels()
    assert min(text.get_fontsize() for text in texts if text.get_text()) >= 12
    fig.draw_without_rendering()
    for ax in panels(fig)[::3]:
        assert ax.yaxis.label.get_window_extent().height <= ax.get_window_extent().height


def stat(index, person, people=1, crowd=False, iou=0.5, wrong=0.1) -> ImageStats:
    return ImageStats(index, person, people, crowd, iou, wrong)


MIXED = [
    stat(0, 0.40, iou=0.9),  # the largest person
    stat(1, 0.20, iou=0.8),
    stat(2, 0.05, iou=0.7),
    stat(3, 0.02, iou=0.6),  # small people: the 25th percentile of person share
    stat(4, 0.01, iou=0.05),  # the smallest, and second worst
    stat(5, 0.30, people=6, iou=0.5),  # a crowd by its count
    stat(6, 0.0, people=0, iou=1.0, wrong=0.0),  # nobody, nothing marked
    stat(7, 0.0, people=0, iou=0.0, wrong=0.02),  # nobody, false positives
    stat(8, 0.10, iou=0.1),
    stat(9, 0.15, iou=0.0, wrong=0.15),  # the worst
]


def picked(rows) -> list[tuple[int, str]]:
    return [(s.index, role) for s, role in rows]


def test_mix_shows_large_and_small_people_a_crowd_nobody_and_the_worst():
    assert picked(choose_mix(MIXED)) == [(0, "large person"), (3, "small people"), (5, "crowd"),
                                         (7, "no person"), (9, "worst"), (4, "2nd worst")]
    # a short mix keeps a person, an image with nobody and the worst case
    assert picked(choose_mix(MIXED, 3)) == [(0, "large person"), (7, "no person"), (9, "worst")]
    assert picked(choose_mix(MIXED, 1)) == [(0, "large person")]
    # a crowd region beats a count of people
    assert picked(choose_mix([*MIXED, stat(10, 0.05, people=2, crowd=True)]))[2] == (10, "crowd")


def test_mix_gives_roles_the_data_cannot_fill_to_the_next_worst():
    no_empty_no_crowd = [s for s in MIXED if s.index not in (5, 6, 7)]
    assert picked(choose_mix(no_empty_no_crowd, 5)) == [
        (0, "large person"), (3, "small people"), (9, "worst"), (4, "2nd worst"), (8, "3rd worst")]
    nobody = [stat(0, 0.0, people=0, iou=1.0, wrong=0.0), stat(1, 0.0, people=0, iou=0.0, wrong=0.01)]
    assert picked(choose_mix(nobody)) == [(1, "no person"), (0, "worst")]
    assert len(choose_mix(MIXED, 50)) == len(MIXED)  # never more rows than images, never twice


def test_count_blobs_counts_people_sized_regions():
    mask = np.zeros((100, 100), bool)
    mask[5:15, 5:15] = mask[40:60, 40:50] = mask[80:95, 70:90] = True
    mask[0, 99] = True  # a speck: 1 of 10,000 pixels
    assert count_blobs(mask) == 3


def test_grid_from_samples_defaults_to_the_mix(tmp_path):
    """8×8 images whose prediction is their red channel: a large person found, small people half
    found, one missed, and two images with nobody (one with two stray pixels)."""
    layouts = {  # name: (truth pixels, predicted pixels) as row-major indices
        "big": (range(32), range(32)),
        "missed": ([63], []),
        "stray": ([], [0, 9]),
        "clean": ([], []),
        "half": ([40, 41, 42, 43], [40, 41]),
    }
    samples = []
    for name, (truth_at, pred_at) in layouts.items():
        truth, prob = np.zeros((8, 8), bool), np.zeros((8, 8))
        truth.flat[list(truth_at)] = True
        prob.flat[list(pred_at)] = 0.9
        write_image(tmp_path / f"{name}.png", probability_image(prob))
        samples.append(Sample(name, tmp_path / f"{name}.png", lambda t=truth: t))
    seg = Segmenter(ChannelBackend(8))
    assert row_labels(grid_from_samples(seg, samples)) == [
        "large person | big | IoU 1.000", "small people | half | IoU 0.500",
        "no person | stray | 3.1% marked person", "worst (cropped) | missed | IoU 0.000",
        "2nd worst | clean | 0.0% marked person"]
    assert row_labels(grid_from_samples(seg, samples, mix=3)) == [
        "large person | big | IoU 1.000", "no person | stray | 3.1% marked person",
        "worst (cropped) | missed | IoU 0.000"]  # the whole image's IoU, whatever the crop shows


def test_grid_from_images_takes_the_first_n_readable(tmp_path):
    for i in range(3):
        write_image(tmp_path / f"{i}.png", np.full((10, 12, 3), 40 * i, np.uint8))
    (tmp_path / "0a.png").write_bytes(b"junk")
    fig, failures = grid_from_images(Segmenter(ChannelBackend(16)), [str(tmp_path)], n=2)
    assert row_labels(fig) == ["0.png", "1.png"]
    assert len(failures) == 1 and "0a.png" in failures[0]  # the unreadable one is reported


def test_grid_command_reports_unreadable_inputs(tmp_path, capsys):
    tiny = save_tiny_model(tmp_path / "tiny.h5")
    write_image(tmp_path / "in" / "ok.png", np.full((10, 12, 3), 90, np.uint8))
    (tmp_path / "in" / "bad.png").write_bytes(b"junk")
    code = main(["grid", str(tmp_path / "in"), "--weights", str(tiny), "--out", str(tmp_path / "g.png")])
    assert code == 1 and (tmp_path / "g.png").is_file()
    assert "bad.png" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.h5")


def test_grid_command_writes_a_figure(tmp_path, tiny_model, capsys):
    root = make_root(tmp_path / "data", n=4, split="val", size=(40, 56))
    out = tmp_path / "grid.png"
    args = ["grid", "--weights", str(tiny_model), "--data", str(root), "--worst", "2", "--out", str(out)]
    assert main(args) == 0
    figure = read_rgb(out)
    assert figure.shape[0] > 100 and figure.shape[1] > 3 * figure.shape[0] / 2  # 2 rows × 3 columns
    mix = tmp_path / "mix.png"  # with ground truth and no --n/--worst: the mix (4 images: all of them)
    assert main(["grid", "--weights", str(tiny_model), "--data", str(root), "--out", str(mix)]) == 0
    assert read_rgb(mix).shape[0] > 1.8 * figure.shape[0]
    assert main(["grid", "--weights", str(tiny_model), "--data", str(root), "--mix", "2",
                 "--out", str(mix)]) == 0
    assert abs(read_rgb(mix).shape[0] - figure.shape[0]) < 10  # two rows, like --worst 2
    with pytest.raises(SystemExit):
        main(["grid", "--weights", str(tiny_model), "--data", str(root), "--n", "2", "--worst", "2"])
    out2 = tmp_path / "inputs.png"
    images = root / "images" / "val"
    assert main(["grid", str(images), "--weights", str(tiny_model), "--n", "3", "--out", str(out2)]) == 0
    assert read_rgb(out2).shape[0] > read_rgb(out).shape[0]  # three rows
    assert_error(capsys, "grid", images, "--weights", tiny_model, "--worst", "2",
                 message="--worst needs ground truth")
    assert_error(capsys, "grid", images, "--weights", tiny_model, "--mix", "2",
                 message="--mix needs ground truth")


def test_curves_command(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    rows = ["epoch,loss,val_loss,iou,val_iou,dice,val_dice"]
    rows += [f"{e},{1 - e / 10},{1.1 - e / 10},{e / 10},{e / 12},{e / 9},{e / 11}" for e in range(4)]
    (run / "log.csv").write_text("\n".join(rows) + "\n")
    assert main(["curves", str(run)]) == 0
    assert read_rgb(run / "curves.png").shape[2] == 3
    assert main(["curves", str(run), "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").is_file()
    assert_error(capsys, "curves", tmp_path, message="no log.csv")
