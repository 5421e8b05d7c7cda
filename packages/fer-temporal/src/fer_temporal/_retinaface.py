"""RetinaFace (MobileNet-0.25 backbone) on ONNX Runtime: the default face detector.

The network (1.7 MB, ``weights/retinaface_mnet025.onnx``, MIT: see ``weights/NOTICE``) takes a
BGR float image minus the per-channel mean ``(104, 117, 123)``, ``[N, 3, H, W]`` of any size,
and gives, for every prior box, a box offset, a face / background softmax and 5 landmark
offsets. The priors are squares of ``16, 32`` px on the stride-8 grid, ``64, 128`` on stride 16
and ``256, 512`` on stride 32, centred on each cell; offsets decode with variances 0.1 (centre)
and 0.2 (log size). Kept: score >= ``score_threshold``, then greedy non-maximum suppression
at IoU ``nms_threshold``.

A frame larger than ``input_size`` on its long side is shrunk to it first (boxes and landmarks
are mapped back; a smaller frame is never enlarged), then padded to a multiple of 32 (the
padding is the mean colour, which the network sees as zeros). The smallest prior is 16 px, so
the smallest face found is about 16 px in the shrunk copy (benchmarks/detectors.py: 5 of 5
faces of 16 px, 4 of 5 of 12 px on a 640x360 frame); on a 1920x1080 frame at the default 640,
some 48 px of the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from fer_core.errors import ConfigError
from fer_temporal._boxes import Detection

MODEL_FILE = "retinaface_mnet025.onnx"
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
STEPS = (8, 16, 32)
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCES = (0.1, 0.2)


def default_threads() -> int:
    """Threads for the detector when none are given: the one inference setting
    (:func:`fer_core.threads.resolve_threads`: ``--threads``, ``FER_THREADS``, else
    ``min(CPUs, 2)``); the classifier runs between detections, never beside them."""
    from fer_core.threads import resolve_threads

    return resolve_threads()


def priors(height: int, width: int) -> np.ndarray:
    """Prior boxes ``[P, 4]`` (cx, cy, w, h in pixels) of a ``height x width`` network input, in
    the network's order: stride by stride, row by row, cell by cell, size by size."""
    out = []
    for step, sizes in zip(STEPS, MIN_SIZES, strict=True):
        ny, nx = -(-height // step), -(-width // step)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * step, (ys.ravel() + 0.5) * step], axis=1)
        for_cell = np.repeat(centres, len(sizes), axis=0)
        wh = np.tile(np.repeat(np.array(sizes, dtype=np.float64)[:, None], 2, axis=1), (len(centres), 1))
        out.append(np.concatenate([for_cell, wh], axis=1))
    return np.concatenate(out).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        lo = np.maximum(boxes[i, :2], boxes[rest, :2])
        hi = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou < threshold]
    return keep


@dataclass
class RetinaFaceDetector:
    """RetinaFace-MobileNet0.25 (see the module docstring); boxes carry 5 landmarks."""

    input_size: int = 640
    score_threshold: float = 0.7
    nms_threshold: float = 0.4
    threads: int | None = None
    name: str = "retinaface"
    #: FollowingDetector detects in full past this many faces: a 192-px window costs about a
    #: fifth of a 640x360 frame, but with 5 faces the windows took longer (benchmarks/analyze_settings.py)
    follow_max_faces: int = 3
    _priors: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.input_size < 32 or not 0 < self.score_threshold < 1 or not 0 < self.nms_threshold <= 1:
            raise ConfigError("face detector 'retinaface': need input_size >= 32, 0 < score_threshold < 1, "
                              f"0 < nms_threshold <= 1; got {self.input_size}, {self.score_threshold}, "
                              f"{self.nms_threshold}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"face detector 'retinaface': threads must be >= 1, got {self.threads}")
        try:
            import onnxruntime as ort
        except ImportError:
            raise ConfigError("face detector 'retinaface' needs onnxruntime, a dependency of fer-temporal "
                              "that is missing here: pip install onnxruntime") from None
        import cv2

        from fer_core.threads import ort_session_options, set_cv2_threads

        self._cv2 = cv2
        set_cv2_threads(cv2, self.threads)
        # intra-op threads as set, 1 inter-op, no busy-waiting between frames
        options = ort_session_options(self.threads or default_threads())
        model = resources.files("fer_temporal").joinpath("weights", MODEL_FILE).read_bytes()
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.threads_used = options.intra_op_num_threads

    def _input(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = frame.shape[:2]
        k = min(1.0, self.input_size / max(h, w))
        if k < 1.0:
            size = (max(1, round(w * k)), max(1, round(h * k)))
            frame = self._cv2.resize(frame, size, interpolation=self._cv2.INTER_AREA)
        fh, fw = frame.shape[:2]
        ph, pw = -(-fh // 32) * 32, -(-fw // 32) * 32
        x = np.zeros((1, 3, ph, pw), dtype=np.float32)
        for c in range(3):  # BGR planes minus the mean, written in place (10x numpy's transpose copy)
            np.subtract(frame[:, :, 2 - c], MEAN_BGR[c], out=x[0, c, :fh, :fw], dtype=np.float32)
        return x, (w / fw if k < 1.0 else 1.0)

    def __call__(self, frame: np.ndarray) -> list[Detection]:
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
            raise ValueError(f"expected an RGB frame [H, W, 3], got shape {frame.shape}")
        if frame.dtype != np.uint8:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        x, scale = self._input(frame)
        loc, conf, landmarks = self._session.run(None, {"input": x})
        key = (x.shape[2], x.shape[3])
        if key not in self._priors:
            self._priors[key] = priors(*key)
        pri = self._priors[key]
        scores = conf[0, :, 1]
        keep = np.flatnonzero(scores >= self.score_threshold)
        if not keep.size:
            return []
        pri, loc, lms, scores = pri[keep], loc[0, keep], landmarks[0, keep], scores[keep]
        v0, v1 = VARIANCES
        centre = pri[:, :2] + loc[:, :2] * v0 * pri[:, 2:]
        size = pri[:, 2:] * np.exp(loc[:, 2:] * v1)
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        points = pri[:, None, :2] + lms.reshape(-1, 5, 2) * v0 * pri[:, None, 2:]
        h, w = frame.shape[:2]
        out = []
        for i in nms(boxes, scores, self.nms_threshold):
            x0, y0, x1, y1 = (float(v) for v in boxes[i] * scale)
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            marks = tuple((float(px) * scale, float(py) * scale) for px, py in points[i])
            out.append(Detection(x0, y0, x1, y1, float(scores[i]), landmarks=marks))
        return sorted(out, key=lambda b: (b[0], b[1]))


def retinaface(input_size: int = 640, score_threshold: float = 0.7, nms_threshold: float = 0.4,
               threads: int | None = None) -> RetinaFaceDetector:
    """RetinaFace-MobileNet0.25 (ONNX Runtime), the default: boxes with 5 landmarks.

    Options: input_size (640), score_threshold (0.7), nms_threshold (0.4), threads."""
    return RetinaFaceDetector(int(input_size), float(score_threshold), float(nms_threshold),
                              None if threads is None else int(threads))
