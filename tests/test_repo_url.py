"""One repository URL for Colab: both notebooks' REPO_URL, pyproject's Repository and the README's
"Open in Colab" badges agree, and scripts/set_repo_url.py moves them all at once."""

from __future__ import annotations

import importlib.util
import shutil

import nbformat

from tests.conftest import REPO
from tests.notebooks import parameters_cell

spec = importlib.util.spec_from_file_location("set_repo_url", REPO / "scripts" / "set_repo_url.py")
set_repo_url = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repo_url)


def notebook_setting(path) -> str:
    values: dict = {}
    exec(parameters_cell(nbformat.read(path, as_version=4)).source, values)  # plain assignments
    return values["REPO_URL"]


def test_every_place_names_the_same_repository():
    url = notebook_setting(REPO / "Model.ipynb")
    assert notebook_setting(REPO / "Dataset Preparation.ipynb") == url
    found = set_repo_url.settings()
    assert len(found) == 5, found  # two notebooks, pyproject, two badges
    assert set(found.values()) == {url}
    readme = (REPO / "README.md").read_text()
    for name in set_repo_url.NOTEBOOKS:
        assert set_repo_url.badge_url(url, name) in readme  # a badge per notebook, opening that file


def test_setting_a_new_url_changes_every_place_and_nothing_else(tmp_path):
    for name in (*set_repo_url.NOTEBOOKS, "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    set_repo_url.set_url("https://github.com/someone/fork", tmp_path)
    assert set(set_repo_url.settings(tmp_path).values()) == {"https://github.com/someone/fork"}
    assert notebook_setting(tmp_path / "Model.ipynb") == "https://github.com/someone/fork"
    assert "https://colab.research.google.com/github/someone/fork/blob/main/Dataset%20Preparation.ipynb" in \
        (tmp_path / "README.md").read_text()
    before = nbformat.read(REPO / "Model.ipynb", as_version=4)
    after = nbformat.read(tmp_path / "Model.ipynb", as_version=4)
    assert [c.source for c in before.cells[2:]] == [c.source for c in after.cells[2:]]
