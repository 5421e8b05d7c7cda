"""A run's checkpoint files: writing them (atomically, with a manifest), rotation, resuming."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.training._checkpoint import CheckpointError, load_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer


class TrainerCheckpoints:
    """The :class:`~fer_core.training.Trainer`'s checkpoints in its run folder (a mixin)."""

    def resume(self: Trainer, checkpoint: Path) -> None:
        """Continue from ``checkpoint`` exactly where it was written."""
        self.load_state_dict(load_checkpoint(checkpoint))
        if self.run is not None:
            self.run.truncate_history(len(self.history))
        self.log(f"resumed from {checkpoint} at epoch {self.epoch}, batch {self.batch_in_epoch}, "
                 f"step {self.step}")

    def save_checkpoint(self: Trainer, kind: str = "step") -> Path | None:
        """Write a checkpoint into the run folder (rank 0 only); keeps the last ``keep_last``."""
        if self.run is None:
            return None
        folder = self.run.checkpoints
        path = folder / (f"step-{self.step:08d}.pt" if kind == "step" else f"{kind}.pt")
        self._hook("before_checkpoint", path=path)
        try:
            sha = save_checkpoint(self.state_dict(), path)
        except OSError as exc:  # disk full, permissions...: the previous checkpoints are untouched
            raise CheckpointError(
                f"could not write checkpoint {path}: {exc.strerror or exc}; the previous checkpoint "
                f"{self._last_checkpoint() or '(none yet)'} is intact: free space or fix permissions, "
                f"then resume with `fercli train --resume {self.run.path}`") from exc
        manifest = self.run.path / "checkpoints.json"
        entries = json.loads(manifest.read_text()) if manifest.exists() else {}
        entries[path.name] = {"sha256": sha, "epoch": self.epoch, "batch": self.batch_in_epoch,
                              "step": self.step}
        steps = sorted(p for p in folder.glob("step-*.pt"))
        for old in steps[:-self.tc.keep_last]:
            old.unlink(missing_ok=True)
            entries.pop(old.name, None)
        self.run.write_json("checkpoints.json", entries)
        self._hook("after_checkpoint", path=path)
        return path

    def _last_checkpoint(self: Trainer) -> Path | None:
        if self.run is None:
            return None
        found = sorted(self.run.checkpoints.glob("step-*.pt"))
        return found[-1] if found else None
