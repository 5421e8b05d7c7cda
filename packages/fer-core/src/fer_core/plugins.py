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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from fer_core import hookspecs
from fer_core._plugin_build import (
    BACKBONE_ARGS,
    DEFAULT_INPUT_SIZE,
    STAGE_ARGS,
    allowed_options,
    call_factory,
    check_backbone,
    option_problem,
    takes_argument,
)
from fer_core._plugin_loading import call_impl, describe_plugin, one_line, register_checked, skip, warn
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

    @property
    def label(self) -> str:
        """``backbone 'x' (plugin 'p', dist)``: how errors name it."""
        owner = f"plugin {self.plugin!r}" + (f", {self.distribution}" if self.distribution != "-" else "")
        return f"{self.kind.replace('_', ' ')} {self.name!r} ({owner})"

    def _exclude(self) -> tuple[str, ...]:
        if self.kind == "backbone":
            return BACKBONE_ARGS
        return STAGE_ARGS if self.kind in ("sampler_strategy", "loss") else ()

    def option_problem(self, options: Mapping[str, Any]) -> str | None:
        """Why ``options`` do not bind to the factory's signature (``None``: they do).

        For a backbone, ``options`` are the ``[model] options``; ``num_classes`` and ``in_chans``
        are added here, as the toolkit passes them.
        """
        exclude = self._exclude()
        clash = sorted(set(options) & set(exclude))
        if clash:
            return f"{', '.join(map(repr, clash))} is set by the toolkit, not an option"
        extra = {"num_classes": 7, "in_chans": 1} if self.kind == "backbone" else {}
        return option_problem(self.factory, {**extra, **options}, exclude)

    def allowed_options(self) -> list[str] | None:
        """The option names the factory takes (``None``: any)."""
        return allowed_options(self.factory, self._exclude())

    def build_for(self, classes: Sequence[str], **options: Any) -> Any:
        """:meth:`build` for labels of ``classes``: passed as ``classes=`` when the factory takes it
        (a strategy or loss that reads class names: FER+'s 8 classes, not only the 7)."""
        given = {"classes": tuple(classes)} if takes_argument(self.factory, "classes") else {}
        return self.build(**given, **options)

    def build(self, **kwargs: Any) -> Any:
        """Call the factory with ``kwargs``; errors name the plugin that registered it.

        Options that do not fit the factory's signature: "rejected its options". An exception
        inside the factory: a one-line PluginError (``FER_DEBUG=1``: the traceback). A backbone's
        model is checked on a dummy 48x48 batch (see :meth:`build_with` for another size).
        """
        return self.build_with(kwargs)

    def build_with(self, kwargs: Mapping[str, Any], *,
                   input_size: int | tuple[int, int] = DEFAULT_INPUT_SIZE) -> Any:
        """:meth:`build`, checking a backbone on a dummy batch of ``input_size`` (side or (H, W))."""
        built = call_factory(self.label, self.factory, kwargs, self._exclude())
        if self.kind == "backbone":
            check_backbone(self.label, built, num_classes=int(kwargs.get("num_classes", 7)),
                           in_chans=int(kwargs.get("in_chans", 1)), input_size=input_size)
        return built


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
    """Why the plugin was skipped entirely (failed to import or to validate)."""
    problems: list[str] = field(default_factory=list)
    """Registrations of it that were dropped (a registry hook raised, a clash, a bad factory)."""


def _allowed(env_value: str | None) -> set[str] | None:
    if env_value is None:
        return None
    return {part.strip() for part in env_value.split(",") if part.strip()}


def _who(plugin: str, distribution: str) -> str:
    return f"plugin {plugin!r}" + (f" ({distribution})" if distribution != "-" else "")


def _dist_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "-", "-"
    return dist.metadata["Name"] or "-", dist.version or "-"


class PluginSet:
    """A loaded set of plugins and everything they registered.

    Build one with :meth:`load` (entry points) or :meth:`from_plugins` (objects you hold, for
    tests and embedding apps). Registries are collected once, on first use. A plugin that fails
    (to import, to validate, inside a registry hook) is dropped alone with one
    :class:`~fer_core.errors.PluginWarning`; :meth:`info` and the "no backbone named X" errors
    say why.
    """

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo]):
        self._pm = pm
        self._infos = infos
        self._registries: dict[str, dict[str, Registered]] = {}
        self._clashes: dict[str, dict[str, str]] = {}  # kind -> name -> why it was dropped

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

        ``extra`` adds plugin objects by name, as if they were installed. A plugin that fails to
        import or to validate is skipped with a warning; the rest load.
        """
        allowed = set(allow) if allow is not None else _allowed(os.environ.get(LOAD_ENV))
        pm = cls._new_manager()
        infos: dict[str, PluginInfo] = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist, version = _dist_of(ep)
            if allowed is not None and ep.name not in allowed and dist not in allowed:
                continue
            info = PluginInfo(ep.name, dist, version, ep.value)
            if ep.name in infos:
                first = infos[ep.name]
                skip(info, f"the plugin name {ep.name!r} is taken by {first.distribution} {first.version}")
                continue
            infos[ep.name] = info
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break unrelated commands
                skip(info, f"failed to import: {one_line(exc)}")
                continue
            register_checked(pm, plugin, info)
        for name, plugin in dict(extra).items():
            info = PluginInfo(name, module=getattr(plugin, "__name__", type(plugin).__name__))
            if name in infos:
                skip(info, f"the plugin name {name!r} is taken by {infos[name].distribution}")
                continue
            infos[name] = info
            register_checked(pm, plugin, info)
        return cls(pm, infos)

    @classmethod
    def from_plugins(cls, plugins: Mapping[str, object]) -> PluginSet:
        """A plugin set of exactly these objects, no entry points."""
        return cls.load(allow=(), extra=plugins)

    # -- what is loaded -----------------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        """One :class:`PluginInfo` per plugin, with its hooks and registered names (or its error)."""
        for kind in REGISTRY_HOOKS:
            self.registry(kind)
        for name, info in self._infos.items():
            plugin = self._pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(c.name for c in self._pm.get_hookcallers(plugin) or [])
        return sorted(self._infos.values(), key=lambda i: i.name)

    def failed(self) -> list[PluginInfo]:
        """The plugins that were skipped, with why (``info.error``)."""
        return [i for i in sorted(self._infos.values(), key=lambda i: i.name) if i.error]

    def _plugin_info(self, plugin_name: str) -> PluginInfo:
        return self._infos.setdefault(plugin_name, PluginInfo(plugin_name))

    def _drop(self, info: PluginInfo, what: str) -> None:
        info.problems.append(what)
        warn(f"{describe_plugin(info)}: {what}")

    # -- registries ---------------------------------------------------------------------------
    def registry(self, kind: str) -> dict[str, Registered]:
        """Everything registered of one kind (``backbone``, ``sampler_strategy``, ...), by name.

        A plugin whose hook raises loses its registrations of this kind; a name two plugins
        register is dropped from both; each with a warning (see :meth:`get` for the message).
        """
        if kind in self._registries:
            return self._registries[kind]
        hook_name = REGISTRY_HOOKS[kind]
        label = kind.replace("_", " ")
        found: dict[str, Registered] = {}
        clashes = self._clashes.setdefault(kind, {})
        # pluggy calls implementations last-registered first; keep that order.
        for impl in reversed(getattr(self._pm.hook, hook_name).get_hookimpls()):
            info = self._plugin_info(impl.plugin_name)
            staged: dict[str, Registered] = {}

            def register(name: str, factory: Callable[..., Any], description: str = "",
                         _info: PluginInfo = info, _staged: dict[str, Registered] = staged) -> None:
                if not isinstance(name, str) or not name:
                    self._drop(_info, f"{hook_name} registered a {label} with the name {name!r} "
                                      "(not a non-empty string); dropped")
                elif not callable(factory):
                    self._drop(_info, f"{label} {name!r}: its factory is a {type(factory).__name__}, "
                                      "not callable; dropped")
                elif name in _staged:
                    self._drop(_info, f"{label} {name!r} is registered twice by this plugin; "
                                      "the first kept")
                else:
                    _staged[name] = Registered(kind, name, factory, str(description or ""),
                                               _info.name, _info.distribution)

            try:
                call_impl(impl, register=register)
            except Exception as exc:
                self._drop(info, f"raised in hook {hook_name}: {one_line(exc)}; "
                                 f"none of its {label} registrations are used")
                continue
            for name, item in staged.items():
                if name in clashes:
                    clashes[name] += f" and by {_who(info.name, info.distribution)}"
                    self._drop(info, f"{label} {name!r} is registered twice ({clashes[name]}); dropped")
                elif name in found:
                    first = found.pop(name)
                    clashes[name] = (f"by {_who(first.plugin, first.distribution)} "
                                     f"and by {_who(info.name, info.distribution)}")
                    self._infos[first.plugin].registered[kind].remove(name)
                    self._drop(info, f"{label} {name!r} is registered twice ({clashes[name]}); "
                                     "dropped from both")
                else:
                    found[name] = item
                    info.registered.setdefault(kind, []).append(name)
        self._registries[kind] = found
        return found

    def get(self, kind: str, name: str) -> Registered:
        """The registered ``kind`` called ``name``, or an error listing the names there are.

        The error also names the plugins that failed to load and why (one of them may have
        been the one to register ``name``).
        """
        reg = self.registry(kind)
        if name not in reg:
            why = self.why_missing(kind, name)
            known = ", ".join(sorted(reg)) or ("none" if why else "none (is fer-models installed?)")
            raise PluginError(f"no {kind.replace('_', ' ')} named {name!r}; registered: {known}{why}")
        return reg[name]

    def why_missing(self, kind: str, name: str) -> str:
        """``; 'x' was registered twice ...; failed plugins: ...``: what may explain a missing name."""
        self.registry(kind)
        parts = []
        clash = self._clashes.get(kind, {}).get(name)
        if clash:
            parts.append(f"{name!r} was registered twice ({clash}) and dropped")
        failed = [f"{describe_plugin(i)}: {i.error}" for i in self.failed()]
        failed += [f"{describe_plugin(i)}: {p}" for i in self._infos.values() for p in i.problems
                   if f"hook {REGISTRY_HOOKS[kind]}:" in p]
        if failed:
            parts.append("failed plugins: " + "; ".join(failed))
        return "".join(f"; {p}" for p in parts)

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
        """Let plugins add commands to the ``fercli`` group; one that raises is skipped with a warning."""
        for impl in reversed(self._pm.hook.register_commands.get_hookimpls()):
            try:
                call_impl(impl, cli=cli)
            except Exception as exc:
                self._drop(self._plugin_info(impl.plugin_name),
                           f"raised in hook register_commands: {one_line(exc)}; its commands may be missing")

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

