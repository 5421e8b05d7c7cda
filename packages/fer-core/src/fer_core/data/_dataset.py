"""The in-memory dataset every loader returns: uint8 images, canonical labels, splits with roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from fer_core.classes import CLASSES
from fer_core.data._labels import FER2013_ROLES, ROLES, role_of
from fer_core.errors import DataError

__all__ = ["FER2013_ROLES", "ROLES", "FerDataset", "Split"]  # the roles: fer_core.data._labels


@dataclass(frozen=True)
class Split:
    """One split of a dataset: a view of its rows."""

    name: str
    role: str | None
    images: torch.Tensor  # uint8 [n, 1, 48, 48]
    labels: torch.Tensor  # int64 [n], canonical class order
    indices: torch.Tensor  # int64 [n], row numbers in the parent dataset
    soft_labels: torch.Tensor | None = None  # float [n, classes] (FER+ vote distribution)
    classes: tuple[str, ...] = CLASSES

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> torch.Tensor:
        """Number of examples per class, ``[len(classes)]``."""
        return torch.bincount(self.labels, minlength=len(self.classes))


@dataclass
class FerDataset:
    """Images decoded once into a uint8 tensor ``[N, 1, 48, 48]``, labels in :data:`CLASSES` order.

    ``split_ids[i]`` indexes ``split_names``; ``roles`` maps a role (``train``, ``select``,
    ``report``) to the split that plays it. ``locations[i]`` says where row *i* came from
    (``"row 17"`` or a file path), for messages.
    """

    images: torch.Tensor
    labels: torch.Tensor
    split_ids: torch.Tensor
    split_names: tuple[str, ...]
    roles: dict[str, str]
    source: str
    locations: list[str] | None = None
    soft_labels: torch.Tensor | None = None
    classes: tuple[str, ...] = field(default=CLASSES)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or len(self.images) != n:
            raise ValueError("images must be a uint8 tensor [N, 1, H, W] with one row per label")
        if len(self.split_ids) != n:
            raise ValueError("split_ids must have one entry per row")

    def __len__(self) -> int:
        return len(self.labels)

    def role_of(self, split_name: str) -> str | None:
        """The role ``split_name`` plays, or ``None``."""
        return role_of(self.roles, split_name)

    def split(self, key: str, *, allow_empty: bool = False) -> Split:
        """A split by role (``train``/``select``/``report``) or by name (``PublicTest``).

        Raises :class:`DataError` naming the source when there is no such split or it is empty.
        """
        name = self.roles.get(key, key)
        if name not in self.split_names:
            have = ", ".join(f"{n} ({self.role_of(n) or 'no role'})" for n in self.split_names)
            raise DataError(f"{self.source}: no split {key!r}; it has: {have or 'nothing'}")
        idx = torch.nonzero(self.split_ids == self.split_names.index(name)).flatten()
        if len(idx) == 0 and not allow_empty:
            raise DataError(f"{self.source}: split {name!r} ({self.role_of(name)}) is empty")
        soft = self.soft_labels[idx] if self.soft_labels is not None else None
        return Split(name, self.role_of(name), self.images[idx], self.labels[idx], idx, soft, self.classes)

    def has_role(self, role: str) -> bool:
        return role in self.roles and bool((self.split_ids == self.split_names.index(self.roles[role])).any())

    def select_rows(self, rows: torch.Tensor | Sequence[int]) -> FerDataset:
        """A new dataset of the given rows (in that order), same splits and roles."""
        rows = torch.as_tensor(rows, dtype=torch.long)
        locs = [self.locations[i] for i in rows.tolist()] if self.locations is not None else None
        soft = self.soft_labels[rows] if self.soft_labels is not None else None
        return FerDataset(
            self.images[rows], self.labels[rows], self.split_ids[rows], self.split_names,
            dict(self.roles), self.source, locs, soft, self.classes,
        )

    def subset(self, per_class: int, *, seed: int = 0, role: str = "train") -> FerDataset:
        """Keep at most ``per_class`` examples of each class in the ``role`` split (seeded).

        Other splits are kept whole, so a quick baseline is still evaluated on the full
        PublicTest/PrivateTest, as in the adaptive-training report's limited baseline.
        """
        if per_class < 1:
            raise ValueError(f"per_class must be at least 1, got {per_class}")
        split = self.split(role)
        rng = np.random.default_rng(seed)
        keep = []
        labels = split.labels.numpy()
        for c in range(len(self.classes)):
            rows = split.indices.numpy()[labels == c]
            if len(rows) > per_class:
                rows = np.sort(rng.choice(rows, size=per_class, replace=False))
            keep.append(rows)
        others = torch.nonzero(self.split_ids != self.split_names.index(split.name)).flatten()
        rows = np.sort(np.concatenate([*keep, others.numpy()]))
        return self.select_rows(torch.from_numpy(rows))
