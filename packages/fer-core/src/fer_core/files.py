"""Files written whole or not at all, with the mode a plain ``open()`` gives them.

Every output of the toolkit goes through here: checkpoints and weights (fer_core.training),
exports and ensembles (fer_models), timelines, plots and annotated videos (fer_temporal).

:func:`atomic_write` writes through a temp file in the target's folder, fsyncs it and renames it
over the target in one step. Unlike :func:`tempfile.mkstemp` (mode 0600), the temp file is
created with ``0o666`` less the umask, so every output (CSV, JSON, PNG, annotated video) ends
with the same mode, 0644 under the usual umask 022.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path


def create_new(path: Path) -> None:
    """Create ``path`` empty with mode ``0o666 & ~umask``; FileExistsError if it exists."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


def temp_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty, hidden temp file in ``path``'s folder (created, so the name is ours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            create_new(tmp)
            return tmp
        except FileExistsError:
            continue


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def stage(path: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> Path:
    """Call ``write(tmp)`` on a new temp file beside ``path`` and fsync it; returns the temp file
    (rename it into place with :func:`commit`). On failure the temp file is removed."""
    tmp = temp_beside(Path(path), suffix)
    mode = tmp.stat().st_mode & 0o777  # 0o666 less the umask
    try:
        write(tmp)
        if tmp.stat().st_mode & 0o777 != mode:  # a writer that made its own file (safetensors: 0600)
            os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit(tmp: Path, path: Path) -> Path:
    """Rename a finished temp file over ``path`` in one step (and make the rename durable)."""
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)
    return Path(path)


def atomic_write(path: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> Path:
    """Call ``write(tmp)``, then fsync ``tmp`` and rename it to ``path``; on any failure the temp
    file is removed and ``path`` (old or absent) is untouched. ``suffix`` is the temp file's
    extension (a writer that picks the format from the name needs the real one)."""
    tmp = stage(Path(path), write, suffix)
    try:
        return commit(tmp, Path(path))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, write)


def make_dirs(folder: Path) -> list[Path]:
    """``folder.mkdir(parents=True, exist_ok=True)``; returns the folders it created, deepest first
    (for :func:`remove_if_empty` after a failure)."""
    folder = Path(folder)
    created: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return created


def remove_if_empty(folders: Iterable[Path]) -> None:
    """Remove each folder (deepest first) if it is empty; stop at the first that is not."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
