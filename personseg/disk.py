"""What the disk says, for every command that writes: a full, read-only or forbidden disk as a
one-line `WriteError` naming the file, a check that an output can be written before any work
starts, and the temporary files a killed writer left behind (`files.atomic_path` names them).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from personseg.errors import UserError, WriteError

_DISK_PROBLEMS = {
    errno.ENOSPC: "no space left on device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EFBIG: "file too large for this file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
# libraries that lose the errno (h5py, numpy's short writes) still say what happened
_DISK_MESSAGES = {"No space left": errno.ENOSPC, "Disk quota": errno.EDQUOT,
                  "Read-only file system": errno.EROFS, "requested and": errno.ENOSPC}


def _free_and_total(path: str | os.PathLike) -> tuple[int, int] | None:
    existing = Path(path)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        usage = shutil.disk_usage(existing)
    except OSError:
        return None
    return usage.free, usage.total


def _disk_full(path: str | os.PathLike) -> bool:
    """The disk holding `path` is (all but) full: under 1 MB free, or under 5 % on a tiny one."""
    usage = _free_and_total(path)
    return usage is not None and usage[0] < min(1 << 20, usage[1] // 20)


def write_error(path: str | os.PathLike, exc: BaseException) -> WriteError | None:
    """The WriteError for an exception the disk raised while writing `path`, or None when it is
    not a disk problem (full, quota, read-only, permissions). Looks through chained causes; an
    error of a library that lost the errno (protobuf, TensorFlow) on a full disk counts too."""
    error = _write_error(path, exc)
    if error is None and _lost_errno(exc) and _disk_full(path):
        error = WriteError(f"{path}: cannot write: {_DISK_PROBLEMS[errno.ENOSPC]}")
    return error


def _lost_errno(exc: BaseException) -> bool:
    """An error that may be a full disk whose errno a library dropped: not our own UserError, not
    an OSError that says what it is (ECONNREFUSED is no full disk), not an interrupt."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, UserError)):
        return False
    return not (isinstance(exc, OSError) and exc.errno is not None)


def check_space(path: str | os.PathLike, needed: int) -> None:
    """Raise WriteError now when the disk holding `path` has less than `needed` bytes free:
    some writers (h5py) crash the process instead of raising when the disk fills mid-file."""
    usage = _free_and_total(path)
    if usage is not None and usage[0] < needed:
        raise WriteError(f"{path}: cannot write: {_DISK_PROBLEMS[errno.ENOSPC]} (needs about "
                         f"{needed / 1e6:.1f} MB, {usage[0] / 1e6:.1f} MB free)")


def _write_error(path: str | os.PathLike, exc: BaseException) -> WriteError | None:
    seen, depth = exc, 0
    while seen is not None and depth < 8:
        depth += 1
        code = getattr(seen, "errno", None)
        if code not in _DISK_PROBLEMS:
            code = next((c for text, c in _DISK_MESSAGES.items() if text in str(seen)), None)
        if code is not None:
            return WriteError(f"{path}: cannot write: {_DISK_PROBLEMS[code]}")
        seen = seen.__cause__ or seen.__context__
    return None


_TEMP_NAME = re.compile(r"^\..*\.(?P<pid>\d+)\.[A-Za-z0-9_]{8}\.tmp(\..*)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike, max_age_s: float = 3600.0) -> list[Path]:
    """Delete the temporary files a killed writer left in `folder` (not recursive) and return them.

    A temporary file of `atomic_path` names its writer's process id: it is stale when that
    process no longer runs. Other hidden `.*.tmp*` files (older versions) count as stale once
    they are `max_age_s` old. Files of live writers (a concurrent run) are never touched.
    Temporary folders named the same way (`--save-frames`) are removed whole."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for path in folder.iterdir():
        if not (path.name.startswith(".") and ".tmp" in path.name):
            continue
        match = _TEMP_NAME.match(path.name)
        try:
            if match:
                stale = int(match["pid"]) != os.getpid() and not _alive(int(match["pid"]))
            else:
                stale = now - path.stat().st_mtime > max_age_s
            if stale and path.is_dir() and not path.is_symlink():  # a folder written whole (frames)
                shutil.rmtree(path)
                removed.append(path)
            elif stale and path.is_file():
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


def check_writable_folder(folder: str | os.PathLike) -> None:
    """Raise UserError now, before any work, if files cannot be created in `folder` (created
    later if missing): its nearest existing ancestor must be a writable folder."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{existing}: is a file, not a folder (cannot hold {folder})")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".personseg-write-test.{os.getpid()}.", suffix=".tmp",
                                     dir=existing)  # named like atomic_path's: a kill leaves no clutter
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        error = write_error(folder, exc)
        raise (error or UserError(f"{folder}: cannot write here ({exc.strerror or exc})")) from exc


def check_writable_file(path: str | os.PathLike) -> None:
    """Raise UserError now if `path` could not be written later (a folder, or an unwritable place)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder; expected a file name")
    check_writable_folder(path.parent)
