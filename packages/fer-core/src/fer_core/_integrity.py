"""Checks on files a model is loaded from (sha256, JSON configs), without torch.

:mod:`fer_core.training` re-exports these; the torch-free inference path (ONNX Runtime and
numpy) imports them from here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fer_core.errors import FerError


class CheckpointError(FerError):
    """A checkpoint or weight file is missing, damaged or not what it claims to be."""


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's text, at most ``limit`` characters (library errors run long)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_sha256(path: Path, expected: str | None, recorded_in: Path | str) -> None:
    """Raise a :class:`CheckpointError` naming ``path`` and both hashes when its sha256 is not
    ``expected`` (nothing to check when ``expected`` is empty)."""
    if not expected:
        return
    actual = sha256_file(path)
    if actual != expected:
        raise CheckpointError(f"{path} does not match its {Path(recorded_in).name} "
                              f"(sha256 {actual} != recorded {expected})")


def read_json_config(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (a weights or ONNX config), with a one-line error when it is not one."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable JSON config ({first_line(exc)})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: not a JSON object (a weights config is one)")
    return config


__all__ = ["CheckpointError", "check_sha256", "first_line", "read_json_config", "sha256_file"]
