"""The ``register`` callback that the registry hooks receive (a leaf: it imports nothing of fer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Register(Protocol):
    """``register(name, factory, description="")``: what a ``register_*`` hook is called with.

    ``factory`` builds the registered thing (a backbone, sampler strategy, loss or face detector)
    from keyword options; ``description`` is the one line ``fercli models`` and ``fercli plugins``
    show. Registering a name twice in one registry is a :class:`~fer_core.PluginError`. A
    ``fer_core.lazy("module:attr")`` factory imports its module only when first used, which keeps
    loading the plugin (every ``fercli`` command does) light.

    >>> def register_backbones(register: Register) -> None:
    ...     register("identity", lambda **options: None, "does nothing")
    >>> seen = []
    >>> register_backbones(lambda name, factory, description="": seen.append((name, description)))
    >>> seen
    [('identity', 'does nothing')]
    """

    def __call__(self, name: str, factory: Callable[..., Any], description: str = "") -> None: ...
