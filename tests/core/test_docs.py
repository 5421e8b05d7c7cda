"""The runnable examples in the docstrings (every hook spec has one) run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["fer_core.hookspecs", "fer_core._registrar", "fer_core.classes", "fer_core.config",
           "fer_core._env_paths", "fer_core.plugins", "fer_core.config_validation",
           "fer_models.backbones.hf_vit", "fer_models.ensemble._fusion", "fer_models.inference._faces",
           "fer_temporal", "fer_temporal._api", "fer_temporal._boxes", "fer_temporal._export",
           "fer_core._lazy"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_hookspec_has_a_docstring_with_an_example():
    from fer_core import hookspecs

    specs = [getattr(hookspecs, n) for n in dir(hookspecs)
             if hasattr(getattr(hookspecs, n), "fer_spec")]
    assert len(specs) >= 15
    for spec in specs:
        assert spec.__doc__ and ">>>" in spec.__doc__, spec.__name__
