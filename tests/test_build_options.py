"""Shipped models know their own architecture: each packaged model's build options
(`personseg/pretrained/NAME.json`) build exactly the network in its file, `train --init` takes
them from there (no model flags), and TrainConfig's defaults build the shipped U-Net."""

from __future__ import annotations

import argparse
import json

import pytest

from personseg.errors import OptionError
from personseg.pretrained import MODELS, build_options, model_file
from personseg.training.build_check import build_options_of, build_problem
from personseg.training.config import TrainConfig


def config(**fields) -> TrainConfig:
    return TrainConfig(**{"data": ["d"], "val": ["v"], "out": "run", **fields})


@pytest.mark.parametrize("name", list(MODELS))
def test_build_options_build_the_network_in_the_file(name):
    """Fails when a shipped .h5 is replaced by another architecture without its NAME.json
    (`scripts/ship_model.py` writes both)."""
    assert build_problem(model_file(name, "keras"), build_options(name)) is None


def test_a_wrong_build_option_is_found():
    options = {**build_options("shallow"), "shallow_filters": [16, 24, 48, 96, 128]}
    assert "not the network its build options build (weight" in build_problem(model_file("shallow", "keras"),
                                                                                options)
    assert "expected the fields" in build_problem(model_file("shallow", "keras"),
                                                  {**build_options("shallow"), "encoder_alpha": 0.35})


def test_train_config_defaults_build_the_shipped_unet():
    assert config().build_options() == build_options("unet")


def parse_train(*argv) -> TrainConfig:
    from personseg.cli import train as cli_train

    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    return cli_train.config_from_args(parser.parse_args(["--data", "d", "--val", "v", "--out", "r", *argv]))


@pytest.mark.parametrize("name", list(MODELS))
def test_init_brings_the_architecture_of_a_packaged_model(name):
    assert parse_train("--init", f"pretrained:{name}").build_options() == build_options(name)


def test_a_model_flag_that_contradicts_init_is_named():
    alpha = build_options("fast")["encoder_alpha"]  # the packaged fast model's width, not 1.0
    with pytest.raises(OptionError) as info:
        parse_train("--init", "pretrained:fast", "--encoder-alpha", "1.0")
    expected = f"--encoder-alpha 1.0: pretrained:fast was built with {alpha:g}"
    assert info.value.flag_message().startswith(expected)
    same = parse_train("--init", "pretrained:fast", "--encoder-alpha", f"{alpha:g}", "--lr", "2e-4")
    assert same.lr == 2e-4


def test_a_run_model_file_brings_its_runs_architecture(tmp_path):
    config(model="shallow", shallow_filters=[4, 8], out=str(tmp_path)).save(tmp_path / "config.json")
    assert build_options_of(str(tmp_path / "model.h5")) == {
        "model": "shallow", "separable": True, "upsampling": "bilinear", "output_stride": 2,
        "shallow_filters": [4, 8]}
    assert build_options_of(str(tmp_path / "elsewhere" / "x.h5")) == {}


def test_choices_are_the_registries():
    """TrainConfig's choices (what `personseg train` offers, without importing Keras) are the
    registries' names."""
    import dataclasses

    from personseg.models import BUILDERS
    from personseg.models.encoders import MOBILENETV2_ALPHAS
    from personseg.training.losses import LOSSES

    choices = {f.name: f.metadata.get("choices") for f in dataclasses.fields(TrainConfig)}
    assert set(choices["model"]) == set(BUILDERS)
    assert set(choices["loss"]) == set(LOSSES)
    assert tuple(choices["encoder_alpha"]) == MOBILENETV2_ALPHAS
    with pytest.raises(OptionError, match="loss='hinge': choose from bce_dice"):
        config(loss="hinge")


def test_ship_model_checks_a_file_against_a_runs_build_options(capsys):
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("ship_model", REPO / "scripts" / "ship_model.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    main = script.main
    shallow = str(REPO / "weights" / "shallow.h5")
    assert main(["shallow", shallow, "--config", str(REPO / "weights" / "shallow.config.json"),
                 "--dry-run"]) == 0
    assert main(["shallow", shallow, "--config", str(REPO / "weights" / "fast-ft-s1.config.json"),
                 "--dry-run"]) == 2
    assert "not the network its build options build" in capsys.readouterr().err


def test_ship_model_records_the_framing_in_the_file_and_its_twin(tmp_path, monkeypatch, capsys):
    """Shipping into a scratch repository: the .h5 records `--framing`, its free-size ONNX twin
    too, and both open in it by default."""
    import importlib.util
    import shutil

    from personseg.backends import load_backend
    from personseg.inference.segmenter import Segmenter
    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("ship_model", REPO / "scripts" / "ship_model.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "REPO", tmp_path)
    (tmp_path / "weights").mkdir()
    (tmp_path / "personseg" / "pretrained").mkdir(parents=True)
    trained = tmp_path / "trained.h5"
    shutil.copyfile(REPO / "weights" / "shallow.h5", trained)
    assert script.main(["shallow", str(trained), "--framing", "fit"]) == 0, capsys.readouterr().err
    package = tmp_path / "personseg" / "pretrained"
    shipped, twin = tmp_path / "weights" / "shallow.h5", package / "shallow.onnx"
    assert json.loads((package / "shallow.json").read_text()) == build_options("shallow")
    for path in (shipped, twin):
        assert Segmenter(load_backend(path)).framing == "fit", path
    assert Segmenter(load_backend(trained)).framing == "square"  # the file it was given is left as it was
    assert script.main(["shallow", str(shipped)]) == 2  # no --framing: said, nothing written
    assert "--framing: say which framing" in capsys.readouterr().err
    assert Segmenter(load_backend(shipped)).framing == "fit"
    assert script.main(["shallow", str(shipped), "--framing", "square"]) == 0  # in place
    assert Segmenter(load_backend(shipped)).framing == "square"
    assert Segmenter(load_backend(twin)).framing == "square"
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    assert script.main(["shallow", str(notes), "--framing", "fit"]) == 2
    assert f"{notes}: not an HDF5 (.h5) model file" in capsys.readouterr().err
