"""Every number a user gives, checked one way for the CLI, `serve` and the Python API: finite,
inside a stated range, model sizes a multiple of 32 up to `MAX_SIZE`, ONNX opsets among those
the installed converter writes. A bad value is an `OptionError` naming the parameter (the CLI
words it for its flag) before any work starts.
"""

from __future__ import annotations

import math

from personseg.errors import OptionError

MAX_SIZE = 2048  # model input side: a U-Net at 2048² already needs gigabytes per batch image
MIN_OPSET = 13  # Resize and Conv semantics the exported models rely on


def check_number(option: str, value: float | int, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, high_open: bool = False) -> float | int:
    """`value` if it is a finite number in [low, high] (open ends as asked), else OptionError."""
    wanted = _range(low, high, low_open, high_open)  # e.g. "be at least 1", "not be negative"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise OptionError(option, value, "must be a finite number" + (f" and {wanted}" if wanted else ""))
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise OptionError(option, value, f"must {wanted}")
    return value


def _range(low, high, low_open: bool, high_open: bool) -> str:
    if low == 0 and not low_open and high is None:
        return "not be negative"
    parts = []
    if low is not None:
        parts.append(f"{'above' if low_open else 'at least'} {low:g}")
    if high is not None:
        parts.append(f"{'below' if high_open else 'at most'} {high:g}")
    return f"be {' and '.join(parts)}" if parts else ""


def check_size(size: int, option: str = "size") -> int:
    """A model input side: a positive multiple of 32, at most MAX_SIZE."""
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 32 or size > MAX_SIZE:
        raise OptionError(option, size, f"must be a positive multiple of 32, at most {MAX_SIZE}")
    return size


def onnx_opsets() -> range:
    """The ONNX opsets the installed tf2onnx can write (from MIN_OPSET)."""
    from tf2onnx.constants import OPSET_TO_IR_VERSION

    return range(MIN_OPSET, max(OPSET_TO_IR_VERSION) + 1)


def check_opset(opset: int) -> int:
    opsets = onnx_opsets()
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in opsets:
        raise OptionError("opset", opset, f"choose an ONNX opset from {opsets.start} to {opsets.stop - 1} "
                                          "(what the installed tf2onnx writes)")
    return opset
