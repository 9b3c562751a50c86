"""TensorFlow's start-up noise, kept off the screen: the C++ log lines (oneDNN, CUDA drivers,
`failed call to cuInit`, CPU instructions), absl's Python warnings and known-benign Keras warnings.

`quiet()` must run before TensorFlow is imported (the `personseg` command calls it first thing,
unless `--verbose`). It sets `TF_CPP_MIN_LOG_LEVEL=3` and absl's verbosity to errors, and,
because TensorFlow's shared libraries log a few lines before its log level is read, it hides
fd 2 while `import tensorflow` runs and passes on every line it wrote there except that noise.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator

# absl's C++ format: severity, MMDD, time, thread, file:line] message
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [\w.\-/]+:\d+\] (.*)")
# Ray's (the ray engine starts it): [date time, severity pid thread] file:line: message
_RAY_LINE = re.compile(r"^\[[\d\- :,]+ ([IWEF]) \d+ \d+\] (.*)")
_BENIGN_ERRORS = re.compile(r"cuInit|Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning")
_BANNERS = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # the second line of cpu_feature_guard's notice
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",  # LiteRT, allocating a model
    "fully_quantize: ",  # the TFLite converter's calibrator, printing its settings
)


# Keras warnings about calls personseg makes on purpose (message starts, regular expressions)
BENIGN_WARNINGS = (
    r"`shuffle=True` was passed, but will be ignored",  # fit() on a tf.data pipeline we shuffle
)


_SWAP = threading.RLock()  # fd 2 is the process's: one swap at a time
_QUIET = threading.Event()  # set by quiet(): noise is filtered wherever it may appear


def is_noise(line: str) -> bool:
    """True for a start-up line of TensorFlow's (or Ray's) C++ logging that says nothing a user
    must act on."""
    line = line.rstrip("\r\n")
    if line.startswith(_BANNERS):
        return True
    match = _ABSL_LINE.match(line) or _RAY_LINE.match(line)
    if match is None:
        return False
    severity, message = match.groups()
    return severity in "IW" or (severity == "E" and _BENIGN_ERRORS.search(message) is not None)


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Collect what is written to fd 2 (C++ and Python alike) and pass on all but the noise."""
    with _SWAP:
        yield from _filtered()


def _filtered() -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2 (e.g. a GUI host)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """`filtered_stderr` once `quiet()` has run (the command line without `--verbose`), else
    nothing: for notes TensorFlow's runtimes print at work, not at start-up."""
    if _QUIET.is_set():
        with filtered_stderr():
            yield
    else:
        yield


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` inside `filtered_stderr`, then steps aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            with filtered_stderr():
                run(module)

        spec.loader.exec_module = exec_module
        return spec


def quiet() -> None:
    """Silence TensorFlow's and absl's start-up logging for this process (call before TensorFlow)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _QUIET.set()
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    for message in BENIGN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
