"""Face alignment: a crop rotated so the eyes are level, scaled and placed as FER2013 frames faces.

The classifiers learnt from FER2013's 48x48 faces, which are roughly upright and framed alike.
A detected face is turned into that framing with a similarity transform (rotation, one scale,
shift) that maps the detector's 5 landmarks onto :data:`TEMPLATE`, fitted by OpenCV
(``cv2.estimateAffinePartial2D``) and applied with ``cv2.warpAffine``. Where the detector gave
no landmarks, or they are degenerate, :func:`aligned_crop` returns ``None`` and the caller keeps
the plain square crop.

>>> import numpy as np
>>> size = 48
>>> marks = TEMPLATE * 100 + 20          # a face twice the crop's size, upright
>>> m = alignment_matrix(marks, size)
>>> np.allclose(cv2.transform(marks[None], m)[0], TEMPLATE * size, atol=1e-3)
True
>>> alignment_matrix([(0, 0)] * 5, size) is None      # all points at one place
True
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: Where FER2013 puts the 5 landmarks (left eye, right eye, nose, mouth left, mouth right) as
#: fractions of the face image's side: medians of RetinaFace's landmarks on the 3,548 of the
#: 3,589 PublicTest faces it found, upsampled to 192 px (``python benchmarks/fer2013_framing.py``).
#: Eye distance 0.358 of the side, eye line at 0.390 from the top, mouth at 0.765.
TEMPLATE = np.array([[0.3193, 0.3893], [0.6825, 0.3879], [0.4991, 0.6005],
                     [0.3586, 0.7667], [0.6532, 0.7646]], dtype=np.float32)

#: A fitted scale below this (pixels of the crop per pixel of the frame) is a face too small to
#: hold 5 distinct landmarks; at or below it the fit is refused.
_MIN_EYE_DISTANCE = 1.0


def alignment_matrix(landmarks: Sequence[Sequence[float]] | np.ndarray, size: int) -> np.ndarray | None:
    """The 2x3 similarity transform from frame pixels to a ``size`` crop, or ``None`` if it can't be fitted.

    ``None`` when a landmark is not finite, the eyes are less than a pixel apart, or OpenCV finds
    no fit.
    """
    src = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    if src.shape != TEMPLATE.shape or not np.isfinite(src).all():
        return None
    if float(np.linalg.norm(src[1] - src[0])) < _MIN_EYE_DISTANCE:
        return None
    matrix, _ = cv2.estimateAffinePartial2D(src, TEMPLATE * size, method=cv2.LMEDS)
    if matrix is None or not np.isfinite(matrix).all():
        return None
    return matrix


def aligned_crop(gray: np.ndarray, landmarks: Sequence[Sequence[float]] | None,
                 size: int) -> np.ndarray | None:
    """The aligned ``size`` x ``size`` uint8 crop of the gray image ``gray``, black outside it.

    A face larger than twice the crop is warped at a multiple of ``size`` and then shrunk with
    ``cv2.INTER_AREA``, so large faces are averaged down rather than sampled (as the plain crop's
    PIL resize does).
    """
    if landmarks is None:
        return None
    matrix = alignment_matrix(landmarks, size)
    if matrix is None:
        return None
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    k = max(1, int(1.0 / scale)) if scale > 0 else 1
    if k > 1:
        matrix = matrix * k
    side = size * k
    crop = cv2.warpAffine(gray, matrix, (side, side), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if k > 1:
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return crop


#: Whether :class:`~fer_temporal.Analyzer` aligns by default: chosen on PublicTest by
#: ``python benchmarks/alignment.py`` (BENCHMARKS.md, "Alignment through the whole path").
ALIGN_DEFAULT = True
