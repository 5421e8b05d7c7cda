"""Experiment configs: TOML files validated into typed objects, with errors that name the key.

>>> from fer_core.config import ExperimentConfig
>>> cfg = ExperimentConfig.from_dict({"data": {"path": "fer2013.csv.gz"}, "train": {"max_steps": 10}})
>>> cfg.model.backbone, cfg.train.max_steps
('small_cnn', 10)
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fer_core.data import LABEL_SOURCES
from fer_core.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Section):
    path: Path
    ferplus: Path | None = None
    labels: Literal["fer2013", "ferplus-majority", "ferplus-distribution"] = "fer2013"
    subset_per_class: int | None = Field(default=None, ge=1)
    resize: bool = False
    skip_bad: bool = False
    cache: bool = True


class ModelConfig(_Section):
    backbone: str = "small_cnn"
    options: dict[str, Any] = Field(default_factory=dict)


class TrainConfig(_Section):
    epochs: int = Field(default=1, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=64, ge=1)
    eval_batch_size: int = Field(default=256, ge=1)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    strategy: str = "uniform"
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    loss: str = "cross_entropy"
    loss_options: dict[str, Any] = Field(default_factory=dict)
    hflip: bool = True


class ExperimentConfig(_Section):
    name: str = "experiment"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    threads: int | None = Field(default=None, ge=1)
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not v or any(c in v for c in "/\\") or v.startswith("."):
            raise ValueError("must be a plain name (no path separators, not starting with '.')")
        return v

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, source: str = "config") -> ExperimentConfig:
        """Validate a dict; a bad key or value raises ConfigError naming it and what is allowed."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, source)) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> ExperimentConfig:
        """Read a TOML file; relative data paths are taken relative to the file's folder."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        cfg = cls.from_dict(raw, source=str(path))
        base = path.resolve().parent
        data = cfg.data
        data.path = base / data.path
        if data.ferplus is not None:
            data.ferplus = base / data.ferplus
        return cfg


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid config"]
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = (f"[{'.'.join(loc[:-1])}] " if len(loc) > 1 else "") + (loc[-1] if loc else "")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parent = _section_of(err["loc"][:-1])
            allowed = ", ".join(parent.model_fields) if parent else ""
            msg = f"unknown key; allowed keys: {allowed}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def _section_of(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = ExperimentConfig
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
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "TrainConfig",
    "check_choice",
]
