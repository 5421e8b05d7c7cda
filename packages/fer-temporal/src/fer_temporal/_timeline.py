"""From frames to timeline rows: detect, track, classify in batches, one row per frame and track.

A frame without a face still gets one row (``face_detected = False``, no probabilities), so
the rows stay aligned with the video. Faces of consecutive frames are classified together in
batches of ``batch_size``; only the frames of one pending batch are held, never the video: a
batch is classified when it has ``batch_size`` faces, or ``batch_size`` frames, or frames of
:data:`PENDING_BYTES` in all (32 frames of 1080p would be 200 MB).
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_core.classes import CLASSES
from fer_core.errors import ConfigError, DataError
from fer_temporal._align import ALIGN_DEFAULT
from fer_temporal._boxes import Detection, as_detection, landmark_columns, landmark_values
from fer_temporal._crops import face_crops
from fer_temporal._cuts import CUT_THRESHOLD, ShotCuts
from fer_temporal._downscale import for_large_frames
from fer_temporal._follow import FollowingDetector
from fer_temporal._models import resolve_classifier
from fer_temporal._sources import Frame, SourceWarning, open_source, sample_frames
from fer_temporal._tracker import IoUTracker

#: The pixels of pending frames at which a batch is classified early (see the module docstring).
PENDING_BYTES = 32 * 2**20

Classifier = Callable[[np.ndarray], Any]
FrameCallback = Callable[[Frame, list[dict[str, Any]]], None]


def columns(classes: Iterable[str] = CLASSES) -> list[str]:
    """The timeline's columns, in order: the box and its score, its landmarks ``lm_<point>_x``,
    ``lm_<point>_y`` (empty when the detector gives none), probabilities ``p_<class>``, deltas
    ``d_<class>``."""
    classes = list(classes)
    return (["source", "frame", "time", "face_detected", "track_id", "x0", "y0", "x1", "y1", "score"]
            + landmark_columns() + [f"p_{c}" for c in classes] + ["label", "label_prob"]
            + [f"d_{c}" for c in classes])


def largest(boxes: list[Detection], n: int) -> list[Detection]:
    """The ``n`` largest of ``boxes`` (by area; the higher score first among equals), in their
    order: the cap on faces per frame."""
    def rank(i: int) -> tuple[float, float]:
        b = boxes[i]
        return -(b[2] - b[0]) * (b[3] - b[1]), -(b.score or 0.0)

    keep = sorted(range(len(boxes)), key=rank)[:n]
    return [boxes[i] for i in sorted(keep)]


def resolve_detector(detector: str | Callable[[np.ndarray], list], options: dict[str, Any] | None = None,
                     plugins: Any = None) -> Callable[[np.ndarray], list]:
    """A detector callable: itself, or built by its registered name with ``options``."""
    if callable(detector):
        if options:
            raise ConfigError("detector options apply to a detector named by its registered name")
        return detector
    from fer_core.plugins import get_plugins

    plugins = plugins if plugins is not None else get_plugins()
    return plugins.get("face_detector", detector).build(**(options or {}))


@dataclass
class RunStats:
    """What one analysis saw: frames the source gave (``frames_read``, and the stream time they
    span), frames analyzed after sampling (``frames_processed``) and dropped to keep up
    (real-time mode), faces, tracks."""

    frames_read: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    faces: int = 0
    tracks: set[int] = field(default_factory=set)
    first_time: float | None = None
    last_time: float | None = None
    #: frames (their index in the source) where a new shot began: the tracks started afresh
    cuts: list[int] = field(default_factory=list)
    #: what the source could not give (a video that broke off: the frame where decoding stopped)
    warnings: list[str] = field(default_factory=list)


class Analyzer:
    """Emotion over time for any classifier that maps face crops to probabilities.

    ``classifier(crops)`` takes uint8 gray crops ``[N, S, S]`` and returns ``[N, 7]``
    probabilities in ``classifier.classes`` order (the toolkit's :data:`~fer_core.CLASSES` when
    it has no such attribute); ``S`` is ``classifier.size`` or 48. ``fer_models.load(...)``
    gives such a classifier; so does any function.

    ``detector`` is a registered name (``"retinaface"``, the default, ``"haar"``, ``"full_frame"``,
    a plugin's) or a callable ``frame -> [(x0, y0, x1, y1, score), ...]`` (boxes may be
    :class:`~fer_temporal.Detection` with landmarks, which go to the rows' ``lm_*`` columns).
    ``realtime = True`` is for live streams: a frame whose stream time is already behind the
    wall clock since the first frame is dropped (and counted in :attr:`stats`), and faces are
    classified frame by frame. ``on_frame(frame, rows)``,
    if given, is called for each processed frame with its rows (the annotated video uses it).
    ``redetect_every = N > 1`` runs the detector in full on every N-th processed frame only and,
    in between, just around the faces of the previous frame (:class:`FollowingDetector`).
    ``align`` crops faces that come with landmarks aligned to FER2013's framing (eyes level,
    :mod:`fer_temporal._align`); faces without landmarks keep the square crop of ``margin``.
    ``classifier`` may also name a model (``"default"``, a run folder, an ``.onnx``: loaded by
    ``fer_models.load`` with ``backend``, ``"auto"`` running its ONNX copy without torch);
    ``threads`` is the one inference thread count (:mod:`fer_core.threads`: ONNX Runtime,
    OpenCV, torch when loaded; default ``FER_THREADS`` or ``min(CPUs, 2)``).

    ``max_faces`` keeps the largest faces of each frame (default: every face). Track ids stay
    with their faces through misses (:class:`~fer_temporal.IoUTracker`); at a shot cut (a
    frame whose content score against the one before reaches ``cut_threshold``,
    :mod:`fer_temporal._cuts`; ``None`` or 0: never) the tracks start afresh with new ids, the
    frame is detected in full, and its index is kept in ``stats.cuts``.
    """

    def __init__(self, classifier: Classifier,
                 detector: str | Callable[[np.ndarray], list] = "retinaface", *,
                 detector_options: dict[str, Any] | None = None, tracker: IoUTracker | None = None,
                 batch_size: int = 32, stride: int = 1, fps: float | None = None, margin: float = 0.1,
                 realtime: bool = False, on_frame: FrameCallback | None = None, redetect_every: int = 1,
                 align: bool = ALIGN_DEFAULT, plugins: Any = None, backend: str = "auto",
                 threads: int | None = None, max_faces: int | None = None,
                 cut_threshold: float | None = CUT_THRESHOLD) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if max_faces is not None and max_faces < 1:
            raise ConfigError(f"max_faces must be >= 1 (or None: every face), got {max_faces}")
        if threads is not None:
            from fer_core.threads import apply_threads

            apply_threads(threads)  # the detector's and classifier's sessions, OpenCV, torch if loaded
        self.classifier = resolve_classifier(classifier, backend, threads)
        self.classes = tuple(getattr(self.classifier, "classes", CLASSES))
        self.crop_size = int(getattr(self.classifier, "size", 48))
        self.detector = for_large_frames(resolve_detector(detector, detector_options, plugins))
        if redetect_every != 1:
            self.detector = FollowingDetector(self.detector, redetect_every)
        self.detector_name = detector if isinstance(detector, str) else getattr(
            detector, "name", type(detector).__name__)
        self.tracker = tracker or IoUTracker()
        self.batch_size = 1 if realtime else batch_size
        self.stride, self.fps, self.margin, self.realtime = stride, fps, margin, realtime
        self.align = align
        self.max_faces = max_faces
        self.cuts = ShotCuts(cut_threshold) if cut_threshold else None
        self.on_frame = on_frame
        self.columns = columns(self.classes)
        self.stats = RunStats()
        self._last: dict[int, np.ndarray] = {}

    # -- the pipeline ---------------------------------------------------------------------------

    def _counted(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        """Every frame the source yields, before sampling: the stream's own count and time span."""
        for frame in frames:
            self.stats.frames_read += 1
            if frame.time is not None:
                if self.stats.first_time is None:
                    self.stats.first_time = frame.time
                self.stats.last_time = frame.time
            yield frame

    def _warned(self, message: str) -> None:
        self.stats.warnings.append(message)
        warnings.warn(message, SourceWarning, stacklevel=2)

    def _kept(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        start_wall: float | None = None
        start_stream: float | None = None
        for frame in frames:
            if self.realtime and frame.time is not None:
                now = _time.monotonic()
                if start_wall is None or start_stream is None:
                    start_wall, start_stream = now, frame.time
                elif frame.time - start_stream < now - start_wall:  # behind: drop to catch up
                    self.stats.frames_dropped += 1
                    continue
            yield frame

    def _classify(self, crops: list[np.ndarray], where: str) -> np.ndarray:
        if not crops:  # a run of frames without faces: nothing to ask the classifier
            return np.empty((0, len(self.classes)))
        batch = np.concatenate(crops)
        probs = np.asarray(self.classifier(batch), dtype=np.float64)
        if probs.shape != (len(batch), len(self.classes)):
            raise DataError(f"{where}: the classifier returned shape {probs.shape} for {len(batch)} faces; "
                            f"expected ({len(batch)}, {len(self.classes)})")
        return probs

    def _rows_of(self, frame: Frame, boxes: list[Detection], ids: list[int],
                 probs: np.ndarray) -> list[dict[str, Any]]:
        base = {"source": frame.source, "frame": frame.index, "time": frame.time}
        if not boxes:
            return [{**base, "face_detected": False}]
        rows = []
        for box, track_id, p in zip(boxes, ids, probs, strict=True):
            prev = self._last.get(track_id)
            self._last[track_id] = p
            top = int(p.argmax())
            row = {**base, "face_detected": True, "track_id": track_id,
                   "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3],
                   "score": box.score, **landmark_values(box),
                   **{f"p_{c}": float(v) for c, v in zip(self.classes, p, strict=True)},
                   "label": self.classes[top], "label_prob": float(p[top])}
            if prev is not None:
                row.update({f"d_{c}": float(v) for c, v in zip(self.classes, p - prev, strict=True)})
            rows.append(row)
        return rows

    def _new_shot(self, frame: Frame) -> None:
        """A shot cut before ``frame``: new track ids, and a full detection of this frame."""
        self.stats.cuts.append(frame.index)
        self.tracker.reset()
        reset = getattr(self.detector, "reset", None)
        if callable(reset):
            reset()

    def rows(self, source: Any, *, name: str | None = None) -> Iterator[dict[str, Any]]:
        """Timeline rows of ``source`` (see :func:`fer_temporal.open_source`), as they are made."""
        frames = open_source(source, name=name, on_warning=self._warned)
        frames = self._kept(sample_frames(self._counted(frames), stride=self.stride, fps=self.fps))
        pending: list[tuple[Frame, list, list[int]]] = []
        crops: list[np.ndarray] = []
        n_faces = held = 0

        def flush() -> Iterator[dict[str, Any]]:
            nonlocal n_faces, held
            where = f"{pending[0][0].source} frames {pending[0][0].index}-{pending[-1][0].index}"
            probs = self._classify(crops, where)
            start = 0
            for frame, boxes, ids in pending:
                rows = self._rows_of(frame, boxes, ids, probs[start:start + len(boxes)])
                start += len(boxes)
                if self.on_frame is not None:
                    self.on_frame(frame, rows)
                yield from rows
            pending.clear()
            crops.clear()
            n_faces = held = 0

        for frame in frames:
            self.stats.frames_processed += 1
            if self.cuts is not None and self.cuts(frame.image) and self.stats.frames_processed > 1:
                self._new_shot(frame)
            try:
                boxes = [as_detection(b) for b in self.detector(frame.image)]
            except (ValueError, TypeError) as exc:
                raise DataError(f"{frame.source} frame {frame.index}: the detector failed: {exc}") from None
            if self.max_faces is not None and len(boxes) > self.max_faces:
                boxes = largest(boxes, self.max_faces)
            ids = self.tracker.update(boxes)
            self.stats.faces += len(boxes)
            self.stats.tracks.update(ids)
            pending.append((frame, boxes, ids))
            if boxes:
                crops.append(face_crops(frame.image, boxes, self.crop_size, self.margin, self.align))
                n_faces += len(boxes)
            held += frame.image.nbytes
            if n_faces >= self.batch_size or len(pending) >= self.batch_size or held >= PENDING_BYTES:
                yield from flush()
        if pending:
            yield from flush()
