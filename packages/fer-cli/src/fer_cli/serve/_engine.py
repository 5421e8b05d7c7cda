"""The model and the face detector, loaded once per server, and the analysis of one image.

Every face goes through fer-temporal's :class:`~fer_temporal.Analyzer`, the pipeline of ``fercli
analyze`` (detector, crops aligned from the landmarks, classifier): an image posted to ``/v1/faces``
gives the numbers ``fercli analyze`` writes for it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import numpy as np

from fer_cli.serve._errors import ApiError
from fer_cli.serve._settings import ServeSettings
from fer_core.errors import DataError


class Engine:
    """The classifier (``fer_models.load(model, backend="auto")``: ONNX, no torch for ``default``)
    and the detector, built once and shared (both are stateless; ONNX Runtime sessions may run
    from several threads)."""

    def __init__(self, settings: ServeSettings) -> None:
        from fer_core.threads import apply_threads
        from fer_models import load
        from fer_temporal import Smoother, resolve_detector

        self.settings = settings
        self.threads = apply_threads(settings.threads)
        self.classifier = load(settings.model, backend=settings.backend, threads=self.threads)
        self.classes: tuple[str, ...] = tuple(self.classifier.classes)
        options = dict(settings.detector_options)
        self.detector = resolve_detector(settings.detector, options)
        Smoother(settings.smoothing, settings.alpha, settings.window)  # a bad setting fails at start-up

    def analyzer(self, *, live: bool = False) -> Any:
        """A fresh :class:`~fer_temporal.Analyzer` on the shared model and detector (its own tracker)."""
        from fer_temporal import Analyzer

        return Analyzer(self.classifier, self.detector, batch_size=1 if live else 32,
                        redetect_every=self.settings.redetect_every if live else 1)

    def smoother(self) -> Any:
        from fer_temporal import Smoother

        s = self.settings
        return Smoother(s.smoothing, s.alpha, s.window)

    def model_info(self) -> dict[str, Any]:
        clf = self.classifier
        return {"name": self.settings.model, "source": str(getattr(clf, "source", "")),
                "backend": getattr(clf, "backend", ""), "classes": list(self.classes),
                "input_size": int(getattr(clf, "size", 48)), "tta": getattr(clf, "tta", None),
                "detector": self.settings.detector}

    def faces(self, image: np.ndarray) -> list[dict[str, Any]]:
        """Every face of one RGB image, as ``fercli analyze`` finds and classifies it."""
        rows = list(self.analyzer().rows([image], name="upload"))
        return [face_json(row, self.classes) for row in rows if row.get("face_detected")]


def face_json(row: dict[str, Any], classes: Iterable[str],
              smoothed: dict[str, Any] | None = None) -> dict[str, Any]:
    """One timeline row as the API's face: box, landmarks, score, probabilities, label (and, for
    the live stream, the track id and the smoothed probabilities and label)."""
    from fer_temporal import LANDMARKS

    classes = list(classes)
    landmarks = None
    if row.get(f"lm_{LANDMARKS[0]}_x") is not None:
        landmarks = {name: [float(row[f"lm_{name}_x"]), float(row[f"lm_{name}_y"])] for name in LANDMARKS}
    face: dict[str, Any] = {
        "box": [float(row[k]) for k in ("x0", "y0", "x1", "y1")],
        "landmarks": landmarks, "score": float(row["score"]),
        "probabilities": {c: float(row[f"p_{c}"]) for c in classes},
        "label": row["label"]}
    if smoothed:
        face["track_id"] = int(row["track_id"])
        face["smoothed"] = {c: float(smoothed[f"s_{c}"]) for c in classes}
        face["smoothed_label"] = smoothed["s_label"]
    return face


def decode_image(data: bytes | Any, max_pixels: int, what: str = "image") -> np.ndarray:
    """RGB uint8 pixels of an image file's bytes (or a path), read by :func:`fer_core.read_rgb`
    (EXIF orientation, every mode; an animation's first frame); a bad one is a 422 ApiError."""
    from fer_core import read_rgb

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return read_rgb(source, max_pixels=max_pixels)
    except DataError as exc:
        text = str(exc).replace(str(source), what)
        raise ApiError(422, text) from None
