"""Progress bars: stderr in a terminal; in a notebook a widget, or one text output updated in place."""

from __future__ import annotations

import sys

import pytest

from personseg import progress
from personseg.progress import in_notebook, progress_bar


def test_a_terminal_gets_tqdm_on_stderr(capsys):
    assert not in_notebook()  # pytest is no Jupyter kernel
    for _ in progress_bar(range(3), desc="work", file=sys.stdout):  # file= is the caller's only here
        pass
    captured = capsys.readouterr()
    assert "work: 100%" in captured.out and captured.err == ""
    for _ in progress_bar(range(3), desc="work"):
        pass
    captured = capsys.readouterr()
    assert "work: 100%" in captured.err and captured.out == ""


def test_a_notebook_without_widgets_gets_one_output_updated_in_place(capsys, monkeypatch):
    shown: list[tuple[str, dict, dict]] = []

    class Handle:
        def update(self, bundle, **kwargs):
            shown.append(("update", bundle, kwargs))

    def display(bundle, **kwargs):
        shown.append(("display", bundle, kwargs))
        return Handle()

    monkeypatch.setattr("IPython.display.display", display)
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_has_widgets", lambda: False)
    with progress_bar(total=4, desc="prepare val", file=sys.stderr, dynamic_ncols=True, mininterval=0) as bar:
        for _ in range(4):
            bar.update(1)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # stderr would be a pink block in the notebook
    assert [kind for kind, _, _ in shown] == ["display"] + ["update"] * (len(shown) - 1)
    assert shown[0][2] == {"raw": True, "display_id": True}  # one output, replaced by each update
    assert shown[-1][1]["text/plain"].startswith("prepare val: 100%|██████████| 4/4")
    assert all("\r" not in bundle["text/plain"] for _, bundle, _ in shown)


def test_a_notebook_with_widgets_gets_a_widget(monkeypatch):
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as widget_bar

    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    bar = progress_bar(total=2, disable=True)
    assert isinstance(bar, widget_bar)
