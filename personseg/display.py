"""Showing figures in Jupyter and Colab: the one helper both notebooks use.

A figure is rendered to PNG and displayed, so it looks the same whatever matplotlib backend is
active, and a pyplot-managed figure is closed so it is not drawn a second time.
"""

from __future__ import annotations

import io
import sys

DPI = 80  # show()'s resolution: figures up to 12 in wide (960 px) display at their own size


def show(fig, dpi: int = DPI) -> None:
    """Display a matplotlib figure (pyplot's or a plain `Figure`) as a PNG in the notebook."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    display(Image(buffer.getvalue()))
