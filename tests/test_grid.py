"""Result grids (layout, worst-k choice) and the `grid` / `curves` commands."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.cli import main
from personseg.evaluation.grid import grid_from_images, grid_from_samples, result_grid
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb, write_image
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error
from tests.fakes import ChannelBackend, probability_image, save_tiny_model
from tests.synthetic import make_root


def row_labels(fig) -> list[str]:
    """The label of each row (set on its first panel)."""
    return [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]


def test_result_grid_layout_with_and_without_ground_truth():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
              rng.integers(0, 256, (50, 20, 3), dtype=np.uint8)]
    probs = [np.full((30, 40), 0.7, np.float32), np.zeros((50, 20), np.float32)]
    truths = [np.ones((30, 40), bool), np.zeros((50, 20), bool)]
    fig = result_grid(images, probs, truths, titles=["a.jpg", "b.jpg"])
    assert len(fig.axes) == 2 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == ["input", "prediction (probability)", "mask @0.5",
                                                        "ground truth"]
    assert row_labels(fig) == ["a.jpg  IoU 1.000", "b.jpg  IoU 1.000"]
    # masks are drawn on a fixed 0..1 scale: an all-person mask must come out white, not black
    all_person = fig.axes[2].get_images()[0]
    assert all_person.norm.vmin == 0 and all_person.norm.vmax == 1
    fig = result_grid(images, probs, threshold=0.8)
    assert len(fig.axes) == 2 * 3 and fig.axes[2].get_title() == "mask @0.8"
    with pytest.raises(ValueError):
        result_grid(images, probs[:1])


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
    assert row_labels(fig) == ["s1  IoU 0.000", "s3  IoU 0.250", "s4  IoU 0.500"]
    fig = grid_from_samples(seg, samples, n=2)
    assert row_labels(fig) == ["s0  IoU 0.750", "s1  IoU 0.000"]


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
    assert figure.shape[0] > 100 and figure.shape[1] > 3 * figure.shape[0] / 2  # 2 rows × 4 columns
    out2 = tmp_path / "inputs.png"
    images = root / "images" / "val"
    assert main(["grid", str(images), "--weights", str(tiny_model), "--n", "3", "--out", str(out2)]) == 0
    assert read_rgb(out2).shape[0] > read_rgb(out).shape[0]  # three rows
    assert_error(capsys, "grid", images, "--weights", tiny_model, "--worst", "2",
                 message="--worst needs ground truth")


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
