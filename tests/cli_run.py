"""Running `personseg` in-process for bad-input tests, with the check every such test makes: the
command ends with a return code and prints no Python traceback (a user sees `error: ...`)."""

from __future__ import annotations

import traceback

import pytest

from personseg.cli import main

TRACEBACK = "Traceback (most recent call last)"


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """`personseg ARGV` → (exit code, stdout, stderr); fails the test on a traceback."""
    args = [str(a) for a in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse rejects a flag: a usage message, no traceback
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:  # noqa: BLE001 - anything else would reach the user as a traceback
        captured = capsys.readouterr()
        pytest.fail(f"personseg {' '.join(args)} raised instead of reporting:\n"
                    + "".join(traceback.format_exception(exc)) + captured.err[-2000:])
    captured = capsys.readouterr()
    assert TRACEBACK not in captured.err and TRACEBACK not in captured.out, captured.err
    return code, captured.out, captured.err


def assert_error(capsys, *argv, message: str) -> str:
    """The command fails with exit 2 and one `error: ...` line containing `message`."""
    code, _, err = run_cli(capsys, *argv)
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and lines and message in lines[-1], err
    return lines[-1]
