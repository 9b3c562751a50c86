"""Sample photos that installed packages ship (never data the project may not redistribute):
matplotlib's `grace_hopper.jpg` and scikit-image's astronaut. Used for export parity checks,
benchmarks, the README figures and tests.
"""

from __future__ import annotations

import numpy as np

from personseg.files import read_rgb


def sample_images() -> dict[str, np.ndarray]:
    """name → uint8 RGB photo; the astronaut only when scikit-image (a dev extra) is installed."""
    from matplotlib import cbook

    images = {"grace_hopper": read_rgb(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))}
    try:
        from skimage import data
    except ImportError:  # one photo still checks an export
        return images
    images["astronaut"] = np.ascontiguousarray(data.astronaut()[..., :3])
    return images
