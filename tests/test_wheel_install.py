"""`pip install personseg` as a user gets it: the wheel, installed away from this checkout into a
venv that has the base dependencies but not the train extra (no TensorFlow, Keras, h5py, onnx,
tf2onnx, LiteRT). The packaged model segments a photo on ONNX Runtime; every path that needs
TensorFlow stops with exit 2 and one `error:` line naming `pip install 'personseg[train]'`."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_pretrained import check_probe, run_probe

pytestmark = pytest.mark.slow
INSTALL = "pip install 'personseg[train]'"
# the train extra's distributions (top-level names as site-packages holds them)
TRAIN_EXTRA = {"tensorflow", "tensorflow_io_gcs_filesystem", "keras", "tf_keras", "tf2onnx", "tensorboard",
               "tensorboard_data_server", "h5py", "onnx", "ai_edge_litert"}


def _without_train_extra(folder: Path) -> Path:
    """A venv whose site-packages links every package of this one except the train extra's (and
    personseg itself): a real environment where `import tensorflow` fails."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = folder / "lib" / version / "site-packages"
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.split("-")[0].split(".")[0].lower()
        if name not in TRAIN_EXTRA and "personseg" not in entry.name:
            (target / entry.name).symlink_to(entry)
    return folder / "bin" / "python"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a venv without TensorFlow, folder the personseg wheel is installed in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheels, site = tmp / "wheels", tmp / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("personseg-*.whl")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    return _without_train_extra(tmp / "venv"), site


def run(installed, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    python, site = installed
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(site)}
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_venv_has_no_tensorflow(installed, tmp_path):
    done = run(installed, tmp_path, "-c", "import tensorflow")
    assert done.returncode == 1 and "No module named 'tensorflow'" in done.stderr


def test_wheel_installed_without_the_repository_segments_a_photo(installed, tmp_path):
    python, site = installed
    lines = run_probe(tmp_path, env_path=str(site), python=python)
    assert lines[0].startswith(str(site))  # the installed copy, not this checkout
    check_probe(lines)


@pytest.fixture
def user_files(tmp_path) -> Path:
    """A photo, a Keras model file and a prepared data folder, as a user would point at them."""
    import shutil

    shutil.copy(REPO / "assets" / "grace_hopper.jpg", tmp_path / "photo.jpg")
    shutil.copy(REPO / "weights" / "shallow.h5", tmp_path / "my.h5")
    from tests.synthetic import make_root

    make_root(tmp_path / "data", n=2, split="val")
    return tmp_path


COMMANDS = {
    "predict --weights my.h5": (["predict", "photo.jpg", "--weights", "my.h5", "--out", "out"], "my.h5"),
    "predict --backend keras": (["predict", "photo.jpg", "--backend", "keras", "--out", "out"],
                                "--backend keras"),
    "train": (["train", "--data", "data:val", "--val", "data:val", "--out", "run"], "personseg train"),
    "export": (["export", "--weights", "my.h5", "--format", "onnx"], "personseg export"),
    "evaluate --weights my.h5": (["evaluate", "--weights", "my.h5", "--data", "data"], "my.h5"),
    "bench": (["bench", "--weights", "my.h5", "--quick"], "personseg bench"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_paths_that_need_tensorflow_say_what_to_install(installed, user_files, name):
    """Was: a 20-line `ModuleNotFoundError: No module named 'keras'` and exit 1."""
    argv, names = COMMANDS[name]
    done = run(installed, user_files, "-m", "personseg", *argv)
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {names}: ") and INSTALL in line, line
    assert not (user_files / "out").exists() and not (user_files / "run").exists()


def test_python_imports_that_need_tensorflow_say_what_to_install(installed, tmp_path):
    for statement, what in [("from personseg import train", "personseg.train"),
                            ("from personseg import build_model", "personseg.models"),
                            ("import personseg.models", "personseg.models")]:
        done = run(installed, tmp_path, "-c", statement)
        assert done.returncode == 1
        last = done.stderr.strip().splitlines()[-1]
        assert last == f"personseg.extras.MissingExtra: {what}: needs TensorFlow, which is not installed " \
                       f"here; {INSTALL}", done.stderr[-2000:]


def test_commands_that_need_no_tensorflow_still_work(installed, tmp_path):
    version = run(installed, tmp_path, "-m", "personseg", "--version")
    assert version.returncode == 0 and version.stdout.startswith("personseg ")
    assert run(installed, tmp_path, "-m", "personseg", "--help").returncode == 0
