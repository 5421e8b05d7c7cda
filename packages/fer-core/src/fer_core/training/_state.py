"""The trainer's state as a checkpoint holds it: weights, optimizer, schedule, scaler, EMA, RNG
streams and the position in the epoch, enough to continue bit for bit (``Trainer.state_dict``
and ``Trainer.load_state_dict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from fer_core.training._checkpoint import CheckpointError

if TYPE_CHECKING:
    from fer_core.training._trainer import Trainer

CHECKPOINT_FORMAT = 1


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """The trainer's state, everything needed to continue exactly: plain containers and tensors only."""
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "order": trainer.order_gen.get_state(),
           "augment": trainer.aug_gen.get_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    strategy_state = trainer.strategy.state_dict() if hasattr(trainer.strategy, "state_dict") else None
    return {
        "format": CHECKPOINT_FORMAT,
        "model": trainer.model.state_dict(),
        "ema": trainer.ema.module.state_dict() if trainer.ema is not None else None,
        "ema_n_averaged": trainer.ema.n_averaged.clone() if trainer.ema is not None else None,
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.schedule.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "strategy": strategy_state,
        "rng": rng,
        "position": {"epoch": trainer.epoch, "batch": trainer.batch_in_epoch, "step": trainer.step,
                     "order": trainer.epoch_order, "epoch_info": trainer.epoch_info,
                     "epoch_loss": list(trainer.epoch_loss), "skipped_steps": trainer.skipped_steps},
        "history": trainer.history,
        "best": dict(trainer.best),
        "bad_epochs": trainer.bad_epochs,
        "stage": trainer.stage.name,
        "config": trainer.config.to_json_dict(),
    }


def restore_trainer_state(trainer: Trainer, state: dict[str, Any]) -> None:
    """Restore what :func:`trainer_state` returned, into a trainer built from the same config."""
    if state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"checkpoint format {state.get('format')} is not {CHECKPOINT_FORMAT}")
    trainer._load_model_weights(state["model"], "checkpoint")
    if trainer.ema is not None and state.get("ema") is not None:
        trainer.ema.module.load_state_dict(state["ema"])
        trainer.ema.n_averaged.copy_(state["ema_n_averaged"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.schedule.load_state_dict(state["scheduler"])
    trainer.scaler.load_state_dict(state["scaler"])
    if state.get("strategy") is not None and hasattr(trainer.strategy, "load_state_dict"):
        trainer.strategy.load_state_dict(state["strategy"])
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    trainer.order_gen.set_state(rng["order"])
    trainer.aug_gen.set_state(rng["augment"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    pos = state["position"]
    trainer.epoch, trainer.batch_in_epoch, trainer.step = pos["epoch"], pos["batch"], pos["step"]
    trainer.epoch_order, trainer.epoch_info = pos["order"], pos["epoch_info"]
    trainer.epoch_loss = list(pos["epoch_loss"])
    trainer.skipped_steps = int(pos.get("skipped_steps", 0))
    trainer.history = list(state["history"])
    trainer.best = dict(state["best"])
    trainer.bad_epochs = state["bad_epochs"]
