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

Faces of about 20 px score low (0.1 to 0.8 for a 20-px face moving over a 640x360 frame, at
a threshold of 0.7: found on 1 frame of 30). So a candidate smaller than ``recheck_px`` (32 px
of the network input) scoring from ``recheck_score`` (0.1) up to the threshold is looked at
again: a window 3 times its side, enlarged so the face is 64 px (a 192x192 input, about a
tenth of a 640x384 one), where a real face scores about 1.0 and must pass the full threshold
(30 of 30 frames then). On the shared media no candidate is that small and that weak, so the
real clips cost nothing more (BENCHMARKS.md, "Tracking several faces").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from fer_core.errors import ConfigError
from fer_temporal._boxes import Detection
from fer_temporal._tracker import iou_matrix

MODEL_FILE = "retinaface_mnet025.onnx"
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
STEPS = (8, 16, 32)
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCES = (0.1, 0.2)
#: Small candidates re-checked per frame at most, and the face size of their enlarged window.
RECHECK_MAX = 8
RECHECK_FACE_PX = 64


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
    #: candidates smaller than this (px of the network input) scoring from ``recheck_score`` to
    #: ``score_threshold`` are looked at again, enlarged (0: never); see the module docstring
    recheck_px: int = 32
    recheck_score: float = 0.1
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
        if self.recheck_px < 0 or not 0 < self.recheck_score < 1:
            raise ConfigError("face detector 'retinaface': need recheck_px >= 0 and 0 < recheck_score < 1; "
                              f"got {self.recheck_px}, {self.recheck_score}")
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
        recheck = self.recheck_px > 0 and self.recheck_score < self.score_threshold
        found, scale = self._detect(frame, self.recheck_score if recheck else self.score_threshold)
        out = [d for d in found if d[4] >= self.score_threshold]
        small = [d for d in found if d[4] < self.score_threshold
                 and max(d[2] - d[0], d[3] - d[1]) / scale < self.recheck_px]
        for d in small[:RECHECK_MAX]:
            out += self._recheck(frame, d)
        return sorted(out, key=lambda b: (b[0], b[1]))

    def _detect(self, frame: np.ndarray, threshold: float) -> tuple[list[Detection], float]:
        """Faces scoring at least ``threshold``, best first, and the frame's shrink factor."""
        x, scale = self._input(frame)
        loc, conf, landmarks = self._session.run(None, {"input": x})
        key = (x.shape[2], x.shape[3])
        if key not in self._priors:
            self._priors[key] = priors(*key)
        pri = self._priors[key]
        scores = conf[0, :, 1]
        keep = np.flatnonzero(scores >= threshold)
        if not keep.size:
            return [], scale
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
        return out, scale

    def _recheck(self, frame: np.ndarray, candidate: Detection) -> list[Detection]:
        """``candidate`` (a small face scoring under the threshold) looked at again: a window 3 times
        its side, enlarged so the face is 64 px; the face found there at the full threshold."""
        h, w = frame.shape[:2]
        side = max(candidate[2] - candidate[0], candidate[3] - candidate[1], 1.0)
        cx, cy = (candidate[0] + candidate[2]) / 2, (candidate[1] + candidate[3]) / 2
        x0, y0 = max(0, int(cx - 1.5 * side)), max(0, int(cy - 1.5 * side))
        x1, y1 = min(w, int(np.ceil(cx + 1.5 * side))), min(h, int(np.ceil(cy + 1.5 * side)))
        k = RECHECK_FACE_PX / side
        if x1 - x0 < 2 or y1 - y0 < 2 or k <= 1.0:
            return []
        size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
        window = self._cv2.resize(frame[y0:y1, x0:x1], size, interpolation=self._cv2.INTER_LINEAR)
        found, _ = self._detect(window, self.score_threshold)
        sx, sy = (x1 - x0) / size[0], (y1 - y0) / size[1]
        mapped = [d.mapped(x0, y0, sx, sy) for d in found]
        if not mapped:
            return []
        iou = iou_matrix(np.array([candidate[:4]]), np.array([d[:4] for d in mapped]))[0]
        best = int(iou.argmax())
        return [mapped[best]] if iou[best] >= 0.3 else []



def retinaface(input_size: int = 640, score_threshold: float = 0.7, nms_threshold: float = 0.4,
               threads: int | None = None, recheck_px: int = 32,
               recheck_score: float = 0.1) -> RetinaFaceDetector:
    """RetinaFace-MobileNet0.25 (ONNX Runtime), the default: boxes with 5 landmarks.

    Options: input_size (640), score_threshold (0.7), nms_threshold (0.4), threads, recheck_px
    (32), recheck_score (0.1)."""
    return RetinaFaceDetector(int(input_size), float(score_threshold), float(nms_threshold),
                              None if threads is None else int(threads), int(recheck_px),
                              float(recheck_score))
