"""The entry point of fer-temporal's built-in face detectors (``[project.entry-points.fer]``)."""

from __future__ import annotations

from fer_core import Register, hookimpl
from fer_temporal._detectors import DETECTORS


@hookimpl
def register_face_detectors(register: Register) -> None:
    for name, factory in DETECTORS.items():
        register(name, factory, (factory.__doc__ or "").strip().splitlines()[0])
