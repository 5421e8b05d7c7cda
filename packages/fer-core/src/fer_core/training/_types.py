"""The trainer's plain results and controls: what hooks, reports and callers see of a run.

A leaf module: the reports (``_results``) and the trainer both build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROTOCOL = (
    "selection (best epoch) on PublicTest (role 'select'); reported once on PrivateTest "
    "(role 'report'); Public+Private (7,178 images on full FER2013) for comparison with the reports"
)


@dataclass
class TrainerControl:
    """The only way a lifecycle hook steers training."""

    should_stop: bool = False  # end training after the current batch
    should_save: bool = False  # write a checkpoint after the current batch


@dataclass
class TrainResult:
    """One finished run: its size, the best epoch, and the metrics of each evaluated split."""

    steps: int
    epochs: int
    seconds: float
    best_epoch: int | None
    select: dict[str, Any]
    report: dict[str, Any] | None
    combined: dict[str, Any] | None
    history: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    protocol: str = PROTOCOL
