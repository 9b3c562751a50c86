"""Inference speed of the shipped models per backend → benchmarks/results/infer.json + infer.md.

What docs/export.md's speed table comes from. Runs `personseg bench` with:
  models        every shipped model (personseg.pretrained.MODELS: weights.h5, weights/fast.h5,
                weights/shallow.h5)
  sizes         224, 256 and 320 (each model rebuilt / exported at that fixed size; the fast
                model ships at 224, the shallow one at 256, the U-Net at 320)
  backends      keras, onnx, onnx-int8, tflite, tflite-int8 (int8 calibrated on shared photos)
  end to end    `personseg predict` code on 64 shared photos (mask + overlay written)
  peers         every published model whose file is found (personseg.backends.peers:
                ../shared/weights/peers), at its own input size; MediaPipe's selfie .tflite is
                fetched with `pip download mediapipe==0.10.21 --no-deps` into
                ~/.cache/personseg/mediapipe when it is nowhere else

    python benchmarks/bench_infer.py             # the full run (~15-30 min on 2 cores)
    python benchmarks/bench_infer.py --quick     # smoke run
Further arguments go to `personseg bench` (e.g. --threads 1, --sizes 256); --weights,
--calibration and --e2e replace the defaults rather than adding to them.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "person-masks"


def _from_repo(path: Path) -> str:
    """`path` relative to the checkout (the run happens there): no machine paths in the results."""
    return os.path.relpath(path, REPO)


def default_arguments(user: list[str]) -> list[str]:
    args = []
    if "--quick" not in user:  # a smoke run never overwrites the recorded results
        args += ["--out", "benchmarks/results/infer.json", "--markdown", "benchmarks/results/infer.md"]
    if "--weights" not in user:
        from personseg.pretrained import MODELS

        for name, model in MODELS.items():
            args += ["--weights", f"{name}={model.repo_file}"]
    if "--sizes" not in user:
        args += ["--sizes", "224", "256", "320"]
    if "--calibration" not in user and SHARED.is_dir():
        for folder in ("ccp", "humanseg"):
            args += ["--calibration", _from_repo(SHARED / folder)]
    if "--e2e" not in user and SHARED.is_dir():
        args += ["--e2e", _from_repo(SHARED / "humanseg")]
    return args


def main() -> int:
    from personseg.backends.peers import locate_peer
    from personseg.cli import main as cli_main

    os.chdir(REPO)
    user = sys.argv[1:]
    if "--peers" not in user and locate_peer("mediapipe-selfie") is None:
        user = ["--fetch-mediapipe", *user]
    command = "python benchmarks/bench_infer.py " + shlex.join(sys.argv[1:])
    return cli_main(["bench", *default_arguments(user), *user, "--record-command", command.strip()])


if __name__ == "__main__":
    sys.exit(main())
