"""One validation for every number (`personseg.limits`): every float option of every command
given `nan` or `inf` is one error line and exit 2 before any work; sizes are multiples of 32 up
to `MAX_SIZE` for the CLI, the API and `serve`'s model; opsets are those the converter writes."""

from __future__ import annotations

import argparse

import pytest

from personseg.cli import build_parser
from personseg.errors import OptionError
from personseg.limits import MAX_SIZE, check_number, check_opset, check_size
from tests.cli_run import run_cli
from tests.synthetic_coco import make_coco


def _float_options() -> dict[str, list[str]]:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    return {name: [a.option_strings[-1] for a in sub._actions
                   if a.type is float and isinstance(a, argparse._StoreAction)]
            for name, sub in commands.items()}


def _base(tmp_path) -> dict[str, list]:
    ann, images = make_coco(tmp_path / "coco")
    return {
        "download": ["coco", "--split", "val2017", "--annotations", ann, "--out", tmp_path / "dl"],
        "prepare": ["--annotations", ann, "--images", images, "--out", tmp_path / "prep"],
        "train": ["--data", tmp_path, "--val", tmp_path, "--out", tmp_path / "run"],
        "evaluate": ["--annotations", ann, "--images", images],
        "predict": [images, "--out", tmp_path / "pred"],
        "cutout": [images / "a.jpg", tmp_path / "cut.png"],
        "grid": [images, "--out", tmp_path / "grid.png"],
        "serve": ["--port", "1"],
    }


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_every_float_option_refuses_nan_and_inf_before_any_work(tmp_path, capsys, value):
    base = _base(tmp_path)
    for command, options in _float_options().items():
        if options:
            assert command in base, f"personseg {command}: add a base command line for its floats"
        for option in options:
            code, _, err = run_cli(capsys, command, *base[command], option, value)
            assert code == 2 and value in err, (command, option, err)
    written = ("dl", "prep", "run", "pred", "grid.png", "cut.png")
    assert not any((tmp_path / name).exists() for name in written)


def test_lr_nan_is_refused_by_the_api_too():
    from personseg.training.config import TrainConfig

    with pytest.raises(OptionError, match="lr=nan: must be a finite number and not be negative"):
        TrainConfig(data=["d"], val=["v"], out="o", lr=float("nan"))


@pytest.mark.parametrize("size", [0, 100, -32, MAX_SIZE + 32, 100000])
def test_sizes_outside_the_stated_range_are_refused_everywhere(tmp_path, capsys, size):
    with pytest.raises(OptionError, match=f"at most {MAX_SIZE}"):
        check_size(size)
    for argv in (["export", "--weights", tmp_path / "missing.h5", "--format", "onnx", "--size", size],
                 ["predict", tmp_path, "--out", tmp_path / "o", "--size", size],
                 ["train", "--data", tmp_path, "--val", tmp_path, "--out", tmp_path / "run", "--size", size]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and f"--size {size}: must be a positive multiple of 32, at most {MAX_SIZE}" in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "o").exists()


def test_opsets_are_those_the_converter_writes(tmp_path, capsys):
    assert check_opset(17) == 17
    for opset in (999, 0, 7):
        with pytest.raises(OptionError, match="choose an ONNX opset from 13 to"):
            check_opset(opset)
    code, _, err = run_cli(capsys, "export", "--weights", tmp_path / "m.h5", "--format", "onnx",
                           "--opset", "999")
    assert code == 2 and "--opset 999: choose an ONNX opset" in err


def test_check_number_states_its_range():
    assert check_number("x", 0.5, 0, 1) == 0.5
    with pytest.raises(OptionError, match="must be above 0 and at most 1"):
        check_number("x", 0, 0, 1, low_open=True)
    with pytest.raises(OptionError, match="must be a finite number"):
        check_number("x", float("-inf"))
