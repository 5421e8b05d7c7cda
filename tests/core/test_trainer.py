"""The Trainer on made-up data: it learns, fires its hooks in order, obeys its control object."""

from __future__ import annotations

import pytest
import torch

from fer_core import ConfigError, FerError, hookimpl, plugins
from fer_core.config import ExperimentConfig
from fer_core.training import Trainer, format_result


def _config(**train) -> ExperimentConfig:
    base = {"max_steps": None, "epochs": 10, "batch_size": 32, "lr": 3e-3}
    return ExperimentConfig.from_dict(
        {"data": {"path": "unused"}, "device": "cpu",
         "model": {"options": {"widths": [8, 16]}}, "train": {**base, **train}}
    )


def test_learns_a_learnable_task(synthetic_dataset):
    result = Trainer(_config(), dataset=synthetic_dataset).fit()
    assert result.epochs == 10 and result.steps == 10 * ((7 * 40 + 31) // 32)
    assert result.history[-1]["train_loss"] < 0.7 * result.history[0]["train_loss"]
    assert max(h["select"]["accuracy"] for h in result.history) > 0.95  # chance is 1/7
    assert result.report["accuracy"] > 0.7 and result.report["n"] == 7 * 20
    assert result.combined["n"] == 7 * 40
    assert len(result.select["per_class_f1"]) == 7
    table = format_result(result)
    assert "Protocol: selection (best epoch) on PublicTest" in table
    assert "| PrivateTest (report) | 140 |" in table


def test_max_steps_stops_mid_epoch(synthetic_dataset):
    result = Trainer(_config(max_steps=5), dataset=synthetic_dataset).fit()
    assert result.steps == 5 and result.epochs == 1


def test_same_seed_same_weights(synthetic_dataset):
    runs = [Trainer(_config(epochs=1, max_steps=4), dataset=synthetic_dataset) for _ in range(2)]
    for t in runs:
        t.fit()
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


class _Recorder:
    def __init__(self, stop_after_epoch: int | None = None):
        self.events: list[str] = []
        self.stop_after_epoch = stop_after_epoch

    @hookimpl
    def before_train(self, trainer):
        self.events.append("before_train")

    @hookimpl
    def before_epoch(self, trainer, epoch):
        self.events.append(f"before_epoch {epoch}")

    @hookimpl
    def after_batch(self, trainer, step, loss):
        assert loss == loss  # not NaN
        self.events.append("batch")

    @hookimpl
    def after_evaluation(self, trainer, split, metrics):
        self.events.append(f"eval {split}")

    @hookimpl
    def after_epoch(self, trainer, epoch, metrics):
        self.events.append(f"after_epoch {epoch}")
        if epoch == self.stop_after_epoch:
            trainer.control.should_stop = True

    @hookimpl
    def after_train(self, trainer, result):
        self.events.append("after_train")

    @hookimpl
    def on_train_error(self, trainer, error):
        self.events.append(f"error {type(error).__name__}")


def _with(recorder) -> plugins.PluginSet:
    return plugins.PluginSet.load(allow=["fer_models"], extra={"recorder": recorder})


def test_hooks_fire_in_order_and_control_stops(synthetic_dataset):
    rec = _Recorder(stop_after_epoch=0)
    result = Trainer(_config(max_steps=None), plugins=_with(rec), dataset=synthetic_dataset).fit()
    assert result.epochs == 1  # stopped by the hook after epoch 0 of 10
    collapsed = [e for i, e in enumerate(rec.events) if e != "batch" or rec.events[i - 1] != "batch"]
    assert collapsed == ["before_train", "before_epoch 0", "batch", "eval select", "after_epoch 0",
                         "eval report", "eval combined", "after_train"]


def test_error_hook_fires_and_error_propagates(synthetic_dataset):
    rec = _Recorder()
    trainer = Trainer(_config(), plugins=_with(rec), dataset=synthetic_dataset)
    trainer.loss_fn = lambda logits, y: (_ for _ in ()).throw(RuntimeError("loss exploded"))
    with pytest.raises(RuntimeError, match="loss exploded"):
        trainer.fit()
    assert rec.events[-1] == "error RuntimeError"


def test_unregistered_names_in_config_are_config_errors(synthetic_dataset):
    cfg = _config(strategy="adaptive_typo")
    msg = r"\[train\] strategy = 'adaptive_typo' is not registered \(stage 'train'\); allowed values: .*unif"
    with pytest.raises(ConfigError, match=msg):
        Trainer(cfg, dataset=synthetic_dataset)


def test_strategy_from_a_plugin_drives_the_draw(synthetic_dataset):
    class OnlyHappy:
        def weights(self, context):
            w = torch.zeros(7)
            w[3] = 1.0
            return w

    seen: list[int] = []

    class Spy:
        @hookimpl
        def register_sampler_strategies(self, register):
            register("only_happy", OnlyHappy)

        @hookimpl
        def before_batch(self, trainer, step):
            seen.append(step)

    ps = plugins.PluginSet.load(allow=["fer_models"], extra={"spy": Spy()})
    trainer = Trainer(_config(strategy="only_happy", epochs=1), plugins=ps, dataset=synthetic_dataset)
    drawn: list[torch.Tensor] = []
    original = trainer.loss_fn
    trainer.loss_fn = lambda logits, y: (drawn.append(y), original(logits, y))[1]
    trainer.fit()
    assert seen and torch.cat(drawn).unique().tolist() == [3]


def _nan_on(trainer, steps):
    """Make the trainer's loss NaN on the given optimizer steps."""
    loss_fn = trainer.loss_fn

    def poisoned(logits, y):
        loss = loss_fn(logits, y)
        return loss * float("nan") if trainer.step in steps else loss

    trainer.loss_fn = poisoned
    return trainer


def test_a_nan_loss_stops_within_one_step_naming_batch_and_checkpoint(synthetic_dataset, tmp_path):
    trainer = _nan_on(Trainer(_config(epochs=2, checkpoint_every=5), dataset=synthetic_dataset,
                              run_root=tmp_path), {6})
    expected = r"loss is nan at epoch 0, batch 6 \(step 6\); last checkpoint: .*step-0+5"
    with pytest.raises(FerError, match=expected):
        trainer.fit()
    assert trainer.step == 6  # no update was made with the poisoned batch


def test_a_nan_loss_can_skip_the_step_instead(synthetic_dataset):
    trainer = _nan_on(Trainer(_config(epochs=1, max_steps=6, on_nonfinite_loss="skip"),
                              dataset=synthetic_dataset), {2, 3})
    result = trainer.fit()
    assert result.steps == 6 and trainer.skipped_steps == 2
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    # every step poisoned: nothing ever changes the weights
    frozen = _nan_on(Trainer(_config(epochs=1, max_steps=3, on_nonfinite_loss="skip"),
                             dataset=synthetic_dataset), {0, 1, 2})
    before = {k: v.clone() for k, v in frozen.model.state_dict().items() if v.is_floating_point()}
    frozen.fit()
    after = frozen.model.state_dict()
    assert frozen.skipped_steps == 3
    assert all(torch.equal(before[k], after[k]) for k in before if "running" not in k)


def test_ema_warmup_follows_the_model_early_and_the_decay_later():
    from fer_core.training._trainer import ema_update

    for warmup, expected in ((True, [2 / 11, 3 / 12]), (False, [0.99, 0.99])):
        ema, model = [torch.zeros(3)], [torch.ones(3)]
        for n, d in zip((1, 2), expected, strict=True):
            before = ema[0].clone()
            ema_update(0.99, warmup)(ema, model, torch.tensor(n))
            assert torch.allclose(ema[0], before * d + (1 - d))
    late = [torch.zeros(1)]
    ema_update(0.99, True)(late, [torch.ones(1)], torch.tensor(5000))
    assert torch.allclose(late[0], torch.tensor([0.01]))  # capped at the configured decay


def test_an_ema_model_with_warmup_is_useful_after_a_few_steps(synthetic_dataset):
    # 27 steps: with warmup the EMA follows the model; without, it is ~97% initial weights
    warm = Trainer(_config(epochs=3, ema=0.999), dataset=synthetic_dataset).fit()
    plain = Trainer(_config(epochs=3, ema=0.999, ema_warmup=False), dataset=synthetic_dataset).fit()
    assert warm.history[-1]["select"]["accuracy"] > 0.6
    assert plain.history[-1]["select"]["accuracy"] < warm.history[-1]["select"]["accuracy"] - 0.2
