"""A classifier named by its model (``"default"``, a run folder, an ``.onnx``) for the Analyzer.

fer-temporal does not depend on fer-models: a name is loaded with ``fer_models.load`` when
fer-models is installed, with the backend asked for (``"auto"``: the model's ONNX copy on ONNX
Runtime and numpy when it has one, so a whole analysis runs without torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fer_core.errors import ConfigError

BACKENDS = ("auto", "onnx", "torch")


def resolve_classifier(classifier: Any, backend: str = "auto", threads: int | None = None) -> Any:
    """``classifier`` itself when it is callable, else the model it names, loaded by
    ``fer_models.load(classifier, backend=backend, threads=threads)``."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if not isinstance(classifier, (str, Path)):
        if backend != "auto":
            raise ConfigError("backend applies to a classifier named by its model (e.g. 'default'), "
                              f"not to a {type(classifier).__name__}")
        return classifier
    try:
        import fer_models
    except ImportError:
        raise ConfigError(f"classifier {str(classifier)!r}: a model name needs fer-models "
                          "(pip install fer-models), or pass any callable crops -> [N, 7]") from None
    return fer_models.load(classifier, backend=backend, threads=threads)
