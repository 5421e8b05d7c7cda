"""An example fer plugin: the ``sqrt_inverse`` sampling strategy and the ``tiny_mlp`` backbone.

This module holds only the hooks and imports no torch: every ``fercli`` command (``--help``
too) loads the plugins, so each factory is registered as ``lazy("module:attr")``, which imports
its module only when a strategy or model is built or its options are checked.
"""

from typing import Any

from fer_core import Register, hookimpl, lazy


@hookimpl
def register_sampler_strategies(register: Register) -> None:
    register("sqrt_inverse", lazy("fer_plugin_example.strategies:SqrtInverse"),
             "class weights 1/count**power (default power 0.5)")


@hookimpl
def register_backbones(register: Register) -> None:
    register("tiny_mlp", lazy("fer_plugin_example.backbones:tiny_mlp"), "toy two-layer perceptron")


def __getattr__(name: str) -> Any:
    if name == "SqrtInverse":  # (its old home) imported on first use
        from fer_plugin_example.strategies import SqrtInverse

        return SqrtInverse
    raise AttributeError(f"module 'fer_plugin_example' has no attribute {name!r}")
