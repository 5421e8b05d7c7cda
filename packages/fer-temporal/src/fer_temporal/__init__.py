"""fer-temporal: emotion over time in videos and frame streams, embeddable in other apps.

>>> import numpy as np
>>> from fer_temporal import Analyzer
>>> uniform = lambda crops: np.full((len(crops), 7), 1 / 7)   # any classifier: crops -> [N, 7]
>>> frames = [np.zeros((64, 64, 3), np.uint8)] * 3
>>> rows = list(Analyzer(uniform, detector="full_frame").rows(frames))
>>> [(r["frame"], r["track_id"], r["label"]) for r in rows]
[(0, 0, 'angry'), (1, 0, 'angry'), (2, 0, 'angry')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core import __version__
from fer_core._lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_temporal._analysis import SMOOTHING, Smoother, TimelineAnalysis
    from fer_temporal._api import Timeline, analyze, stream
    from fer_temporal._boxes import LANDMARKS, Detection, as_detection
    from fer_temporal._crops import face_crops, square_box
    from fer_temporal._csv import CsvTimelineWriter
    from fer_temporal._detectors import DEFAULT_DETECTOR, FullFrameDetector, HaarDetector
    from fer_temporal._export import analyze_to_files, inside, safe_stem, unique_stems
    from fer_temporal._follow import FollowingDetector
    from fer_temporal._retinaface import RetinaFaceDetector
    from fer_temporal._sources import (
        IMAGE_SUFFIXES,
        Frame,
        SourceWarning,
        frame_count,
        open_source,
        read_image,
        sample_frames,
    )
    from fer_temporal._timeline import Analyzer, RunStats, columns, resolve_detector
    from fer_temporal._tracker import IoUTracker, iou_matrix
    from fer_temporal._video import AnnotatedVideoWriter

# Each name imports its module (numpy, PIL, OpenCV, PyAV ...) on first use, so that importing
# the package, and loading its plugin entry point, stays light.
_MODULES: dict[str, tuple[str, ...]] = {
    "_analysis": ("SMOOTHING", "Smoother", "TimelineAnalysis"),
    "_api": ("Timeline", "analyze", "stream"),
    "_boxes": ("LANDMARKS", "Detection", "as_detection"),
    "_crops": ("face_crops", "square_box"),
    "_csv": ("CsvTimelineWriter",),
    "_detectors": ("DEFAULT_DETECTOR", "FullFrameDetector", "HaarDetector"),
    "_export": ("analyze_to_files", "inside", "safe_stem", "unique_stems"),
    "_follow": ("FollowingDetector",),
    "_retinaface": ("RetinaFaceDetector",),
    "_sources": ("IMAGE_SUFFIXES", "Frame", "SourceWarning", "frame_count", "open_source", "read_image",
                 "sample_frames"),
    "_timeline": ("Analyzer", "RunStats", "columns", "resolve_detector"),
    "_tracker": ("IoUTracker", "iou_matrix"),
    "_video": ("AnnotatedVideoWriter",),
}
_LAZY = {name: f"fer_temporal.{module}" for module, names in _MODULES.items() for name in names}

__all__ = [
    "DEFAULT_DETECTOR",
    "IMAGE_SUFFIXES",
    "LANDMARKS",
    "SMOOTHING",
    "Analyzer",
    "AnnotatedVideoWriter",
    "CsvTimelineWriter",
    "Detection",
    "FollowingDetector",
    "Frame",
    "FullFrameDetector",
    "HaarDetector",
    "IoUTracker",
    "RetinaFaceDetector",
    "RunStats",
    "Smoother",
    "SourceWarning",
    "Timeline",
    "TimelineAnalysis",
    "__version__",
    "analyze",
    "analyze_to_files",
    "as_detection",
    "columns",
    "face_crops",
    "frame_count",
    "inside",
    "iou_matrix",
    "open_source",
    "read_image",
    "resolve_detector",
    "safe_stem",
    "sample_frames",
    "square_box",
    "stream",
    "unique_stems",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
