"""Progress bars that suit where they are shown.

In a terminal: tqdm on stderr, so stdout stays clean for results. In a Jupyter or Colab
notebook: a progress widget when ipywidgets is installed, otherwise one line of text output that
is updated in place (a display id), so the saved notebook keeps only the final line; tqdm on
stderr would show there as a pink block of carriage-return updates.
"""

from __future__ import annotations

import io
import sys

from tqdm import tqdm


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab), not a terminal IPython."""
    if "ipykernel.zmqshell" not in sys.modules or "IPython" not in sys.modules:
        return False
    from ipykernel.zmqshell import ZMQInteractiveShell
    from IPython import get_ipython

    return isinstance(get_ipython(), ZMQInteractiveShell)


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class DisplayLine(io.TextIOBase):
    """A file for tqdm in a notebook: every write replaces one text output (IPython display id)."""

    encoding = "utf-8"  # tqdm draws its bar with block characters, not '#'

    def __init__(self):
        self._handle = None

    def write(self, text: str) -> int:
        line = text.replace("\r", "").strip()
        if line:
            from IPython.display import display

            bundle = {"text/plain": line}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
        return len(text)


def progress_bar(iterable=None, **options) -> tqdm:
    """`tqdm(iterable, **options)` drawn where the reader looks (see the module docstring)."""
    if not in_notebook():
        return tqdm(iterable, **{"file": sys.stderr, **options})
    options.pop("file", None)
    options.pop("dynamic_ncols", None)  # no terminal to measure
    if _has_widgets():
        from tqdm.notebook import tqdm as widget_bar

        return widget_bar(iterable, **options)
    return tqdm(iterable, file=DisplayLine(), **options)
