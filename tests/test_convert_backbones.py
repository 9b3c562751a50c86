"""scripts/convert_backbones.py rebuilds the shared MobileNetV2 encoder weights from public TFLite files."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, SHARED, require

SCRIPT = REPO / "scripts" / "convert_backbones.py"
BACKBONES = SHARED / "weights" / "backbones"
IMAGENET_TFLITE = BACKBONES / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
DEEPLAB_TFLITE = SHARED / "weights" / "peers" / "deeplabv3_mnv2_pascal_quant.tflite"
NAMES = ["mobilenet_v2_1.0_imagenet_from_tflite_no_top.weights.h5",
         "mobilenet_v2_1.0_deeplab_cocovoc_no_top.weights.h5"]


def load_script():
    spec = importlib.util.spec_from_file_location("convert_backbones", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.shared_data
def test_rebuilds_the_shared_backbones_and_notices_a_difference(tmp_path):
    for path in (IMAGENET_TFLITE, DEEPLAB_TFLITE, *(BACKBONES / name for name in NAMES)):
        require(path)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(SCRIPT), "--tflite-imagenet", str(IMAGENET_TFLITE),
                           "--tflite-deeplab", str(DEEPLAB_TFLITE), "--out", str(out),
                           "--check-against", str(BACKBONES)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for name in NAMES:
        assert (out / name).is_file()
        assert f"{name}: 104 layers, max |diff| 0\n" in done.stdout, done.stdout  # bit-exact
    assert not list(out.glob("*.partial.*"))

    # The check is not vacuous: a reference off by 1e-3 in one array is reported.
    h5py = pytest.importorskip("h5py")
    perturbed = tmp_path / NAMES[1]
    shutil.copyfile(out / NAMES[1], perturbed)
    perturbed.chmod(0o644)
    with h5py.File(perturbed, "r+") as f:
        kernels = []
        f.visititems(lambda key, item: kernels.append(key) if getattr(item, "ndim", 0) == 4 else None)
        f[kernels[5]][...] = f[kernels[5]][...] + np.float32(1e-3)
    diffs = load_script().compare(out / NAMES[1], perturbed)
    bad = {layer: diff for layer, diff in diffs.items() if diff > 1e-5}
    assert len(bad) == 1 and abs(next(iter(bad.values())) - 1e-3) < 1e-5, bad
