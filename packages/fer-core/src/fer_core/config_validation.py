"""Checking an experiment config against the installed plugins, before any data loads.

Every registry name (``[model] backbone``, each stage's ``strategy`` and ``loss``) must be
registered, and every options table (``[model] options``, ``strategy_options``,
``loss_options``) must bind to its factory's signature. All problems are raised together as one
:class:`~fer_core.errors.ConfigError` naming the key, the stage, the plugin and what is allowed,
before a run folder is made or a dataset read (the pattern of Lightning's
``configuration_validator``). The optimizer and scheduler are closed choices the config schema
already checks.

>>> from fer_core.config import ExperimentConfig
>>> from fer_core.plugins import PluginSet
>>> cfg = ExperimentConfig.from_dict({"data": {"path": "x.csv"}, "train": {"strategy": "nope"}})
>>> try:
...     validate_config(cfg, PluginSet.load(allow=["fer_models"]))
... except ConfigError as exc:
...     print(exc)
config: [train] strategy = 'nope' is not registered (stage 'train'); allowed values: adaptive, ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fer_core._layout import BEST_CHECKPOINT, WEIGHTS_NAME
from fer_core.config import ExperimentConfig, Stage
from fer_core.data._labels import SOFT_LABEL_SOURCES
from fer_core.errors import ConfigError
from fer_core.plugins import PluginSet, get_plugins

#: (registry kind, name key, options key) of what each stage picks by name
STAGE_CHOICES = (("sampler_strategy", "strategy", "strategy_options"), ("loss", "loss", "loss_options"))


def validate_config(
    cfg: ExperimentConfig,
    plugins: PluginSet | None = None,
    *,
    stages: Iterable[Stage] | None = None,
    source: str = "config",
    data_from_config: bool = True,
    init_from: str | Path | None = None,
) -> None:
    """Raise one ConfigError listing every name and option of ``cfg`` the plugins do not accept.

    ``stages``: which stages to check (default: all). ``data_from_config``: the dataset will be
    read as ``[data]`` says (so ``soft_labels`` needs FER+ distributions). ``init_from``: a warm
    start path that must exist (``--init``).
    """
    plugins = plugins if plugins is not None else get_plugins()
    problems: dict[tuple[str, str, str], list[str]] = {}  # (key, head, tail) -> stage names

    def add(key: str, head: str, stage: str | None = None, tail: str = "") -> None:
        """One problem: ``key head (stage 's'); tail`` (``key (stage 's'): tail`` when no head)."""
        names = problems.setdefault((key, head, tail), [])
        if stage is not None and stage not in names:
            names.append(stage)

    _check_choice(add, plugins, "backbone", cfg.model.backbone, cfg.model.options,
                  "[model] backbone", "[model] options")
    for stage in stages if stages is not None else cfg.resolved_stages():
        raw = cfg.stages[stage.index] if cfg.stages else {}
        for kind, name_field, options_field in STAGE_CHOICES:
            section = f"stages.{stage.index}" if name_field in raw or options_field in raw else "train"
            _check_choice(add, plugins, kind, getattr(stage.train, name_field),
                          getattr(stage.train, options_field), f"[{section}] {name_field}",
                          f"[{section}] {options_field}", stage.name)
        if (data_from_config and stage.train.soft_labels and cfg.data.labels not in SOFT_LABEL_SOURCES
                and cfg.data.teacher is None):
            section = f"stages.{stage.index}" if "soft_labels" in raw else "train"
            add(f"[{section}] soft_labels = true", SOFT_SOURCES,
                stage.name, f"[data] labels is {cfg.data.labels!r}")
        loss = plugins.registry("loss").get(stage.train.loss)
        if (data_from_config and loss is not None and needs_soft_labels(loss.factory)
                and cfg.data.labels not in SOFT_LABEL_SOURCES and cfg.data.teacher is None):
            section = f"stages.{stage.index}" if "loss" in raw else "train"
            add(f"[{section}] loss = {stage.train.loss!r}", SOFT_SOURCES,
                stage.name, f"it trains on FER+ vote distributions; [data] labels is {cfg.data.labels!r}")
    if data_from_config and cfg.data.teacher is not None:
        if cfg.data.labels != "fer2013":
            add("[data] teacher", "mixes the teacher with FER2013's own labels",
                tail=f"[data] labels is {cfg.data.labels!r}; use labels = 'fer2013'")
        elif not Path(cfg.data.teacher).is_file():
            add(f"[data] teacher = {str(cfg.data.teacher)!r}", "is not a file",
                tail="make it with `fercli teacher MODEL --data DATA --out FILE`")
        elif not any(s.train.soft_labels for s in (stages if stages is not None else cfg.resolved_stages())):
            add("[data] teacher", "is set but no stage trains on it", tail="set [train] soft_labels = true")
    if init_from is not None:
        problem = _init_problem(Path(init_from))
        if problem:
            add(f"--init {init_from}", "", tail=problem)
    if not problems:
        return
    lines = [_line(key, head, tail, names) for (key, head, tail), names in problems.items()]
    if len(lines) == 1:
        raise ConfigError(f"{source}: {lines[0]}")
    raise ConfigError(f"{source}: invalid config\n" + "\n".join(f"  {line}" for line in lines))


#: What training on soft targets needs, in every message that says it is missing.
SOFT_SOURCES = ("needs [data] labels = 'ferplus-distribution' (or 'ferplus8-distribution') "
                "or a [data] teacher file")


def needs_soft_labels(loss_factory: Any) -> bool:
    """Whether a registered loss trains on FER+ vote distributions (its factory has
    ``soft_labels = True``, as ``pld``'s has): the trainer then feeds it soft targets."""
    try:
        return getattr(loss_factory, "soft_labels", False) is True
    except Exception:  # a lazy factory whose module fails to import: reported elsewhere
        return False


def _check_choice(add: Any, plugins: PluginSet, kind: str, value: str, options: Mapping[str, Any],
                  name_key: str, options_key: str, stage: str | None = None) -> None:
    registry = plugins.registry(kind)
    if value not in registry:
        allowed = ", ".join(sorted(registry)) or "none"
        why = plugins.why_missing(kind, value)
        hint = "" if registry or why else " (is fer-models installed?)"
        add(f"{name_key} = {value!r}", "is not registered", stage, f"allowed values: {allowed}{hint}{why}")
        return
    problem = registry[value].option_problem(options)
    if problem is not None:
        add(options_key, "", stage, f"{registry[value].label}: {problem}")


def _line(key: str, head: str, tail: str, stages: list[str]) -> str:
    where = ""
    if stages:
        where = (f" (stage {stages[0]!r})" if len(stages) == 1
                 else f" (stages {', '.join(map(repr, stages))})")
    if head:
        return f"{key} {head}{where}" + (f"; {tail}" if tail else "")
    return f"{key}{where}: {tail}"


def _init_problem(path: Path) -> str | None:
    if path.is_dir():
        if not ((path / BEST_CHECKPOINT).is_file() or (path / WEIGHTS_NAME).is_file()):
            return f"a folder without {BEST_CHECKPOINT} or {WEIGHTS_NAME}"
        return None
    if not path.is_file():
        return "no such run folder, checkpoint or .safetensors file"
    return None


__all__ = ["SOFT_SOURCES", "needs_soft_labels", "validate_config"]
