"""The Makefile's first-hour targets as a new user runs them: `make demo` segments the bundled
photo without loading TensorFlow (the packaged U-Net's ONNX twin), `make lab` starts JupyterLab
also as root (Docker, cloud VMs), where Jupyter otherwise refuses to run."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent  # this venv stands in for the Makefile's .venv
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_command(target: str) -> list[str]:
    """The command `make TARGET` runs once the venv exists (`-o` skips the install step)."""
    done = subprocess.run(["make", "-n", "-o", ".venv/.installed", target, f"BIN={BIN}"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(str(BIN))]
    return shlex.split(line)


PROBE = """
import sys
from personseg.cli import main
code = main(sys.argv[1:])
print("keras" in sys.modules, "tensorflow" in sys.modules)
raise SystemExit(code)
"""


def test_make_demo_runs_on_onnx_runtime_without_tensorflow(tmp_path):
    command = make_command("demo")
    assert Path(command[0]).name == "personseg"
    args = command[1:]
    args[args.index("--out") + 1] = str(tmp_path / "demo")
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "False False"  # neither Keras nor TensorFlow was loaded
    written = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert written == ["grace_hopper_blur.jpg", "grace_hopper_cutout.png", "grace_hopper_mask.png",
                       "grace_hopper_overlay.jpg"]


def test_make_lab_passes_allow_root_only_to_root():
    command = make_command("lab")
    assert command[:2] == [str(BIN / "jupyter"), "lab"]
    assert ("--allow-root" in command) == (os.geteuid() == 0)


@pytest.mark.slow
def test_make_lab_starts_jupyterlab_as_this_user(tmp_path):
    """As root (this container), JupyterLab used to stop with "Running as root is not recommended"."""
    command = make_command("lab")
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen([*command, "--no-browser", f"--port={port}", "--ip=127.0.0.1"], cwd=REPO,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.poll() is None:
                if f"127.0.0.1:{port}/lab" in log.read_text():
                    break
                time.sleep(0.5)
            text = log.read_text()
            assert server.poll() is None, text[-2000:]
            assert f"127.0.0.1:{port}/lab" in text, text[-2000:]
        finally:
            server.terminate()
            server.wait(timeout=30)
