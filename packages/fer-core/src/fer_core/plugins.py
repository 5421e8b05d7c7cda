"""The typed facade over pluggy: the only module that touches ``pm.hook``.

Plugins come from the ``fer`` entry-point group (the toolkit's built-ins included). The
environment variable ``FER_LOAD_PLUGINS`` limits which load: a comma-separated list of
entry-point names or distribution names; set but empty, no plugin loads.

>>> from fer_core import plugins
>>> ps = plugins.get_plugins()          # loads the entry points once, then cached
>>> "small_cnn" in ps.backbones()       # doctest: +SKIP
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from fer_core import hookspecs
from fer_core.errors import PluginError

ENTRY_POINT_GROUP = "fer"
LOAD_ENV = "FER_LOAD_PLUGINS"

# kind -> registry hook name
REGISTRY_HOOKS: dict[str, str] = {
    "backbone": "register_backbones",
    "sampler_strategy": "register_sampler_strategies",
    "loss": "register_losses",
    "face_detector": "register_face_detectors",
}


@dataclass(frozen=True)
class Registered:
    """One named thing a plugin registered: a backbone, strategy, loss or detector factory."""

    kind: str
    name: str
    factory: Callable[..., Any]
    description: str
    plugin: str
    distribution: str

    def build(self, **kwargs: Any) -> Any:
        """Call the factory with ``kwargs``; errors name the plugin that registered it."""
        try:
            return self.factory(**kwargs)
        except TypeError as exc:
            raise PluginError(
                f"{self.kind} {self.name!r} (plugin {self.plugin!r}, {self.distribution}) "
                f"rejected its options {sorted(kwargs)}: {exc}"
            ) from exc


@dataclass
class PluginInfo:
    """What ``fercli plugins`` shows for one plugin."""

    name: str
    distribution: str = "-"
    version: str = "-"
    module: str = "-"
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


def _allowed(env_value: str | None) -> set[str] | None:
    if env_value is None:
        return None
    return {part.strip() for part in env_value.split(",") if part.strip()}


def _dist_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "-", "-"
    return dist.metadata["Name"] or "-", dist.version or "-"


class PluginSet:
    """A loaded set of plugins and everything they registered.

    Build one with :meth:`load` (entry points) or :meth:`from_plugins` (objects you hold, for
    tests and embedding apps). Registries are collected once, on first use.
    """

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo]):
        self._pm = pm
        self._infos = infos
        self._registries: dict[str, dict[str, Registered]] = {}
        pm.check_pending()  # a hookimpl with a misspelled name fails here, loudly

    # -- construction -------------------------------------------------------------------------
    @staticmethod
    def _new_manager() -> pluggy.PluginManager:
        pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        return pm

    @classmethod
    def load(cls, allow: Iterable[str] | None = None, *,
             extra: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> PluginSet:
        """Load the ``fer`` entry points (limited to ``allow``, default from ``FER_LOAD_PLUGINS``).

        ``extra`` adds plugin objects by name, as if they were installed.
        """
        allowed = set(allow) if allow is not None else _allowed(os.environ.get(LOAD_ENV))
        pm = cls._new_manager()
        infos: dict[str, PluginInfo] = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist, version = _dist_of(ep)
            if allowed is not None and ep.name not in allowed and dist not in allowed:
                continue
            if ep.name in infos:
                raise PluginError(
                    f"two installed distributions use the plugin name {ep.name!r}: "
                    f"{infos[ep.name].distribution} and {dist}"
                )
            info = PluginInfo(ep.name, dist, version, ep.value)
            infos[ep.name] = info
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
            except Exception as exc:  # a broken plugin must not break unrelated commands
                info.error = f"{type(exc).__name__}: {exc}"
        for name, plugin in dict(extra).items():
            pm.register(plugin, name=name)
            infos[name] = PluginInfo(name, module=getattr(plugin, "__name__", type(plugin).__name__))
        return cls(pm, infos)

    @classmethod
    def from_plugins(cls, plugins: Mapping[str, object]) -> PluginSet:
        """A plugin set of exactly these objects, no entry points."""
        return cls.load(allow=(), extra=plugins)

    # -- what is loaded -----------------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        """One :class:`PluginInfo` per plugin, with its hooks and registered names."""
        for kind in REGISTRY_HOOKS:
            self.registry(kind)
        for name, info in self._infos.items():
            plugin = self._pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(c.name for c in self._pm.get_hookcallers(plugin) or [])
        return sorted(self._infos.values(), key=lambda i: i.name)

    def _plugin_info(self, plugin_name: str) -> PluginInfo:
        return self._infos.setdefault(plugin_name, PluginInfo(plugin_name))

    # -- registries ---------------------------------------------------------------------------
    def registry(self, kind: str) -> dict[str, Registered]:
        """Everything registered of one kind (``backbone``, ``sampler_strategy``, ...), by name."""
        if kind in self._registries:
            return self._registries[kind]
        hook_name = REGISTRY_HOOKS[kind]
        found: dict[str, Registered] = {}
        # pluggy calls implementations last-registered first; keep that order.
        for impl in reversed(getattr(self._pm.hook, hook_name).get_hookimpls()):
            info = self._plugin_info(impl.plugin_name)

            def register(
                name: str,
                factory: Callable[..., Any],
                description: str = "",
                _info: PluginInfo = info,
            ) -> None:
                if name in found:
                    first = found[name]
                    raise PluginError(
                        f"{kind} {name!r} is registered twice: by plugin {first.plugin!r} "
                        f"({first.distribution}) and by plugin {_info.name!r} ({_info.distribution})"
                    )
                found[name] = Registered(kind, name, factory, description, _info.name, _info.distribution)
                _info.registered.setdefault(kind, []).append(name)

            try:
                impl.function(register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {info.name!r} ({info.distribution}) raised in hook {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        self._registries[kind] = found
        return found

    def get(self, kind: str, name: str) -> Registered:
        """The registered ``kind`` called ``name``, or an error listing the names there are."""
        reg = self.registry(kind)
        if name not in reg:
            known = ", ".join(sorted(reg)) or "none (is fer-models installed?)"
            raise PluginError(f"no {kind.replace('_', ' ')} named {name!r}; registered: {known}")
        return reg[name]

    def backbones(self) -> dict[str, Registered]:
        return self.registry("backbone")

    def sampler_strategies(self) -> dict[str, Registered]:
        return self.registry("sampler_strategy")

    def losses(self) -> dict[str, Registered]:
        return self.registry("loss")

    def face_detectors(self) -> dict[str, Registered]:
        return self.registry("face_detector")

    # -- other hooks --------------------------------------------------------------------------
    def register_commands(self, cli: Any) -> None:
        """Let plugins add commands to the ``fercli`` group."""
        self.call("register_commands", cli=cli)

    def call(self, hook_name: str, **kwargs: Any) -> None:
        """Fire a lifecycle hook; an exception in a plugin is re-raised naming that plugin."""
        try:
            getattr(self._pm.hook, hook_name)(**kwargs)
        except Exception as exc:
            culprit = self._plugin_in_traceback(exc)
            if culprit is None:
                raise
            raise PluginError(
                f"plugin {culprit.name!r} ({culprit.distribution}) raised in hook {hook_name}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _plugin_in_traceback(self, exc: BaseException) -> PluginInfo | None:
        modules = {}
        for name, plugin in self._pm.list_name_plugin():
            mod = getattr(plugin, "__name__", None) or type(plugin).__module__
            modules[mod] = name
        tb = exc.__traceback__
        culprit = None
        while tb is not None:
            mod = tb.tb_frame.f_globals.get("__name__", "")
            if mod in modules:
                culprit = modules[mod]
            tb = tb.tb_next
        return self._infos.get(culprit) if culprit else None


_default: PluginSet | None = None


def get_plugins() -> PluginSet:
    """The process-wide plugin set, loaded from entry points on first call."""
    global _default
    if _default is None:
        _default = PluginSet.load()
    return _default


def reset() -> None:
    """Forget the cached plugin set (tests, or after installing a plugin at run time)."""
    global _default
    _default = None

