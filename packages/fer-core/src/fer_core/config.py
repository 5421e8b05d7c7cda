"""Experiment configs: TOML files validated into typed objects, with errors that name the key.

An experiment has one or more stages. ``[train]`` holds the defaults of every stage; each
``[[stages]]`` table overrides some of them, and stage N starts from the best checkpoint of
stage N-1 (weights only, fresh optimizer).

>>> from fer_core.config import ExperimentConfig
>>> cfg = ExperimentConfig.from_dict({
...     "data": {"path": "fer2013.csv.gz"},
...     "train": {"epochs": 10, "lr": 1e-3},
...     "stages": [{"name": "warmup", "epochs": 2}, {"name": "main"}],
... })
>>> [(s.name, s.train.epochs, s.train.lr) for s in cfg.resolved_stages()]
[('warmup', 2, 0.001), ('main', 10, 0.001)]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fer_core._env_paths import expand_path
from fer_core.corruptions import CorruptionName
from fer_core.data import LABEL_SOURCES
from fer_core.errors import ConfigError

if TYPE_CHECKING:
    from fer_core.data import FerDataset


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    path: Path
    ferplus: Path | None = None
    labels: Literal["fer2013", "ferplus-majority", "ferplus-distribution",
                    "ferplus8-majority", "ferplus8-distribution"] = "fer2013"
    subset_per_class: int | None = Field(default=None, ge=1)
    eval_limit: int | None = Field(default=None, ge=1, description="evaluate on the first N of each split")
    resize: bool = False
    skip_bad: bool = False
    cache: bool = True
    teacher: Path | None = Field(default=None, description="soft targets of a teacher (fercli teacher)")
    teacher_weight: float = Field(default=0.5, ge=0, le=1, description="share of the teacher in the target")

    def load(self, seed: int = 0) -> FerDataset:
        """The dataset this section describes (:func:`fer_core.data.load_dataset`)."""
        from fer_core.data import load_dataset

        return load_dataset(self.path, ferplus=self.ferplus, labels=self.labels,
                            subset_per_class=self.subset_per_class, seed=seed, resize=self.resize,
                            skip_bad=self.skip_bad, cache=self.cache, teacher=self.teacher,
                            teacher_weight=self.teacher_weight)


class ModelConfig(_Section):
    backbone: str = "small_cnn"
    options: dict[str, Any] = Field(default_factory=dict)


class AugmentConfig(_Section):
    """Batch augmentation, applied as tensor ops to whole batches."""

    crop_size: int | None = Field(default=None, ge=8, description="random crops; eval uses the center")
    translate: float = Field(default=0.0, ge=0, description="max shift in pixels")
    rotate: float = Field(default=0.0, ge=0, le=180, description="max rotation in degrees")
    scale: float = Field(default=0.0, ge=0, lt=1, description="max relative zoom in or out")
    hflip: bool = True
    brightness: float = Field(default=0.0, ge=0, le=1)
    contrast: float = Field(default=0.0, ge=0, lt=1)
    erasing: float = Field(default=0.0, ge=0, le=1, description="probability to erase a rectangle")
    erasing_area: tuple[float, float] = (0.02, 0.25)
    mixup: float = Field(default=0.0, ge=0, description="MixUp Beta alpha; 0 = off")
    cutmix: float = Field(default=0.0, ge=0, description="CutMix Beta alpha; 0 = off")
    mix_prob: float = Field(default=1.0, ge=0, le=1)
    corruptions: list[CorruptionName] = Field(
        default_factory=list, description="video corruptions (fer_core.corruptions) drawn per image")
    corruption_prob: float = Field(default=0.5, ge=0, le=1, description="share of images corrupted")
    corruption_severity: int = Field(default=3, ge=1, le=5, description="highest severity drawn (1..5)")

    @field_validator("corruptions")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"each corruption once, got {v}")
        return v


class TrainConfig(_Section):
    epochs: int = Field(default=1, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    steps_per_epoch: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=64, ge=1)
    eval_batch_size: int = Field(default=256, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    no_decay_norm_bias: bool = True
    momentum: float = Field(default=0.9, ge=0, lt=1)
    nesterov: bool = True
    scheduler: Literal["none", "onecycle", "plateau", "cosine"] = "none"
    warmup_epochs: float = Field(default=0.0, ge=0)
    min_lr: float = Field(default=0.0, ge=0)
    onecycle_pct_start: float = Field(default=0.3, gt=0, lt=1)
    plateau_factor: float = Field(default=0.5, gt=0, lt=1)
    plateau_patience: int = Field(default=2, ge=0)
    grad_clip: float | None = Field(default=None, gt=0)
    amp: Literal["auto", "off", "fp16", "bf16"] = "auto"
    channels_last: bool = False
    ema: float | None = Field(default=None, gt=0, lt=1, description="EMA decay of weights")
    ema_warmup: bool = Field(default=True, description="ramp the EMA decay up over the first updates")
    early_stopping: int | None = Field(default=None, ge=1, description="patience in epochs")
    select_metric: Literal["accuracy", "macro_f1"] = "accuracy"
    strategy: str = "uniform"
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    loss: str = "cross_entropy"
    loss_options: dict[str, Any] = Field(default_factory=dict)
    soft_labels: bool = Field(default=False, description="train on FER+ vote distributions")
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    tta: Literal["none", "flip", "tencrop"] = "none"
    checkpoint_every: int = Field(default=100, ge=0, description="batches; 0 = at epoch ends only")
    on_nonfinite_loss: Literal["stop", "skip"] = Field(
        default="stop", description="a NaN/inf loss stops the run (naming batch and checkpoint) or "
                                    "skips the step")
    keep_last: int = Field(default=2, ge=1)


class OutputConfig(_Section):
    dir: Path = Path("runs")
    tensorboard: bool = False


@dataclass(frozen=True)
class Stage:
    """One resolved stage: its name and its full training config."""

    index: int
    name: str
    train: TrainConfig

    def seed(self, base: int) -> int:
        """This stage's seed: ``base`` for the first stage, a distinct one for each later stage.

        A later stage so draws its own batch orders, augmentations and dropout masks instead of
        replaying the first stage's.
        """
        return base + 10_007 * self.index


class ExperimentConfig(_Section):
    name: str = "experiment"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    threads: int | None = Field(default=None, ge=1)
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    stages: list[dict[str, Any]] = Field(default_factory=list)
    evaluate: bool = Field(default=True, description="evaluate on the report split after training")
    output: OutputConfig = Field(default_factory=OutputConfig)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not v or any(c in v for c in "/\\") or v.startswith("."):
            raise ValueError("must be a plain name (no path separators, not starting with '.')")
        return v

    @model_validator(mode="after")
    def _stages_valid(self) -> ExperimentConfig:
        self.resolved_stages()
        return self

    def resolved_stages(self) -> list[Stage]:
        """Every stage with ``[train]`` defaults merged in; no ``[[stages]]`` means one stage."""
        if not self.stages:
            return [Stage(0, "train", self.train)]
        base = self.train.model_dump()
        out = []
        for i, raw in enumerate(self.stages):
            raw = dict(raw)
            name = str(raw.pop("name", f"stage{i + 1}"))
            merged = {**base, **raw}
            if isinstance(raw.get("augment"), dict):
                merged["augment"] = {**base["augment"], **raw["augment"]}
            try:
                out.append(Stage(i, name, TrainConfig.model_validate(merged)))
            except ValidationError as exc:
                raise ValueError(_describe(exc, f"stages.{i}", prefix=("stages", str(i)))) from None
        names = [s.name for s in out]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "config") -> ExperimentConfig:
        """Validate a dict; a bad key or value raises ConfigError naming it and what is allowed."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"{source}: invalid config\n" + _describe(exc, source)) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> ExperimentConfig:
        """Read a TOML file; relative data paths are taken relative to the file's folder.

        Data paths may name environment variables, ``${FER_SHARED_DIR:-../shared}/...``.
        """
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: a folder, not a config file (give a .toml file)") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not a text file (a config is TOML text in UTF-8)") from None
        except OSError as exc:  # PermissionError, a broken link, a device...
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"{path}: cannot read the config file ({reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        cfg = cls.from_dict(raw, source=str(path))
        base = path.resolve().parent
        cfg.data.path = base / expand_path(str(cfg.data.path), key="[data] path")
        if cfg.data.ferplus is not None:
            cfg.data.ferplus = base / expand_path(str(cfg.data.ferplus), key="[data] ferplus")
        if cfg.data.teacher is not None:
            cfg.data.teacher = base / expand_path(str(cfg.data.teacher), key="[data] teacher")
        return cfg

    def to_json_dict(self) -> dict[str, Any]:
        """The resolved config as JSON-ready data (paths as strings)."""
        return self.model_dump(mode="json")


def _describe(exc: ValidationError, source: str, prefix: tuple[str, ...] = ()) -> str:
    lines = []
    for err in exc.errors():
        loc = [*prefix, *(str(p) for p in err["loc"])]
        key = (f"[{'.'.join(loc[:-1])}] " if len(loc) > 1 else "") + (loc[-1] if loc else "")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parent = _section_of(tuple(err["loc"][:-1]), TrainConfig if prefix else ExperimentConfig)
            msg = f"unknown key; allowed keys: {', '.join(parent.model_fields) if parent else '?'}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
            if msg.startswith("  ["):  # a stage's own errors, already described key by key
                lines.append(msg)
                continue
        lines.append(f"  {key}: {msg}" if key else f"  {msg}")
    return "\n".join(lines)


def _section_of(loc: tuple[Any, ...], model: type[BaseModel]) -> type[BaseModel] | None:
    for part in loc:
        field = model.model_fields.get(str(part))
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def check_choice(value: str, allowed: list[str], key: str, source: str = "config") -> None:
    """Raise ConfigError when ``value`` is not among ``allowed`` (registered plugin names)."""
    if value not in allowed:
        raise ConfigError(
            f"{source}: {key} = {value!r} is not registered; allowed values: "
            f"{', '.join(sorted(allowed)) or 'none (is fer-models installed?)'}"
        )


__all__ = [
    "LABEL_SOURCES",
    "AugmentConfig",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OutputConfig",
    "Stage",
    "TrainConfig",
    "check_choice",
]
