"""FER+ crowd votes (``fer2013new.csv``): majority labels or vote distributions.

FER+ votes come in their own column order (``neutral, happiness, ...``); they are mapped onto
the canonical order by name. ``contempt``, ``unknown`` and ``NF`` (not a face) have no canonical
class: they count towards the total number of votes but never become a label, except in FER+'s
own 8 classes (``contempt=True``: :data:`~fer_core.classes.FERPLUS_CLASSES`, contempt last).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fer_core.classes import CLASSES, FERPLUS_CLASSES, class_index
from fer_core.data._dataset import FerDataset
from fer_core.data._textfile import csv_rows, open_text, read_header
from fer_core.errors import DataError

VOTE_COLUMNS = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
    "contempt", "unknown", "NF",
)
_EMOTION_COLUMNS = VOTE_COLUMNS[:7]
# canonical class index -> column in VOTE_COLUMNS
_CANONICAL_TO_COLUMN = np.array(
    [VOTE_COLUMNS.index(c) for c in sorted(_EMOTION_COLUMNS, key=class_index)]
)
# FERPLUS_CLASSES index -> column: the seven, then contempt
_FERPLUS8_TO_COLUMN = np.append(_CANONICAL_TO_COLUMN, VOTE_COLUMNS.index("contempt"))


def _columns(contempt: bool) -> np.ndarray:
    return _FERPLUS8_TO_COLUMN if contempt else _CANONICAL_TO_COLUMN


@dataclass(frozen=True)
class FerPlusVotes:
    """Vote counts ``[N, 10]`` in :data:`VOTE_COLUMNS` order, row-aligned with ``fer2013.csv``."""

    votes: np.ndarray
    usage: tuple[str, ...]
    source: str
    names: tuple[str, ...] = ()
    """FER+ image names (``Image name``), empty for rows without an image; ``()`` when unknown."""

    def __len__(self) -> int:
        return len(self.votes)

    def distribution(self, contempt: bool = False) -> np.ndarray:
        """Vote share of each canonical class ``[N, 7]`` (with ``contempt``: of the 8 FER+ classes,
        ``[N, 8]``); rows with no vote for any of them are all 0."""
        emo = self.votes[:, _columns(contempt)].astype(np.float64)
        total = emo.sum(axis=1, keepdims=True)
        return np.divide(emo, total, out=np.zeros_like(emo), where=total > 0).astype(np.float32)

    def winner(self) -> np.ndarray:
        """The majority rule over all 10 columns: the :data:`VOTE_COLUMNS` index with more than
        half the votes (single votes dropped first), or -1 when no column has a majority."""
        votes = np.where(self.votes <= 1, 0, self.votes)
        ok = votes.max(axis=1) * 2 > votes.sum(axis=1)
        return np.where(ok, votes.argmax(axis=1), -1).astype(np.int64)

    def unaligned(self) -> np.ndarray:
        """Rows whose votes cannot be trusted to describe the pixels at that row: no FER+ image
        (empty name), or a name a later row reuses (FER+'s PNG of it was overwritten).

        All ``False`` when the names are unknown.
        """
        bad = np.zeros(len(self), dtype=bool)
        if not self.names:
            return bad
        seen: dict[str, int] = {}
        for i, name in enumerate(self.names):
            if not name:
                bad[i] = True
                continue
            if name in seen:
                bad[seen[name]] = True
            seen[name] = i
        return bad

    def majority(self, contempt: bool = False) -> np.ndarray:
        """FER+'s majority rule, as in microsoft/FERPlus: the class with more than half the votes.

        First, single votes are dropped as outliers (a count of 1 becomes 0). Then the class
        with more than half of the remaining votes wins; votes for contempt, unknown or
        not-a-face count in that total, so a face most raters could not read gets -1 rather
        than a guess, and so does a face whose majority is contempt (no canonical class), unless
        ``contempt``: then contempt is class 7 of :data:`~fer_core.classes.FERPLUS_CLASSES`.
        """
        votes = np.where(self.votes <= 1, 0, self.votes)
        total = votes.sum(axis=1)
        emo = votes[:, _columns(contempt)]
        best = emo.argmax(axis=1)
        ok = emo.max(axis=1) * 2 > total
        return np.where(ok, best, -1).astype(np.int64)


def read_ferplus_votes(path: str | Path) -> FerPlusVotes:
    """Read a FER+ vote file (plain or gzipped); bad rows raise DataError naming the row."""
    path = Path(path)
    rows: list[list[int]] = []
    usage: list[str] = []
    names: list[str] = []
    with open_text(path) as text:
        reader = csv_rows(text)
        cols = read_header(path, reader, ("Usage", *VOTE_COLUMNS), optional=("Image name",))
        name_col = cols.pop("Image name", None)
        for row in reader:
            if not row:
                continue
            where = f"{path}: row {len(rows)} (line {reader.line_num})"
            try:
                counts = [int(row[cols[c]]) for c in VOTE_COLUMNS]
            except IndexError:
                raise DataError(f"{where}: has {len(row)} fields, expected {len(cols) + 1}") from None
            except ValueError:
                raise DataError(f"{where}: vote counts must be integers") from None
            if min(counts) < 0:
                raise DataError(f"{where}: vote counts must not be negative")
            rows.append(counts)
            usage.append(row[cols["Usage"]].strip())
            names.append(row[name_col].strip() if name_col is not None and name_col < len(row) else "")
    if not rows:
        raise DataError(f"{path}: has a header but no data rows")
    return FerPlusVotes(np.array(rows, dtype=np.int64), tuple(usage), str(path),
                        tuple(names) if name_col is not None else ())


def apply_ferplus(dataset: FerDataset, votes: FerPlusVotes, mode: str = "majority", *,
                  contempt: bool = False) -> FerDataset:
    """Relabel ``dataset`` (read from ``fer2013.csv``) with FER+ votes, dropping unusable rows.

    ``mode="majority"`` sets hard labels by FER+'s majority rule; ``mode="distribution"`` also
    sets ``soft_labels`` (vote shares) and labels each row by its most-voted class. Rows with
    no usable label (no majority, or no emotion vote at all) are dropped. ``contempt=True`` keeps
    FER+'s 8 classes (:data:`~fer_core.classes.FERPLUS_CLASSES`): the dataset's ``classes`` say so.
    """
    if len(votes) != len(dataset):
        raise DataError(
            f"{votes.source}: has {len(votes)} rows but {dataset.source} has {len(dataset)}; "
            "FER+ votes line up with fer2013.csv row by row"
        )
    if mode == "majority":
        labels = votes.majority(contempt)
        keep = labels >= 0
        soft = None
    elif mode == "distribution":
        dist = votes.distribution(contempt)
        keep = dist.sum(axis=1) > 0
        labels = dist.argmax(axis=1)
        soft = torch.from_numpy(dist)
    else:
        raise DataError(f"FER+ mode must be 'majority' or 'distribution', not {mode!r}")
    classes = FERPLUS_CLASSES if contempt else CLASSES
    relabeled = FerDataset(
        dataset.images, torch.from_numpy(labels).long().clamp(0, len(classes) - 1),
        dataset.split_ids, dataset.split_names, dict(dataset.roles),
        f"{dataset.source} + {votes.source} ({mode}, {len(classes)} classes)", dataset.locations, soft,
        classes,
    )
    return relabeled.select_rows(torch.from_numpy(np.flatnonzero(keep)))
