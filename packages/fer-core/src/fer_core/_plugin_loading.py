"""Registering plugins one at a time, so that one that fails is dropped alone.

A plugin that fails to import, or fails pluggy's validation (a hook argument the spec does not
have, a hook name no spec has, such as ``register_backbonee``), is unregistered, its
:class:`~fer_core.plugins.PluginInfo` records why, and one :class:`PluginWarning` says so; the
others carry on (the pattern of pluggy issue #122: catch, unregister, carry on).
"""

from __future__ import annotations

import difflib
import warnings
from typing import TYPE_CHECKING, Any

import pluggy

from fer_core.errors import PluginWarning

if TYPE_CHECKING:
    from fer_core.plugins import PluginInfo


def describe_plugin(info: PluginInfo) -> str:
    """``plugin 'x' (dist fer-x 1.0, entry point x = mod)``, or ``(module mod)`` for one given by hand."""
    if info.distribution != "-":
        return (f"plugin {info.name!r} (dist {info.distribution} {info.version}, "
                f"entry point {info.name} = {info.module})")
    return f"plugin {info.name!r} (module {info.module})"


def warn(message: str) -> None:
    """One :class:`PluginWarning` (the CLI prints it as one ``warning:`` line)."""
    warnings.warn(message, PluginWarning, stacklevel=3)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (pluggy's validation messages span several)."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def skip(info: PluginInfo, cause: str) -> None:
    """Record that a plugin was skipped and warn once."""
    info.error = cause
    warn(f"{describe_plugin(info)} skipped: {cause}")


def register_checked(pm: pluggy.PluginManager, plugin: object, info: PluginInfo) -> bool:
    """Register ``plugin`` and validate its hooks now; on failure unregister it and :func:`skip` it."""
    try:
        pm.register(plugin, name=info.name)
    except Exception as exc:  # PluginValidationError (bad hook arguments), ValueError (name taken)
        try:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
        except Exception:  # pragma: no cover - nothing was registered
            pass
        skip(info, one_line(exc))
        return False
    unknown = unknown_hooks(pm, plugin)
    if unknown:
        pm.unregister(plugin)
        known = sorted(n for n in pm.hook.__dict__ if not n.startswith("_")
                       and getattr(pm.hook, n).has_spec())
        parts, guessed = [], True
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            guessed = guessed and bool(close)
            parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        listed = "" if guessed else f"; the hooks are: {', '.join(known)}"
        skip(info, f"unknown hook {', '.join(parts)}{listed}")
        return False
    return True


def unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Names of ``plugin``'s hook implementations no hook spec has (``check_pending`` for one plugin)."""
    names = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        impls = [i for i in caller.get_hookimpls() if i.plugin is plugin and not i.optionalhook]
        if impls:
            names.append(caller.name)
    return sorted(names)


def call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one hook implementation with the spec arguments it asks for (pluggy's way)."""
    return impl.function(*[kwargs[name] for name in impl.argnames])
