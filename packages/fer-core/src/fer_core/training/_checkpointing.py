"""A run's checkpoint files: writing them (atomically, with a manifest), rotation, resuming.

What a checkpoint holds is :mod:`fer_core.training._state`'s; how a file is written and read
(atomically, sha256) is :mod:`fer_core.training._checkpoint`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.training._checkpoint import CheckpointError, load_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer


def resume_from(trainer: Trainer, checkpoint: Path) -> None:
    """Continue from ``checkpoint`` exactly where it was written (its run's history cut to it)."""
    trainer.load_state_dict(load_checkpoint(checkpoint))
    if trainer.run is not None:
        trainer.run.truncate_history(len(trainer.history))
    trainer.log(f"resumed from {checkpoint} at epoch {trainer.epoch}, batch {trainer.batch_in_epoch}, "
                f"step {trainer.step}")


def write_checkpoint(trainer: Trainer, kind: str = "step") -> Path | None:
    """Write a checkpoint into the run folder (rank 0 only); keeps the last ``keep_last``."""
    if trainer.run is None:
        return None
    folder = trainer.run.checkpoints
    path = folder / (f"step-{trainer.step:08d}.pt" if kind == "step" else f"{kind}.pt")
    trainer._hook("before_checkpoint", path=path)
    try:
        sha = save_checkpoint(trainer.state_dict(), path)
    except OSError as exc:  # disk full, permissions...: the previous checkpoints are untouched
        raise CheckpointError(
            f"could not write checkpoint {path}: {exc.strerror or exc}; the previous checkpoint "
            f"{last_checkpoint(trainer) or '(none yet)'} is intact: free space or fix permissions, "
            f"then resume with `fercli train --resume {trainer.run.path}`") from exc
    manifest = trainer.run.path / "checkpoints.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else {}
    entries[path.name] = {"sha256": sha, "epoch": trainer.epoch, "batch": trainer.batch_in_epoch,
                          "step": trainer.step}
    steps = sorted(p for p in folder.glob("step-*.pt"))
    for old in steps[:-trainer.tc.keep_last]:
        old.unlink(missing_ok=True)
        entries.pop(old.name, None)
    trainer.run.write_json("checkpoints.json", entries)
    trainer._hook("after_checkpoint", path=path)
    return path


def last_checkpoint(trainer: Trainer) -> Path | None:
    """The newest step checkpoint of the trainer's run, if any."""
    if trainer.run is None:
        return None
    found = sorted(trainer.run.checkpoints.glob("step-*.pt"))
    return found[-1] if found else None
