"""The hook specifications of the ``fer`` plugin system.

A plugin is any module (or object) with functions marked ``@fer_core.hookimpl`` whose names
match the specs below, exposed through the ``fer`` entry-point group::

    # pyproject.toml of your plugin distribution
    [project.entry-points.fer]
    my_plugin = "my_package.plugin"

Registry hooks receive a ``register`` callback (the pattern of simonw/llm); lifecycle hooks
observe the trainer and can steer it only through ``trainer.control``. The toolkit's own
backbones, strategies and losses are registered through these same hooks.

A runnable example, a whole plugin in a few lines, registered by hand the way the entry point
would load it:

>>> import torch
>>> from fer_core import hookimpl, plugins
>>> class TinyPlugin:
...     @hookimpl
...     def register_backbones(self, register):
...         register("tiny_linear", lambda num_classes=7, in_chans=1, **kw: torch.nn.Sequential(
...             torch.nn.Flatten(), torch.nn.Linear(in_chans * 48 * 48, num_classes)))
>>> pm = plugins.PluginSet.from_plugins({"tiny": TinyPlugin()})
>>> model = pm.backbones()["tiny_linear"].build(num_classes=7, in_chans=1)
>>> model(torch.zeros(2, 1, 48, 48)).shape
torch.Size([2, 7])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # the hooks' argument types; fer_core.training imports this module's markers
    from pathlib import Path

    import click

    from fer_core._registrar import Register
    from fer_core.training import Trainer, TrainResult

PROJECT_NAME = "fer"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------------
# Registry hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def register_backbones(register: Register) -> None:
    """Register model backbones by name.

    Call ``register(name, factory, description="")``. ``factory(num_classes, in_chans, **kwargs)``
    returns a ``torch.nn.Module`` that maps ``[N, in_chans, H, W]`` float images to
    ``[N, num_classes]`` logits. Keyword arguments of the experiment's ``[model]`` table are
    passed through to it.

    >>> import torch
    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def register_backbones(register):
    ...     register("flat", lambda num_classes, in_chans, **kw: torch.nn.Sequential(
    ...         torch.nn.Flatten(), torch.nn.LazyLinear(num_classes)))
    """


@hookspec
def register_sampler_strategies(register: Register) -> None:
    """Register sampler strategies by name.

    Call ``register(name, factory, description="")``. ``factory(**options)`` returns an object
    with ``weights(context) -> torch.Tensor`` (see :class:`fer_core.SamplerStrategy`): before
    each epoch it gets a :class:`fer_core.EpochContext` (epoch, class counts, training labels,
    history of evaluation metrics) and answers the sampling weight of each class (shape
    ``[num_classes]``) or of each training example (shape ``[num_train]``). A factory with a
    ``classes`` parameter is also given the labels' class names in output order (the 7 of
    :data:`fer_core.CLASSES`, or FER+'s 8 with contempt), as a tuple; it is not a config option.

    >>> import torch
    >>> from fer_core import hookimpl
    >>> class HappyTwice:
    ...     def weights(self, context):
    ...         w = torch.ones(len(context.class_counts))
    ...         w[3] = 2.0
    ...         return w
    >>> @hookimpl
    ... def register_sampler_strategies(register):
    ...     register("happy_twice", HappyTwice)
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register loss functions by name.

    Call ``register(name, factory, description="")``. ``factory(class_weights=None, **options)``
    returns a callable ``loss(logits, targets)``; ``targets`` are class indices ``[N]`` or soft
    targets ``[N, num_classes]``. As for strategies, a factory with a ``classes`` parameter is
    given the labels' class names (so ``class_weights`` may name FER+'s contempt).

    >>> import torch
    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def register_losses(register):
    ...     register("plain_ce", lambda class_weights=None, **kw: torch.nn.CrossEntropyLoss(
    ...         weight=class_weights))
    """


@hookspec
def register_face_detectors(register: Register) -> None:
    """Register face detectors by name (used by fer-temporal).

    Call ``register(name, factory, description="")``. ``factory(**options)`` returns a callable
    that takes one RGB ``uint8`` frame ``[H, W, 3]`` and returns a list of boxes
    ``(x0, y0, x1, y1, score)`` in pixels. A box may also carry 5 landmarks (left eye, right
    eye, nose, mouth left, mouth right; left = the image's left) as ``fer_temporal.Detection``,
    a tuple with a ``landmarks`` attribute; the timeline's ``lm_*`` columns take them.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def register_face_detectors(register):
    ...     register("whole_frame", lambda **kw: lambda frame: [
    ...         (0, 0, frame.shape[1], frame.shape[0], 1.0)])
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``fercli`` click group.

    >>> import click
    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def register_commands(cli):
    ...     @cli.command(name="hello")
    ...     def hello():
    ...         click.echo("hello from a plugin")
    """


# ---------------------------------------------------------------------------------------------
# Trainer lifecycle hooks: they observe; they steer only through ``trainer.control``.
# ---------------------------------------------------------------------------------------------


@hookspec
def before_train(trainer: Trainer) -> None:
    """Called once before the first epoch, after the model, data and optimizer are built.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def before_train(trainer):
    ...     print("training", trainer.config.model.backbone)
    """


@hookspec
def after_train(trainer: Trainer, result: TrainResult) -> None:
    """Called once after training ends normally; ``result`` is the :class:`TrainResult`.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def after_train(trainer, result):
    ...     print(f"select accuracy {result.select['accuracy']:.3f}")
    """


@hookspec
def on_train_error(trainer: Trainer, error: BaseException) -> None:
    """Called when training stops on an exception (including ``KeyboardInterrupt``).

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def on_train_error(trainer, error):
    ...     print("training failed:", error)
    """


@hookspec
def before_epoch(trainer: Trainer, epoch: int) -> None:
    """Called before each epoch (0-based), after the sampler weights for it are drawn.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def before_epoch(trainer, epoch):
    ...     print("epoch", epoch)
    """


@hookspec
def after_epoch(trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
    """Called after each epoch with that epoch's metrics (losses, selection-split metrics).

    Set ``trainer.control.should_stop = True`` to end training after this epoch.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def after_epoch(trainer, epoch, metrics):
    ...     if metrics["select"]["accuracy"] > 0.99:
    ...         trainer.control.should_stop = True
    """


@hookspec
def before_batch(trainer: Trainer, step: int) -> None:
    """Called before each optimizer step; ``step`` counts steps from the start of training.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def before_batch(trainer, step):
    ...     pass
    """


@hookspec
def after_batch(trainer: Trainer, step: int, loss: float) -> None:
    """Called after each optimizer step with the batch's training loss.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def after_batch(trainer, step, loss):
    ...     if step % 100 == 0:
    ...         print(step, loss)
    """


@hookspec
def before_evaluation(trainer: Trainer, split: str) -> None:
    """Called before evaluating on a split role (``"select"`` or ``"report"``).

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def before_evaluation(trainer, split):
    ...     print("evaluating", split)
    """


@hookspec
def after_evaluation(trainer: Trainer, split: str, metrics: dict[str, Any]) -> None:
    """Called after evaluating on a split role, with its metrics.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def after_evaluation(trainer, split, metrics):
    ...     print(split, metrics["accuracy"])
    """


@hookspec
def before_checkpoint(trainer: Trainer, path: Path) -> None:
    """Called before a checkpoint is written to ``path``.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def before_checkpoint(trainer, path):
    ...     print("saving", path)
    """


@hookspec
def after_checkpoint(trainer: Trainer, path: Path) -> None:
    """Called after a checkpoint was written (atomically) to ``path``.

    >>> from fer_core import hookimpl
    >>> @hookimpl
    ... def after_checkpoint(trainer, path):
    ...     print("saved", path)
    """
