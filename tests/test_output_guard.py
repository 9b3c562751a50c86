"""Inputs are never written: every command's every output option, pointed at one of its inputs
(directly, through a symlink or a hard link), is refused before any work and the input is
byte-identical. The walk is driven by the commands' own declarations (`personseg.cli.guard`),
so a new command or output flag without a case here fails `test_every_output_option_has_a_case`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pytest

from personseg.cli import COMMANDS, build_parser
from personseg.cli.guard import DERIVED, ROLES, WRITE, WRITE_FOLDER, text_options
from personseg.data.output_guard import check_outputs
from personseg.errors import UserError
from personseg.files import write_image
from tests.cli_run import assert_error


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


@pytest.fixture
def world(tmp_path):
    """Files every command can read: a model, annotations, a prepared root, a run folder."""
    (tmp_path / "m.h5").write_bytes(b"model bytes")
    (tmp_path / "ann.json").write_text('{"images": [], "annotations": [], "categories": []}')
    for sub in ("images/val", "masks/val", "photos", "run", "OUT/annotations"):
        (tmp_path / sub).mkdir(parents=True)
    write_image(tmp_path / "images/val/a.jpg", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "masks/val/a.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "photos/p.jpg", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "run/log.csv").write_text("epoch,loss\n0,1\n")
    (tmp_path / "OUT/annotations/instances_val2017.json").write_text(
        '{"images": [], "annotations": []}')
    return tmp_path


# command -> output option -> (argv, the input file that argv points the output at)
def _cases(w: Path) -> dict[str, dict[str, tuple[list, Path]]]:
    model, ann, photo, mask = w / "m.h5", w / "ann.json", w / "photos/p.jpg", w / "masks/val/a.png"
    return {
        "download": {"out": (["coco", "--split", "val2017", "--annotations",
                              w / "OUT/annotations/instances_val2017.json", "--out", w / "OUT"],
                             w / "OUT/annotations/instances_val2017.json")},
        "prepare": {"out": (["--annotations", ann, "--images", w / "images/val", "--out",
                             w / "images/val"], w / "images/val/a.jpg")},
        "prepare-folder": {"out": (["--images", w / "images/val", "--masks", w / "masks/val",
                                    "--out", w / "masks/val"], mask)},
        "train": {"out": (["--data", w, "--val", w, "--init", model, "--out", model], model),
                  "teacher_cache": (["--data", w, "--val", w, "--out", w / "r", "--teacher", model,
                                     "--teacher-cache", w / "masks"], mask)},
        "evaluate": {"csv": (["--weights", model, "--annotations", ann, "--images", w / "images/val",
                              "--csv", ann], ann)},
        "predict": {"out": ([photo, "--weights", model, "--out", photo], photo)},
        "cutout": {"output": ([photo, w / "photos/p.jpg", "--weights", model], photo)},
        "grid": {"out": (["--weights", model, "--data", w, "--split", "val", "--out", mask], mask)},
        "curves": {"out": ([w / "run", "--out", w / "run/log.csv"], w / "run/log.csv")},
        "export": {"out": (["--weights", model, "--format", "onnx", "--out", model], model)},
        "bench": {"out": (["--weights", model, "--out", model], model),
                  "markdown": (["--weights", f"mine={model}", "--markdown", model], model),
                  "workdir": (["--weights", model, "--e2e", w / "photos", "--workdir", w / "photos"],
                              photo)},
        "serve": {},
    }


def _outputs(module) -> set[str]:
    return {dest for dest, role in module.PATHS.items() if role in (WRITE, WRITE_FOLDER)} | (
        {"out"} if hasattr(module, "derived_paths") and "out" in module.PATHS else set())


def test_every_text_option_of_every_command_is_declared():
    import importlib

    for name, parser in _subparsers().items():
        module = importlib.import_module(f"personseg.cli.{COMMANDS[name][0]}")
        declared = getattr(module, "PATHS", None)
        assert declared is not None, f"personseg {name}: no PATHS declaration"
        assert set(declared.values()) <= set(ROLES)
        missing = [a.dest for a in text_options(parser) if a.dest not in declared]
        assert not missing, f"personseg {name}: undeclared text options {missing}"
        if DERIVED in declared.values():
            assert hasattr(module, "derived_paths"), name


def test_every_output_option_has_a_case(tmp_path):
    import importlib

    cases = _cases(tmp_path)
    assert set(cases) == set(COMMANDS)
    for name in COMMANDS:
        module = importlib.import_module(f"personseg.cli.{COMMANDS[name][0]}")
        assert set(cases[name]) == _outputs(module), name


def test_every_output_option_pointed_at_an_input_is_refused(world, capsys):
    for name, options in _cases(world).items():
        for option, (argv, victim) in options.items():
            before = victim.read_bytes()
            assert_error(capsys, name, *argv, message="input")
            assert victim.read_bytes() == before, (name, option)


def test_a_symlink_and_a_hard_link_to_an_input_are_refused(world, capsys):
    model = world / "m.h5"
    (world / "link.h5").symlink_to(model)
    os.link(model, world / "hard.h5")
    for out in ("link.h5", "hard.h5"):
        assert_error(capsys, "export", "--weights", model, "--format", "onnx",
                     "--out", world / out, message="is the input --weights")
        assert_error(capsys, "evaluate", "--weights", world / out, "--annotations", world / "ann.json",
                     "--images", world / "images/val", "--csv", model, message="is the input --weights")
    assert model.read_bytes() == b"model bytes"


def test_an_output_folder_reached_through_a_symlink_is_refused(world, capsys):
    (world / "alias").symlink_to(world / "photos")
    assert_error(capsys, "predict", world / "photos", "--weights", world / "m.h5",
                 "--out", world / "alias", message="is the input")


def test_globs_and_named_roots_count_as_inputs(world, capsys):
    assert_error(capsys, "grid", str(world / "photos/*.jpg"), "--weights", world / "m.h5",
                 "--out", world / "photos/p.jpg", message="is the input INPUT")
    assert_error(capsys, "bench", "--weights", world / "m.h5", "--e2e", world / "photos",
                 "--calibration", f"{world}:val", "--out", world / "images/val/x.png",
                 message="image inside the input folder --calibration")


def test_a_figure_beside_a_dataset_root_is_allowed_inside_its_folders_refused(world, capsys):
    from personseg.cli import grid as grid_module
    from personseg.cli import guard

    parser = _subparsers()["grid"]
    for out, refused in ((world / "grid.png", False), (world / "masks/val/a.png", True),
                         (world / "images/val/new.png", True)):
        args = parser.parse_args(["--data", str(world), "--out", str(out)])
        if refused:
            with pytest.raises(UserError, match="image inside the input folder --data"):
                guard.check_command(grid_module, parser, args)
        else:
            guard.check_command(grid_module, parser, args)


def test_outputs_beside_the_inputs_are_allowed(world):
    check_outputs([("--data", world), ("--weights", world / "m.h5")],
                  [("--csv", world / "scores.csv")], [("--out", world / "predictions")])
    with pytest.raises(UserError, match="image inside the input folder"):
        check_outputs([("--data", world)], [("--out", world / "images/val/new.png")])


def test_the_library_calls_refuse_too(world):
    from personseg.data.download import download_coco

    ann = world / "OUT/annotations/instances_val2017.json"
    before = ann.read_bytes()
    with pytest.raises(UserError, match="is the input annotations"):
        download_coco(world / "OUT", "val2017", annotations=str(ann), max_images=5)
    assert ann.read_bytes() == before


def test_export_model_refuses_to_write_over_its_model(tmp_path):
    from personseg.export.exporter import export_model
    from tests.fakes import save_tiny_model

    model = save_tiny_model(tmp_path / "m.h5")
    before = model.read_bytes()
    with pytest.raises(UserError, match="is the input weights"):
        export_model(model, "onnx", out=model)
    assert model.read_bytes() == before
