"""One grammar for naming a model (`FILE | pretrained:NAME | peer:NAME`): every flag and function
that takes a model reads it through `personseg.backends.refs`, and a bad reference is one line
naming the flag the user typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from personseg.backends.refs import KERAS_KINDS, ModelRef, parse_ref
from personseg.errors import OptionError
from personseg.pretrained import model_file
from tests.cli_run import assert_error
from tests.synthetic import make_root


def test_the_three_kinds():
    assert parse_ref("runs/a/model.h5") == ModelRef("file", "runs/a/model.h5")
    assert parse_ref("pretrained:fast") == ModelRef("pretrained", "fast")
    assert parse_ref("peer:pphumanseg") == ModelRef("peer", "pphumanseg")
    assert parse_ref("C:/models/x.h5").kind == "file"  # a drive letter is not a prefix
    assert parse_ref("pretrained:fast").keras_file() == model_file("fast", "keras")
    assert [parse_ref(t).label for t in ("runs/a/model.h5", "pretrained:fast", "peer:pphumanseg")] == [
        "model", "fast", "pphumanseg"]
    assert str(parse_ref("pretrained:fast")) == "pretrained:fast"


@pytest.mark.parametrize(("text", "kinds", "problem"), [
    ("pretrained:nope", KERAS_KINDS, "no packaged model of that name; give a model file or pretrained:{unet"),
    ("peer:nope", ("file", "pretrained", "peer"), "no peer of that name; give a model file, pretrained:{"),
    ("peer:pphumanseg", KERAS_KINDS, "a published model is not taken here; give a model file or "),
    ("pretrained:", KERAS_KINDS, "empty model name"),
])
def test_one_wording_for_a_bad_reference(text, kinds, problem):
    with pytest.raises(OptionError) as info:
        parse_ref(text, "init", kinds)
    assert info.value.flag_message().startswith(f"--init {text}: {problem}")


@pytest.mark.parametrize(("argv", "flag"), [
    (["predict", "x.jpg", "--out", "{tmp}/out"], "--weights"),
    (["evaluate", "--data", "{root}"], "--weights"),
    (["export", "--format", "onnx"], "--weights"),
    (["bench", "--quick"], "--weights"),
    (["train", "--data", "{spec}", "--val", "{spec}", "--out", "{tmp}/run"], "--init"),
    (["train", "--data", "{spec}", "--val", "{spec}", "--out", "{tmp}/run"], "--teacher"),
])
def test_every_flag_that_takes_a_model_names_itself(tmp_path, capsys, argv, flag):
    root = make_root(tmp_path / "data", n=2, split="val")
    argv = [a.format(tmp=tmp_path, root=root, spec=f"{root}:val") for a in argv]
    line = assert_error(capsys, *argv, flag, "pretrained:nope",
                        message=f"{flag} pretrained:nope: no packaged model of that name; give ")
    assert "--pretrained" not in line
    assert not (tmp_path / "run").exists()  # found before a run folder is made


@pytest.mark.slow
def test_export_takes_a_packaged_model_and_writes_here(tmp_path, monkeypatch):
    from personseg.export.exporter import export_model

    monkeypatch.chdir(tmp_path)
    result = export_model("pretrained:shallow", "onnx")
    assert Path(result.path).resolve() == tmp_path / "shallow.onnx"  # not into the package
    assert all(row.ok for row in result.parity)
