"""The trainer's state as a checkpoint holds it: weights, optimizer, schedule, scaler, EMA, RNG
streams and the position in the epoch, enough to continue bit for bit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from fer_core.training._checkpoint import CheckpointError

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer

CHECKPOINT_FORMAT = 1


class TrainerState:
    """The :class:`~fer_core.training.Trainer`'s ``state_dict`` / ``load_state_dict`` (a mixin)."""

    def state_dict(self: Trainer) -> dict[str, Any]:
        """Everything needed to continue exactly: plain containers and tensors only."""
        rng = {"torch": torch.get_rng_state(), "order": self.order_gen.get_state(),
               "augment": self.aug_gen.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        strategy_state = self.strategy.state_dict() if hasattr(self.strategy, "state_dict") else None
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema is not None else None,
            "ema_n_averaged": self.ema.n_averaged.clone() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "strategy": strategy_state,
            "rng": rng,
            "position": {"epoch": self.epoch, "batch": self.batch_in_epoch, "step": self.step,
                         "order": self.epoch_order, "epoch_info": self.epoch_info,
                         "epoch_loss": list(self.epoch_loss), "skipped_steps": self.skipped_steps},
            "history": self.history,
            "best": dict(self.best),
            "bad_epochs": self.bad_epochs,
            "stage": self.stage.name,
            "config": self.config.to_json_dict(),
        }

    def load_state_dict(self: Trainer, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (the trainer built from the same config)."""
        if state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"checkpoint format {state.get('format')} is not {CHECKPOINT_FORMAT}")
        self._load_model_weights(state["model"], "checkpoint")
        if self.ema is not None and state.get("ema") is not None:
            self.ema.module.load_state_dict(state["ema"])
            self.ema.n_averaged.copy_(state["ema_n_averaged"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if state.get("strategy") is not None and hasattr(self.strategy, "load_state_dict"):
            self.strategy.load_state_dict(state["strategy"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        self.order_gen.set_state(rng["order"])
        self.aug_gen.set_state(rng["augment"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        pos = state["position"]
        self.epoch, self.batch_in_epoch, self.step = pos["epoch"], pos["batch"], pos["step"]
        self.epoch_order, self.epoch_info = pos["order"], pos["epoch_info"]
        self.epoch_loss = list(pos["epoch_loss"])
        self.skipped_steps = int(pos.get("skipped_steps", 0))
        self.history = list(state["history"])
        self.best = dict(state["best"])
        self.bad_epochs = state["bad_epochs"]
