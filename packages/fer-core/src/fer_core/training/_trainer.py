"""The Trainer: one training loop for every command, with lifecycle hooks and evaluation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from fer_core.classes import NUM_CLASSES
from fer_core.config import ExperimentConfig, check_choice
from fer_core.data import FerDataset, load_dataset
from fer_core.plugins import PluginSet, get_plugins
from fer_core.sampling import EpochContext, draw_epoch, example_weights
from fer_core.training._device import resolve_device
from fer_core.training._evaluate import evaluate
from fer_core.training._transforms import random_hflip, to_model_input

PROTOCOL = (
    "selection on PublicTest (role 'select'); reported once on PrivateTest (role 'report'); "
    "Public+Private (7,178 images on full FER2013) for comparison with the reports"
)


@dataclass
class TrainerControl:
    """The only way a lifecycle hook steers training."""

    should_stop: bool = False


@dataclass
class TrainResult:
    steps: int
    epochs: int
    seconds: float
    select: dict[str, Any]
    report: dict[str, Any] | None
    combined: dict[str, Any] | None
    history: list[dict[str, Any]] = field(default_factory=list)
    protocol: str = PROTOCOL


class Trainer:
    """Builds model, strategy, loss and optimizer from a config and its plugins, then trains.

    >>> from fer_core.config import ExperimentConfig
    >>> cfg = ExperimentConfig.from_toml("examples/quickstart.toml")   # doctest: +SKIP
    >>> result = Trainer(cfg).fit()                                    # doctest: +SKIP
    >>> result.report["accuracy"]                                      # doctest: +SKIP
    """

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        plugins: PluginSet | None = None,
        dataset: FerDataset | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.plugins = plugins if plugins is not None else get_plugins()
        self.log = log or (lambda msg: None)
        self.control = TrainerControl()
        tc = config.train
        check_choice(config.model.backbone, list(self.plugins.backbones()), "[model] backbone")
        check_choice(tc.strategy, list(self.plugins.sampler_strategies()), "[train] strategy")
        check_choice(tc.loss, list(self.plugins.losses()), "[train] loss")
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        self.dataset = dataset if dataset is not None else load_dataset(
            config.data.path, ferplus=config.data.ferplus, labels=config.data.labels,
            subset_per_class=config.data.subset_per_class, seed=config.seed,
            resize=config.data.resize, skip_bad=config.data.skip_bad, cache=config.data.cache,
        )
        self.train_split = self.dataset.split("train")
        self.select_split = self.dataset.split("select")
        torch.manual_seed(config.seed)
        self.model = self.plugins.get("backbone", config.model.backbone).build(
            num_classes=NUM_CLASSES, in_chans=1, **config.model.options
        ).to(self.device)
        self.strategy = self.plugins.get("sampler_strategy", tc.strategy).build(**tc.strategy_options)
        self.loss_fn = self.plugins.get("loss", tc.loss).build(**tc.loss_options)
        self.optimizer = self._optimizer()
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.history: list[dict[str, Any]] = []

    def _optimizer(self) -> torch.optim.Optimizer:
        tc = self.config.train
        params = [p for p in self.model.parameters() if p.requires_grad]
        if tc.optimizer == "sgd":
            return torch.optim.SGD(params, lr=tc.lr, momentum=tc.momentum, nesterov=True,
                                   weight_decay=tc.weight_decay)
        return torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)

    def _hook(self, name: str, **kwargs: Any) -> None:
        self.plugins.call(name, trainer=self, **kwargs)

    def _evaluate(self, role: str, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        self._hook("before_evaluation", split=role)
        metrics = evaluate(self.model, images, labels, batch_size=self.config.train.eval_batch_size,
                           device=self.device)
        self._hook("after_evaluation", split=role, metrics=metrics)
        return metrics

    def _train_epoch(self, epoch: int) -> float:
        tc = self.config.train
        train = self.train_split
        context = EpochContext(epoch, train.class_counts(), train.labels, tuple(self.history))
        weights = example_weights(self.strategy, context, tc.strategy)
        order = draw_epoch(weights, self.generator)
        self._hook("before_epoch", epoch=epoch)
        self.model.train()
        total, batches = 0.0, 0
        for start in range(0, len(order), tc.batch_size):
            if tc.max_steps is not None and self.step >= tc.max_steps:
                break
            idx = order[start:start + tc.batch_size]
            x = to_model_input(train.images[idx].to(self.device))
            if tc.hflip:
                x = random_hflip(x, self.generator)
            y = train.labels[idx].to(self.device)
            self._hook("before_batch", step=self.step)
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            value = float(loss.detach())
            total, batches = total + value, batches + 1
            self._hook("after_batch", step=self.step, loss=value)
        return total / max(batches, 1)

    def fit(self) -> TrainResult:
        """Train for ``epochs`` (or ``max_steps``), evaluating on the select split each epoch."""
        tc = self.config.train
        started = time.perf_counter()
        torch.manual_seed(self.config.seed)  # dropout and other global-RNG draws repeat per seed
        try:
            self._hook("before_train")
            for epoch in range(tc.epochs):
                t0 = time.perf_counter()
                train_loss = self._train_epoch(epoch)
                select = self._evaluate("select", self.select_split.images, self.select_split.labels)
                metrics = {"epoch": epoch, "step": self.step, "train_loss": train_loss,
                           "select": select, "seconds": time.perf_counter() - t0}
                self.history.append(metrics)
                self.log(f"epoch {epoch}: step {self.step}, train loss {train_loss:.4f}, "
                         f"select accuracy {select['accuracy']:.4f} ({metrics['seconds']:.0f}s)")
                self._hook("after_epoch", epoch=epoch, metrics=metrics)
                if self.control.should_stop or (tc.max_steps is not None and self.step >= tc.max_steps):
                    break
            result = self._final_result(time.perf_counter() - started)
        except BaseException as exc:
            self._hook("on_train_error", error=exc)
            raise
        self._hook("after_train", result=result)
        return result

    def _final_result(self, seconds: float) -> TrainResult:
        select = self.history[-1]["select"] if self.history else self._evaluate(
            "select", self.select_split.images, self.select_split.labels)
        report = combined = None
        if self.dataset.has_role("report"):
            rep = self.dataset.split("report")
            report = self._evaluate("report", rep.images, rep.labels)
            both = torch.cat([self.select_split.indices, rep.indices])
            combined = evaluate(self.model, self.dataset.images[both], self.dataset.labels[both],
                                batch_size=self.config.train.eval_batch_size, device=self.device)
        return TrainResult(self.step, len(self.history), seconds, select, report, combined,
                           self.history)
