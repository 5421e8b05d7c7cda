"""fer-models: the toolkit's built-in backbones, sampler strategies and losses, inference and ensembles.

The built-ins are registered through the ``fer`` entry-point group by :mod:`fer_models.plugin`,
the same way a third-party plugin registers its own. ``fer_models.load(name_or_path)`` gives a
ready classifier (see :mod:`fer_models.inference`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core import __version__
from fer_core._lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_models.ensemble import Ensemble
    from fer_models.inference import (
        Classifier,
        OnnxClassifier,
        export_onnx,
        load,
        prepare_faces,
        shipped_models,
    )

# Inference and ensembles import on first use, so that loading the plugin stays light.
_LAZY = {
    "load": "fer_models.inference",
    "shipped_models": "fer_models.inference",
    "prepare_faces": "fer_models.inference",
    "Classifier": "fer_models.inference",
    "OnnxClassifier": "fer_models.inference",
    "export_onnx": "fer_models.inference",
    "Ensemble": "fer_models.ensemble",
}

__all__ = ["Classifier", "Ensemble", "OnnxClassifier", "__version__", "export_onnx", "load", "prepare_faces",
           "shipped_models"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
