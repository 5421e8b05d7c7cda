"""What both inference backends share: the model's config and what it says (no torch here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_core.classes import CLASSES
from fer_models.inference._checks import check_tta


class ClassifierBase:
    """Config-derived properties and ``predict`` of :class:`~fer_models.inference.Classifier`
    (PyTorch) and :class:`~fer_models.inference.OnnxClassifier` (ONNX Runtime and numpy)."""

    backend = ""

    def __init__(self, config: dict[str, Any], *, source: str = "", tta: str | None = None) -> None:
        self.config = config
        self.source = source
        pre = config.get("preprocessing") or {}
        self.size = int(pre.get("size", 48))
        self.crop_size = pre.get("crop_size")
        self.tta = check_tta(tta if tta is not None else pre.get("tta") or "none", self.crop_size)

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in output order (the toolkit's canonical order)."""
        return tuple(self.config.get("classes") or CLASSES)

    @property
    def temperature(self) -> float:
        """Temperature applied to the probabilities (fitted on PublicTest for shipped models; 1 = none)."""
        return float(self.config.get("temperature") or 1.0)

    @property
    def card(self) -> dict[str, Any]:
        """Model card metadata (accuracy, protocol, ...) when the model ships with one, else {}."""
        return dict(self.config.get("card") or {})

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.config.get("experiment") or self.config.get("backbone"))

    def predict_proba(self, faces: Any, *, tta: str | None = None, batch_size: int = 256) -> np.ndarray:
        raise NotImplementedError

    def gmacs(self, tta: str | None = None) -> float:
        """Multiply-accumulates per face, in billions, with the TTA views counted."""
        raise NotImplementedError

    def __call__(self, faces: Any, **kwargs: Any) -> np.ndarray:
        return self.predict_proba(faces, **kwargs)

    def predict(self, faces: Any, **kwargs: Any) -> list[str]:
        """The most probable class name of each face."""
        return [self.classes[i] for i in self.predict_proba(faces, **kwargs).argmax(1)]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, backend={self.backend!r}, size={self.size}, "
                f"crop_size={self.crop_size}, tta={self.tta!r})")
