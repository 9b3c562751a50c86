"""Exceptions that the CLI reports as a one-line error instead of a traceback."""


class UserError(Exception):
    """A problem with the user's input (file, option, data): says which file and what is wrong."""
