"""Is TensorFlow here? `pip install personseg` runs the packaged models on ONNX Runtime without
it; training, Keras models, export and the notebooks need the `train` extra. Every path that
needs TensorFlow asks `require_tensorflow` first, so a missing install is one line naming the
extra (`MissingExtra`: a UserError, so the CLI prints it and exits 2; also a
ModuleNotFoundError, so Python code that expects an import error gets one), never a traceback
from deep inside Keras.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder

from personseg.errors import UserError

INSTALL = "pip install 'personseg[train]'"
# top-level modules that the train/export extras provide
TENSORFLOW_MODULES = frozenset({"tensorflow", "keras", "h5py", "tf2onnx", "onnx", "tensorboard", "tf_keras"})


class MissingExtra(UserError, ModuleNotFoundError):
    """`what` needs a module of the train extra that is not installed; the message says what to install."""

    def __init__(self, what: str, module: str = "tensorflow"):
        needs = "TensorFlow" if module.split(".")[0] in ("tensorflow", "keras") else module.split(".")[0]
        UserError.__init__(self, f"{what}: needs {needs}, which is not installed here; {INSTALL}")
        self.name = module


def has_tensorflow() -> bool:
    """True when TensorFlow and Keras can be imported (without importing them). Asks the path
    finder directly: `personseg.quiet`'s import hook must stay armed for the real import."""
    return all(name in sys.modules or PathFinder.find_spec(name) is not None
               for name in ("tensorflow", "keras"))


def require_tensorflow(what: str) -> None:
    """Raise `MissingExtra` naming `what` (a file, a command, a module) unless TensorFlow is here."""
    if not has_tensorflow():
        raise MissingExtra(what)


def explain_missing(exc: BaseException, what: str) -> MissingExtra | None:
    """The `MissingExtra` for an import of a train-extra module that failed, else None (other
    import errors are bugs or broken installs and keep their traceback)."""
    if isinstance(exc, MissingExtra):
        return exc
    name = getattr(exc, "name", None) or ""
    if isinstance(exc, ModuleNotFoundError) and name.split(".")[0] in TENSORFLOW_MODULES:
        return MissingExtra(what, name)
    return None
