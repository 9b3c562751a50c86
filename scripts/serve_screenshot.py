"""Regenerate `assets/serve.png`, the README's picture of `personseg serve`, from a sample photo.

    .venv/bin/python scripts/serve_screenshot.py

It is the screenshot the browser test takes (tests/test_serve_browser.py: Debian's chromium,
matplotlib's grace_hopper.jpg, the packaged model), kept instead of thrown away.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    target = REPO / "assets" / "serve.png"
    env = {**os.environ, "PERSONSEG_SCREENSHOT": str(target)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_serve_browser.py::test_upload_a_photo_see_the_cutout_then_a_broken_file"]
    code = subprocess.run(command, cwd=REPO, env=env).returncode
    if code == 0:
        print(f"wrote {target}")
    return code


if __name__ == "__main__":
    sys.exit(main())
