"""The entry point of fer-temporal's built-in face detectors (``[project.entry-points.fer]``).

Light: each detector's module (numpy, OpenCV, ...) is imported when it is first built.
"""

from __future__ import annotations

from fer_core import Register, hookimpl, lazy

#: name -> (``module:factory``, description); the same names as ``_detectors.DETECTORS`` (a test checks)
DETECTORS: dict[str, tuple[str, str]] = {
    "retinaface": ("fer_temporal._retinaface:retinaface",
                   "RetinaFace-MobileNet0.25 (ONNX Runtime), the default: boxes with 5 landmarks."),
    "haar": ("fer_temporal._detectors:haar",
             "OpenCV Haar cascade, offline (options: cascade, scale_factor, min_neighbors, min_size)."),
    "full_frame": ("fer_temporal._detectors:full_frame",
                   "The whole frame is the face: for inputs that are already face crops."),
}


@hookimpl
def register_face_detectors(register: Register) -> None:
    for name, (target, description) in DETECTORS.items():
        register(name, lazy(target), description)
