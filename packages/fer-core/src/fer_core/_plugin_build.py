"""Calling a registered factory: option mismatches told apart from bugs, backbone output checked.

The options are first bound against the factory's signature: a failed bind is the user's
mistake ("rejected its options", naming the allowed ones). An exception raised *inside* the
factory is the plugin's bug: one line naming the plugin, the full traceback with ``FER_DEBUG=1``.
A backbone's model must be an ``nn.Module`` mapping a dummy batch to ``[2, num_classes]`` logits.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fer_core.errors import DEBUG_ENV, FerError, PluginError, debug_enabled

#: the input side length a backbone is checked at when the caller does not say (FER2013's 48x48)
DEFAULT_INPUT_SIZE = 48

#: arguments the toolkit itself passes to a backbone factory (not ``[model] options``)
BACKBONE_ARGS = ("num_classes", "in_chans")

#: what the toolkit passes to a sampler strategy or loss factory that has a parameter of that name:
#: the class names of the labels, in output order (the 7, or FER+'s 8 with contempt)
STAGE_ARGS = ("classes",)


def signature_of(factory: Callable[..., Any]) -> inspect.Signature | None:
    """The factory's signature, or ``None`` when Python cannot tell it (some builtins)."""
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def allowed_options(factory: Callable[..., Any], exclude: tuple[str, ...] = ()) -> list[str] | None:
    """The keyword options ``factory`` takes (``None``: any, it has ``**kwargs`` or no signature)."""
    sig = signature_of(factory)
    if sig is None or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in sig.parameters.items() if p.kind in kinds and n not in exclude]


def takes_argument(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` has a parameter ``name`` that can be passed by keyword."""
    sig = signature_of(factory)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return sig is not None and name in sig.parameters and sig.parameters[name].kind in kinds


def option_problem(factory: Callable[..., Any], kwargs: Mapping[str, Any],
                   exclude: tuple[str, ...] = ()) -> str | None:
    """Why ``kwargs`` do not bind to ``factory``'s signature; ``None`` when they do (or it can't tell).

    ``exclude``: arguments the toolkit passes itself, left out of the allowed options named.
    """
    sig = signature_of(factory)
    if sig is None:
        return None
    try:
        sig.bind(**kwargs)
        return None
    except TypeError as exc:
        allowed = allowed_options(factory, exclude)
        unknown = [k for k in kwargs if allowed is not None and k not in allowed and k not in exclude]
        what = (f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
                if unknown else str(exc))
        listed = ", ".join(allowed) if allowed else "none"
        return f"{what}; allowed options: {listed}"


def call_factory(label: str, factory: Callable[..., Any], kwargs: Mapping[str, Any],
                 exclude: tuple[str, ...] = ()) -> Any:
    """``factory(**kwargs)``; a bind failure or a bug inside the factory raises PluginError naming ``label``.

    With ``FER_DEBUG=1`` an exception from inside the factory propagates as it is (its traceback).
    """
    problem = option_problem(factory, kwargs, exclude)
    if problem is not None:
        shown = sorted(k for k in kwargs if k not in exclude)
        raise PluginError(f"{label} rejected its options {shown}: {problem}")
    try:
        return factory(**kwargs)
    except FerError:
        raise  # the plugin's own clear message (a missing weights file, a bad value)
    except Exception as exc:
        if debug_enabled():
            raise
        given = ", ".join(f"{k}={v!r}" for k, v in sorted(kwargs.items()) if k not in exclude)
        with_options = f" with options {given}" if given else ""
        raise PluginError(f"{label} failed inside its factory{with_options}: {_one_line(exc)} "
                          f"(a bug in the plugin, or a bad option value; {DEBUG_ENV}=1 for the traceback)"
                          ) from None


def check_backbone(label: str, model: Any, *, num_classes: int, in_chans: int,
                   input_size: int | tuple[int, int] = DEFAULT_INPUT_SIZE) -> None:
    """Raise PluginError unless ``model`` is an ``nn.Module`` giving ``[2, num_classes]`` logits.

    The dummy batch is zeros (no random numbers drawn, so seeded runs stay the same) and runs
    under ``no_grad`` in eval mode (BatchNorm statistics untouched); every module's train/eval
    mode is restored afterwards.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise PluginError(f"{label}: its factory returned {_describe(model)}, not a torch.nn.Module")
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    first: torch.Tensor | None = next(iter(model.parameters()), None)
    if first is None:
        first = next(iter(model.buffers()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    modes = [(m, m.training) for m in model.modules()]
    batch = f"[2, {in_chans}, {h}, {w}]"
    try:
        model.eval()
        with torch.no_grad():
            out = model(torch.zeros(2, in_chans, h, w, device=device, dtype=dtype))
    except FerError:
        raise
    except Exception as exc:
        if debug_enabled():
            raise
        raise PluginError(f"{label}: its model fails on a dummy batch {batch}: {_one_line(exc)} "
                          f"({DEBUG_ENV}=1 for the traceback)") from None
    finally:
        for module, mode in modes:
            module.training = mode
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, num_classes):
        raise PluginError(f"{label}: its model maps a dummy batch {batch} to {_describe(out)}; "
                          f"expected logits of shape [2, {num_classes}]")


def _describe(value: Any) -> str:
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return f"a tensor of shape {list(value.shape)}"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if callable(value) and not isinstance(value, type):
        return f"a {type(value).__name__} ({getattr(value, '__qualname__', value)!s})"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
