"""The entry point of fer-models' built-ins (``[project.entry-points.fer]`` in pyproject.toml)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fer_core import Register, hookimpl
from fer_models.backbones import BACKBONES
from fer_models.losses import LOSSES
from fer_models.strategies import STRATEGIES


def _register_all(register: Register, table: Mapping[str, Callable[..., Any]]) -> None:
    for name, factory in table.items():
        register(name, factory, (factory.__doc__ or "").strip().splitlines()[0])


@hookimpl
def register_backbones(register: Register) -> None:
    _register_all(register, BACKBONES)


@hookimpl
def register_sampler_strategies(register: Register) -> None:
    _register_all(register, STRATEGIES)


@hookimpl
def register_losses(register: Register) -> None:
    _register_all(register, LOSSES)
