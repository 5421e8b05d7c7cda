"""Opening CSV files that may be gzipped, and reading their header, with errors that name the file."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.errors import DataError

if TYPE_CHECKING:
    from _csv import Reader as CsvReader  # the type csv.reader returns (has line_num)

GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def open_text(path: Path) -> Iterator[io.TextIOBase]:
    """Open ``path`` as text, gunzipping it when its first bytes say it is gzip."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == GZIP_MAGIC else open
    try:
        with opener(path, "rb") as binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            yield text
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as a (gzipped) UTF-8 CSV file: {exc}") from exc


def read_header(path: Path, reader: Iterator[list[str]], required: Sequence[str],
                optional: Sequence[str] = ()) -> dict[str, int]:
    """Read the header row; return the column index of each required column (and of each
    ``optional`` one the header has)."""
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: the file is empty (no header row)") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; the header has "
            f"{', '.join(header) or 'no columns'} (expected {', '.join(required)})"
        )
    return {c: header.index(c) for c in (*required, *(o for o in optional if o in header))}


def csv_rows(text: io.TextIOBase) -> CsvReader:
    """A csv.reader with a field size limit large enough for a pixels column."""
    csv.field_size_limit(1 << 24)
    return csv.reader(text)
