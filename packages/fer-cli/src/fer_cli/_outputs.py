"""Checking an output location before any work starts, so a command never fails at its last step.

The checks create nothing: a command that fails later leaves no folder behind. They find the
nearest existing folder on the way to the target, make sure no file stands where a folder is
needed, and create then delete a probe file there (which catches read-only mounts and places like
``/proc`` that even root cannot write to).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fer_core.errors import FerError


class OutputError(FerError):
    """An output location cannot be written (a missing drive, a read-only mount, a file in the way)."""


def _fail(path: Path, option: str, reason: str) -> OutputError:
    where = f" ({option})" if option else ""
    return OutputError(f"cannot write to {path}{where}: {reason}")


def _probe(folder: Path, target: Path, option: str) -> None:
    """Create and delete a file in ``folder`` (an existing folder)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".fercli-write-test-")
    except OSError as exc:
        raise _fail(target, option, exc.strerror or type(exc).__name__) from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)


def _existing_folder(path: Path, target: Path, option: str) -> Path:
    """The nearest existing ancestor of ``path`` (itself included), which must be a folder."""
    current = path
    while not current.exists():
        if current.parent == current:
            break
        current = current.parent
    if not current.is_dir():
        raise _fail(target, option, f"{current} is a file, not a folder")
    return current


def ensure_writable_dir(path: Path, option: str = "--out") -> Path:
    """Check that ``path`` is, or can be created as, a folder that can be written to.

    Raises :class:`OutputError` (``cannot write to PATH (OPTION): reason``); creates nothing.
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise _fail(path, option, "a file, not a folder")
    _probe(_existing_folder(path.absolute(), path, option), path, option)
    return path


def ensure_writable_file(path: Path, option: str = "--out") -> Path:
    """Check that the file ``path`` can be written (created or replaced); creates nothing.

    Raises :class:`OutputError` when it is a folder or its folder cannot be made or written to.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise _fail(path, option, "a folder, not a file")
    _probe(_existing_folder(path.absolute().parent, path, option), path, option)
    return path
