"""The kill -9 loop of benchmarks/kill_resume_train.py, short: train killed at random moments and
resumed each time ends bit-identical to an uninterrupted --deterministic run, with the same log.
The full run (20+ kills) is recorded in benchmarks/results/kill_resume_train.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_kill_9_loop_around_train_ends_like_an_uninterrupted_run(tmp_path):
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "kill_resume_train.py"), "--kills", "3", "--epochs", "12",
         "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=3600,
    )
    assert out.is_file(), done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["checks"] == {
        "model.h5 identical": True, "backup/epoch-0012.weights.h5 identical": True,
        "log.csv identical but timing": True, "log.csv epochs once each, in order": True,
        "summary identical": True, "no temporary files": True,
    }
    assert result["random_kills"] >= 3 and result["tracebacks"] == 0
    assert result["ok"] and done.returncode == 0
