"""Fixtures for the data-layer tests: made-up FER2013 CSVs, and the full real CSV decoded once."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

HEADER = "emotion,pixels,Usage"


def csv_line(emotion: object, pixel_values: int | Sequence[object] | str, usage: str) -> str:
    """One data line; ``pixel_values`` is the pixels text, a list of values, or a seed for made-up ones."""
    if isinstance(pixel_values, int):
        pixel_values = np.random.default_rng(pixel_values).integers(0, 256, 48 * 48).tolist()
    text = pixel_values if isinstance(pixel_values, str) else " ".join(map(str, pixel_values))
    return f"{emotion},{text},{usage}"


@pytest.fixture
def write_csv(tmp_path) -> Callable[..., Path]:
    """``write_csv(lines, name=..., header=..., gz=False)``: a FER2013-layout CSV in tmp_path.

    ``lines`` are ``(emotion, pixels, usage)`` tuples (see :func:`csv_line`) or raw strings;
    ``header=None`` writes no header line.
    """

    def write(lines, *, name: str = "fer.csv", header: str | None = HEADER, gz: bool = False) -> Path:
        body = [header] if header is not None else []
        body += [line if isinstance(line, str) else csv_line(*line) for line in lines]
        data = ("\n".join(body) + "\n" if body else "").encode()
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        return path

    return write


@pytest.fixture(scope="session")
def full_dataset(fer2013_csv, tmp_path_factory):
    """All 35,887 rows of the real FER2013 CSV, decoded once per session.

    Session fixtures are set up before the autouse ``_isolated`` fixture, so the cache folder it
    uses is set here too: the decode lands in the session's cache, never in ``~/.cache``.
    """
    from fer_core.data import load_dataset

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fer-cache"))
        return load_dataset(fer2013_csv)
