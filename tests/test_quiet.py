"""A quiet command line: no TensorFlow/absl/CUDA start-up lines unless `personseg --verbose`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from personseg.quiet import is_noise
from tests.fakes import save_tiny_model

NOISE = ("cuInit", "oneDNN", "absl", "E0000", "cuda drivers", "CPU instructions")
# what TensorFlow 2.21 printed on this CPU machine before personseg.quiet
SEEN = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795717369.730433   22707 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1795717369.730760   22707 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.\n",
    "E0000 00:00:1795717373.417060   22707 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA "
    "error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
    "I0000 00:00:1795717458.501329   23815 cpu_feature_guard.cc:227] This TensorFlow binary is optimized "
    "to use available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.\n",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",  # LiteRT allocating a model
    "fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32, output_inference_type: FLOAT32\n",
]


def test_start_up_lines_are_noise_and_real_errors_are_not():
    assert all(is_noise(line) for line in SEEN)
    for line in ("E0000 00:00:1795717373.417060   22707 bfc_allocator.cc:485] Allocator ran out of memory\n",
                 "error: photo.jpg: image file not found\n", "1 image in 0.5 s (2.0 images/s)\n",
                 "images: 100%|██████████| 1/1 [00:00<00:00,  2.04img/s]"):
        assert not is_noise(line)


def predict(tmp_path, model, *flags: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
    from matplotlib import cbook

    photo = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    code = "import sys; from personseg.cli import main; sys.exit(main())"
    out = tmp_path / ("out" + "".join(flags))
    argv = [*flags, "predict", str(photo), "--weights", str(model), "--out", str(out)]
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "1 image in" in result.stdout and (out / "grace_hopper_mask.png").is_file()
    return result.stderr


@pytest.mark.slow
def test_predict_prints_no_tensorflow_noise_unless_verbose(tmp_path):
    model = save_tiny_model(tmp_path / "tiny.h5")
    stderr = predict(tmp_path, model)
    assert not [line for line in stderr.splitlines() if any(word in line for word in NOISE)], stderr
    verbose = predict(tmp_path, model, "--verbose")
    if not any(word in verbose for word in NOISE):
        pytest.skip("this TensorFlow build prints nothing at start-up even with --verbose")
