"""The exceptions personseg raises for bad input: one line naming the file or option and the problem.

Library functions speak in their own parameter names (`max_side=0: must be at least 1`); the
command line prints the same problem worded for its flags (`--max-side 0: must be at least 1`),
so a message always names what the reader typed.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (file, option, data): says which file and what is wrong."""


class OptionError(UserError):
    """A bad value for one parameter; `str()` names the parameter, `flag_message()` the CLI flag."""

    def __init__(self, option: str, value: object, problem: str):
        self.option, self.value, self.problem = option, value, problem
        super().__init__(f"{option}={value!r}: {problem}")

    def flag_message(self) -> str:
        """The same problem as the command line shows it: `--max-side 0: must be at least 1`."""
        flag = f"--{self.option.replace('_', '-')}"
        if isinstance(self.value, bool):  # bool flags: `--no-separable` turns a default-on field off
            return f"{flag if self.value else '--no-' + flag[2:]}: {self.problem}"
        return f"{flag} {self.value}: {self.problem}"


class WriteError(UserError):
    """The disk refused a write (full, read-only, no permission): every later write would fail
    too, so commands stop instead of skipping file after file."""
