"""Factories that import their module on first use, so that loading a plugin stays light.

A plugin's registry hooks run whenever the registries are read (``fercli plugins``, config
checks), but a backbone is built only when one is trained or loaded. ``lazy("pkg.mod:attr")``
registers a stand-in that imports ``pkg.mod`` (and torch, timm, ...) only when it is called or
its signature is asked for (the config checks bind options against it)::

    @hookimpl
    def register_backbones(register):
        register("my_net", lazy("my_package.nets:my_net"), "my net, in a few words")

Give the description at register time: reading the target's docstring would import it. Any
other attribute (``default_crop``, ``trained_options``) is read from the target.

>>> f = lazy("fractions:Fraction")
>>> f
lazy('fractions:Fraction')
>>> str(f(3, 4)), list(inspect.signature(f).parameters)[:2]
('3/4', ['numerator', 'denominator'])
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from fer_core.errors import PluginError


class LazyFactory:
    """A callable standing in for ``module:attr``; the module is imported on first use."""

    __slots__ = ("_resolved", "_target")

    def __init__(self, target: str):
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"lazy factory target must be 'module:attribute', not {target!r}")
        self._target = target
        self._resolved: Any = None

    @property
    def target(self) -> str:
        """``module:attr``, as given."""
        return self._target

    @property
    def resolved(self) -> bool:
        """Whether the target was imported already."""
        return self._resolved is not None

    def resolve(self) -> Any:
        """The real factory (imported now if it was not); a failed import is a PluginError."""
        if self._resolved is None:
            module, _, attr = self._target.partition(":")
            try:
                obj: Any = importlib.import_module(module)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except Exception as exc:  # ImportError, AttributeError, or whatever the module raised
                text = " ".join(str(exc).split())
                raise PluginError(f"cannot import the factory {self._target}: {type(exc).__name__}"
                                  + (f": {text}" if text else "")) from exc
            self._resolved = obj
        return self._resolved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        """The target's signature (``inspect.signature`` reads it): options bind as to the target."""
        return inspect.signature(self.resolve())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in LazyFactory.__slots__:
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return f"lazy({self._target!r})"


def lazy(target: str) -> LazyFactory:
    """A factory standing in for ``"module:attr"`` that imports ``module`` only when first used."""
    return LazyFactory(target)


__all__ = ["LazyFactory", "lazy"]


def lazy_exports(package: str, table: dict[str, str], namespace: dict[str, Any],
                 exported: list[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module ``__getattr__`` and ``__dir__`` (PEP 562) for names imported on first use.

    ``table`` maps an exported name to the module that defines it; the first access imports that
    module and keeps the value in the package's ``namespace``, so later reads are plain attributes::

        __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
    """

    def getattr_(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *exported})

    return getattr_, dir_
