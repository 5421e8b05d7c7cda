"""Streaming CSV of timeline rows: written as they come, renamed into place when complete.

Rows go to ``NAME.partial`` beside the target, flushed every ``flush_every`` rows; when the
analysis ends the file is fsynced and renamed to ``NAME`` in one step. A crash mid-video leaves
the previous ``NAME`` (if any) untouched and ``NAME.partial`` readable with every row flushed so far.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import TracebackType
from typing import Any


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


class CsvTimelineWriter:
    """``with CsvTimelineWriter(path, columns) as w: w.write(row)`` (long format, one row a face)."""

    def __init__(self, path: str | Path, columns: list[str], flush_every: int = 64) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = partial_path(self.path)
        self._fh = open(self.partial, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._writer = csv.DictWriter(self._fh, fieldnames=columns, extrasaction="raise")
        self._writer.writeheader()
        self.flush_every = flush_every
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self._writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        self.rows += 1
        if self.rows % self.flush_every == 0:
            self._fh.flush()

    def close(self, complete: bool = True) -> None:
        if self._fh.closed:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        if complete:
            os.replace(self.partial, self.path)

    def __enter__(self) -> CsvTimelineWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(complete=exc_type is None)
