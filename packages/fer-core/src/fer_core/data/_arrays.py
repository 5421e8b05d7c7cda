"""A decoded dataset as numpy arrays: what the readers and the decode cache produce, before torch.

``fercli data report`` works on it directly (no torch imported); :meth:`DatasetArrays.to_dataset`
makes the :class:`~fer_core.data.FerDataset` (uint8 tensors sharing the arrays' memory) that
training and evaluation use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fer_core.data._labels import role_of

if TYPE_CHECKING:
    from fer_core.data._dataset import FerDataset


@dataclass
class DatasetArrays:
    """Images ``uint8 [N, 1, H, W]``, labels ``int64 [N]`` in canonical class order, ``split_ids
    int8 [N]`` indexing ``split_names``, ``roles`` (role -> split name), where the rows came from."""

    images: np.ndarray
    labels: np.ndarray
    split_ids: np.ndarray
    split_names: tuple[str, ...]
    roles: dict[str, str]
    source: str
    locations: list[str] | None = None
    soft_labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def role_of(self, split_name: str) -> str | None:
        """The role ``split_name`` plays, or ``None``."""
        return role_of(self.roles, split_name)

    def to_dataset(self) -> FerDataset:
        """The same rows as a :class:`FerDataset` of tensors (imports torch)."""
        import torch

        from fer_core.data._dataset import FerDataset

        return FerDataset(
            images=torch.from_numpy(self.images),
            labels=torch.from_numpy(self.labels),
            split_ids=torch.from_numpy(self.split_ids),
            split_names=tuple(self.split_names),
            roles=dict(self.roles),
            source=self.source,
            locations=self.locations,
            soft_labels=torch.from_numpy(self.soft_labels) if self.soft_labels is not None else None,
        )


__all__ = ["DatasetArrays"]
