"""The FER+ protocol: FER+ test accuracy (majority labels), as microsoft/FERPlus counts it.

FER+ (Barsoum et al. 2016) relabelled FER2013 with ten crowd votes per image. Its test set is
the PrivateTest rows (``FER2013Test``) whose votes have a majority by the FERPlus rule (single
votes dropped as outliers, then one column with more than half of the rest). The paper scores
8 classes (the 7 and contempt), as models trained on ``ferplus8-`` labels do here
(:data:`~fer_core.classes.FERPLUS_CLASSES`); the **7-class mapping** beside it drops the rows
whose majority is contempt and scores the 7 classes (an 8-class model's contempt output dropped,
the rest renormalised). Both drop, as FERPlus does, the rows whose majority is ``unknown`` or
``NF`` (not a face). Rows whose votes do not describe the pixels at that row (no FER+ image, or
an image name a later row reuses) are dropped first. Every dropped row is counted by reason.

Beside accuracy against the majority label (the paper's figure for every training scheme,
majority vote and PLD alike), two vote-distribution metrics on the same rows: the
cross-entropy from the vote distribution (the scored classes, renormalised) to the predicted
probabilities, and the *rater agreement*, the mean vote share of the predicted class (the
chance that a random rater agrees with the prediction).

This is a protocol of its own: its numbers are never comparable with FER2013-label accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fer_core.classes import CLASSES, FERPLUS_CLASSES
from fer_core.data import FerDataset, FerPlusVotes
from fer_core.errors import DataError
from fer_core.training._evaluate import classification_metrics, drop_contempt, predict_proba

FERPLUS_PROTOCOL = (
    "FER+ protocol: FER+ majority labels (microsoft/FERPlus rule), 7-class mapping "
    "(rows with a contempt, unknown or not-a-face majority excluded; the FER+ paper scores 8 "
    "classes); select on PublicTest, report FER+ test = PrivateTest rows with a usable majority. "
    "Not comparable with FER2013-label accuracy"
)
FERPLUS8_PROTOCOL = (
    "FER+ protocol, 8 classes as the FER+ paper: FER+ majority labels (microsoft/FERPlus rule) "
    "with contempt, rows with an unknown or not-a-face majority excluded; the 7-class mapping "
    "(contempt rows excluded, contempt output dropped) beside it; select on PublicTest, report "
    "FER+ test = PrivateTest rows with a usable majority. Not comparable with FER2013-label accuracy"
)

#: FER+ paper (Barsoum et al. 2016, table 2), VGG13 on the 8-class FER+ test set
PAPER_VGG13 = {"majority": 0.8385, "pld": 0.8499}

#: reasons a row of a split is left out of the FER+ test set, in the order they are checked
EXCLUSION_REASONS = ("unaligned", "contempt", "unknown", "NF", "no majority")


@dataclass(frozen=True)
class FerPlusTestSet:
    """The rows of one split that the FER+ protocol scores, and why the others were left out."""

    split: str
    rows: np.ndarray
    """row numbers in the dataset (and the vote file)"""
    labels: np.ndarray
    """majority labels, in ``classes`` order"""
    distribution: np.ndarray
    """vote shares of the classes ``[n, len(classes)]``"""
    total: int
    """rows of the split"""
    excluded: dict[str, int]
    """rows left out, by reason (:data:`EXCLUSION_REASONS`)"""
    classes: tuple[str, ...] = CLASSES
    """the 7 canonical classes (the 7-class mapping), or FER+'s 8"""

    def __len__(self) -> int:
        return len(self.rows)

    def describe(self) -> str:
        """One line: how many rows are scored, and how many left out for what."""
        parts = ", ".join(f"{n} {reason}" for reason, n in self.excluded.items() if n)
        return (f"{self.split}: {len(self)} of {self.total} rows with a usable FER+ majority"
                + (f" (excluded: {parts})" if parts else ""))


def ferplus_test_set(dataset: FerDataset, votes: FerPlusVotes, split: str = "report", *,
                     contempt: bool = False) -> FerPlusTestSet:
    """The FER+ protocol's rows of ``dataset``'s ``split`` (a role or split name).

    ``dataset`` is the whole FER2013 CSV as read (FER2013 labels, every row), ``votes`` its FER+
    vote file, row by row. ``contempt=True``: FER+'s 8 classes (contempt rows kept, labelled 7).
    """
    if len(votes) != len(dataset):
        raise DataError(f"{votes.source}: has {len(votes)} rows but {dataset.source} has "
                        f"{len(dataset)}; FER+ votes line up with fer2013.csv row by row "
                        "(read it whole, without skip_bad)")
    part = dataset.split(split)
    rows = part.indices.numpy()
    usage = np.array(votes.usage, dtype=object)[rows]
    if len(rows) and not (usage == part.name).all():
        first = int(rows[np.flatnonzero(usage != part.name)[0]])
        raise DataError(f"{votes.source}: row {first} is {usage[rows == first][0]!r} in the vote file "
                        f"but {part.name!r} in {dataset.source}; the two files do not line up")
    winner = votes.winner()[rows]
    unaligned = votes.unaligned()[rows]
    from fer_core.data._ferplus import VOTE_COLUMNS

    excluded = {"unaligned": int(unaligned.sum())}
    for reason in ("unknown", "NF") if contempt else ("contempt", "unknown", "NF"):
        excluded[reason] = int(((winner == VOTE_COLUMNS.index(reason)) & ~unaligned).sum())
    excluded["no majority"] = int(((winner < 0) & ~unaligned).sum())
    labels = votes.majority(contempt)[rows]
    keep = (labels >= 0) & ~unaligned
    return FerPlusTestSet(part.name, rows[keep], labels[keep], votes.distribution(contempt)[rows[keep]],
                          len(rows), excluded, FERPLUS_CLASSES if contempt else CLASSES)


def vote_metrics(probs: np.ndarray, distribution: np.ndarray) -> dict[str, float]:
    """Cross-entropy from the vote distribution to ``probs`` and the mean rater agreement."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    d = np.asarray(distribution, dtype=np.float64)
    pred = p.argmax(axis=1)
    return {
        "vote_cross_entropy": float(-(d * np.log(p)).sum(axis=1).mean()) if len(d) else float("nan"),
        "rater_agreement": float(d[np.arange(len(d)), pred].mean()) if len(d) else float("nan"),
    }


def ferplus_metrics(probs: np.ndarray, test: FerPlusTestSet) -> dict[str, Any]:
    """:func:`classification_metrics` against the majority labels, plus :func:`vote_metrics`,
    the rows' description and the exclusion counts."""
    probs = np.asarray(probs)
    n_classes = len(test.classes)
    if probs.shape != (len(test), n_classes):
        raise ValueError(f"expected probabilities [{len(test)}, {n_classes}], got {probs.shape}")
    metrics = classification_metrics(test.labels, probs, test.classes)
    metrics.update(vote_metrics(probs, test.distribution))
    metrics.update(protocol="ferplus-majority" if n_classes == len(CLASSES) else "ferplus8-majority",
                   split=test.split, total=test.total, excluded=dict(test.excluded), rows=test.describe())
    return metrics


def evaluate_ferplus(
    model: torch.nn.Module, dataset: FerDataset, votes: FerPlusVotes, split: str = "report", *,
    batch_size: int = 256, device: torch.device | str = "cpu", crop_size: int | None = None,
    tta: str = "none",
) -> dict[str, Any]:
    """FER+ protocol metrics of ``model`` on ``split`` (default: the report split, FER+ test).

    A 7-class model is scored on the 7-class mapping. An 8-class model (``ferplus8-`` labels) is
    scored on the 8 classes, with its 7-class mapping under ``"seven_class"``.
    """
    seven = ferplus_test_set(dataset, votes, split)
    eight = ferplus_test_set(dataset, votes, split, contempt=True)
    probs = predict_proba(model, dataset.images[torch.from_numpy(eight.rows)], batch_size=batch_size,
                          device=device, crop_size=crop_size, tta=tta)
    in_seven = np.isin(eight.rows, seven.rows)  # both in row order: eight's rows minus contempt ones
    if probs.shape[1] == len(FERPLUS_CLASSES):
        metrics = ferplus_metrics(probs.numpy(), eight)
        metrics["seven_class"] = ferplus_metrics(drop_contempt(probs[torch.from_numpy(in_seven)]).numpy(),
                                                 seven)
    else:
        metrics = ferplus_metrics(probs[torch.from_numpy(in_seven)].numpy(), seven)
    metrics["tta"] = tta
    return metrics
