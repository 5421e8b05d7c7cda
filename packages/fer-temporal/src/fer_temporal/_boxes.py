"""What a face detector returns: a box ``(x0, y0, x1, y1, score)``, optionally with 5 landmarks.

:class:`Detection` *is* that 5-tuple (it unpacks, indexes, slices and compares like one), and
carries the landmarks as an attribute, so code written for plain tuples keeps working and a
detector that gives no landmarks may go on returning tuples.

>>> d = Detection(10, 20, 50, 70, 0.9, landmarks=[(20, 35), (40, 35), (30, 45), (22, 58), (38, 58)])
>>> x0, y0, x1, y1, score = d
>>> d == (10.0, 20.0, 50.0, 70.0, 0.9), d[:4], d.landmarks[2]
(True, (10.0, 20.0, 50.0, 70.0), (30.0, 45.0))
>>> as_detection((1, 2, 3, 4)).score is None, as_detection((1, 2, 3, 4)).landmarks is None
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: The 5 landmarks, in order. Left and right are the image's (the viewer's): ``left_eye`` is
#: the eye with the smaller x, the person's right eye when they face the camera.
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

Point = tuple[float, float]


class Detection(tuple):
    """``(x0, y0, x1, y1, score)`` in pixels, plus ``landmarks``: 5 ``(x, y)`` or ``None``."""

    landmarks: tuple[Point, ...] | None

    def __new__(cls, x0: float, y0: float, x1: float, y1: float, score: float | None = None, *,
                landmarks: Iterable[Sequence[float]] | None = None) -> Detection:
        values = (float(x0), float(y0), float(x1), float(y1))
        self = super().__new__(cls, values if score is None else (*values, float(score)))
        if landmarks is not None:
            points = tuple((float(p[0]), float(p[1])) for p in landmarks)
            if len(points) != len(LANDMARKS):
                raise ValueError(f"a detection has {len(LANDMARKS)} landmarks, got {len(points)}")
            self.landmarks = points
        else:
            self.landmarks = None
        return self

    @property
    def score(self) -> float | None:
        return self[4] if len(self) > 4 else None

    def mapped(self, dx: float, dy: float, sx: float, sy: float) -> Detection:
        """This detection in another frame: ``x -> dx + x * sx``, ``y -> dy + y * sy``."""
        marks = None if self.landmarks is None else [(dx + x * sx, dy + y * sy) for x, y in self.landmarks]
        return Detection(dx + self[0] * sx, dy + self[1] * sy, dx + self[2] * sx, dy + self[3] * sy,
                         self.score, landmarks=marks)

    def __repr__(self) -> str:
        marks = "" if self.landmarks is None else f", landmarks={self.landmarks}"
        return f"Detection{tuple(self)}"[:-1] + marks + ")"


def as_detection(box: Any) -> Detection:
    """A detector's box (a :class:`Detection`, or any sequence ``x0, y0, x1, y1[, score]``)."""
    if isinstance(box, Detection):
        return box
    values = [float(v) for v in box]
    if len(values) < 4:
        raise ValueError(f"a box is (x0, y0, x1, y1[, score]), got {len(values)} values")
    return Detection(*values[:5], landmarks=getattr(box, "landmarks", None))


def landmark_columns() -> list[str]:
    """The timeline's landmark columns: ``lm_<name>_x``, ``lm_<name>_y`` for each of :data:`LANDMARKS`."""
    return [f"lm_{name}_{axis}" for name in LANDMARKS for axis in ("x", "y")]


def landmark_values(box: Detection) -> dict[str, float | None]:
    """A row's landmark columns for ``box`` (``None`` each when the detector gave none)."""
    names = landmark_columns()
    if box.landmarks is None:
        return dict.fromkeys(names)
    return dict(zip(names, (v for point in box.landmarks for v in point), strict=True))
