"""Committed files carry no path of the machine they were made on: results, run configs and docs
name files relative to the checkout (`../shared/...`), so they read the same on any machine."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import REPO

# an absolute path into a home or workspace folder (POSIX or Windows); example mount points in the
# docs (`/mnt/photos`) are not a machine's own paths
MACHINE_PATH = re.compile(r"(?<![\w.~])(/(work|home|root|Users)/[\w.-]+|[A-Z]:\\Users\\)")
TEXT = (".py", ".md", ".json", ".csv", ".toml", ".txt", ".ipynb", ".html", ".cfg", ".yml", ".yaml")


def test_no_committed_text_file_names_a_machine_path():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    found = []
    for name in files:
        path = REPO / name
        if not name.endswith(TEXT) or path.is_symlink() or name == "tests/test_no_machine_paths.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not found, "\n".join(found)
