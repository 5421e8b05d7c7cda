"""What ``fercli data report`` prints: counts, imbalance and exact-duplicate images."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_core.classes import CLASSES
from fer_core.data._arrays import DatasetArrays

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset


@dataclass
class SplitCounts:
    name: str
    role: str | None
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def imbalance(self) -> float:
        """Largest class count over smallest non-empty one."""
        nonzero = [c for c in self.counts if c]
        return max(nonzero) / min(nonzero) if nonzero else float("nan")


@dataclass
class Duplicates:
    """Exact (pixel-identical) duplicates."""

    groups: int = 0  # groups of two or more identical images
    rows_in_groups: int = 0
    redundant: int = 0  # rows_in_groups - groups: copies you could drop
    conflicting_label_groups: int = 0
    within_split_redundant: dict[str, int] = field(default_factory=dict)
    cross_split_groups: int = 0  # groups with rows in train and in a test split
    test_rows_in_train: dict[str, int] = field(default_factory=dict)  # per test split
    all_black: int = 0


@dataclass
class DataReport:
    source: str
    classes: list[str]
    splits: list[SplitCounts]
    duplicates: Duplicates

    def to_dict(self) -> dict:
        d = asdict(self)
        for s, split in zip(d["splits"], self.splits, strict=True):
            s["total"], s["imbalance"] = split.total, split.imbalance
        return d


def _image_keys(images: np.ndarray) -> np.ndarray:
    flat = images.reshape(len(images), -1)
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat], "S16")


def _numpy(values: Any) -> np.ndarray:
    return values if isinstance(values, np.ndarray) else values.numpy()


def data_report(ds: FerDataset | DatasetArrays) -> DataReport:
    """Count images per split and class and find exact duplicates within and across splits.

    ``ds``: a dataset of tensors, or its numpy :class:`DatasetArrays` (no torch needed).
    """
    labels = _numpy(ds.labels)
    split_ids = _numpy(ds.split_ids)
    classes = tuple(getattr(ds, "classes", CLASSES))  # FER+'s 8 for ferplus8- labels
    splits = [
        SplitCounts(name, ds.role_of(name),
                    np.bincount(labels[split_ids == k], minlength=len(classes)).tolist())
        for k, name in enumerate(ds.split_names)
    ]
    images = _numpy(ds.images)
    _, group, sizes = np.unique(_image_keys(images), return_inverse=True, return_counts=True)
    dup = Duplicates()
    dup.all_black = int((images.reshape(len(images), -1).max(axis=1) == 0).sum())
    in_group = sizes[group] > 1
    dup.groups = int((sizes > 1).sum())
    dup.rows_in_groups = int(in_group.sum())
    dup.redundant = dup.rows_in_groups - dup.groups
    # distinct labels per group
    pairs = np.unique(np.stack([group, labels]), axis=1)
    dup.conflicting_label_groups = int((np.bincount(pairs[0]) > 1).sum())
    for k, name in enumerate(ds.split_names):
        rows = split_ids == k
        dup.within_split_redundant[name] = int(rows.sum() - len(np.unique(group[rows])))
    train_name = ds.roles.get("train")
    if train_name in ds.split_names:
        train_groups = np.zeros(len(sizes), bool)
        train_groups[group[split_ids == ds.split_names.index(train_name)]] = True
        test_groups = np.zeros(len(sizes), bool)
        for role in ("select", "report"):
            test_name = ds.roles.get(role)
            if test_name is None or test_name not in ds.split_names:
                continue
            rows = split_ids == ds.split_names.index(test_name)
            dup.test_rows_in_train[test_name] = int(train_groups[group[rows]].sum())
            test_groups[group[rows]] = True
        dup.cross_split_groups = int((train_groups & test_groups).sum())
    return DataReport(ds.source, list(classes), splits, dup)


def format_report(report: DataReport) -> str:
    """The report as plain-text tables."""
    width = max(10, *(len(s.name) + len(str(s.role)) + 3 for s in report.splits))
    head = f"{'split (role)':<{width}} {'total':>7} " + " ".join(f"{c:>8}" for c in report.classes)
    lines = [f"Dataset: {report.source}", "", head + f" {'max/min':>8}", "-" * (len(head) + 9)]
    for s in report.splits:
        label = f"{s.name} ({s.role or '-'})"
        counts = " ".join(f"{c:>8,}" for c in s.counts)
        lines.append(f"{label:<{width}} {s.total:>7,} {counts} {s.imbalance:>8.1f}")
    total = [sum(col) for col in zip(*(s.counts for s in report.splits), strict=True)]
    lines.append(f"{'all':<{width}} {sum(total):>7,} " + " ".join(f"{c:>8,}" for c in total))
    d = report.duplicates
    lines += [
        "",
        "Exact duplicates (pixel-identical images):",
        f"  groups of identical images:        {d.groups:,} covering {d.rows_in_groups:,} rows",
        f"  redundant copies:                  {d.redundant:,}",
        f"  groups with conflicting labels:    {d.conflicting_label_groups:,}",
    ]
    for name, n in d.within_split_redundant.items():
        lines.append(f"  redundant copies within {name}: {n:,}")
    lines.append(f"  groups spanning train and a test split: {d.cross_split_groups:,}")
    for name, n in d.test_rows_in_train.items():
        lines.append(f"  {name} rows with an identical copy in train: {n:,}")
    if d.test_rows_in_train:
        in_train = sum(d.test_rows_in_train.values())
        lines.append(f"  test rows with a copy in train, all test splits: {in_train:,}")
    lines.append(f"  all-black images:                  {d.all_black:,}")
    return "\n".join(lines)
