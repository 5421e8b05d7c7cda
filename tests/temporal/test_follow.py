"""FollowingDetector: full detection every N frames, only near the last faces in between."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core import ConfigError
from fer_temporal import Analyzer, FollowingDetector, open_source


class BrightSquares:
    """Finds each connected patch of pixels above 128 (a "face"); records the sizes it was given."""

    name = "bright"

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def __call__(self, frame: np.ndarray) -> list[tuple]:
        from scipy import ndimage

        self.sizes.append(frame.shape[:2])
        labels, _ = ndimage.label(frame[..., 0] > 128)
        return [(float(sx.start), float(sy.start), float(sx.stop), float(sy.stop), 1.0)
                for sy, sx in ndimage.find_objects(labels)]


def frame_with(*squares: tuple[int, int, int]) -> np.ndarray:
    frame = np.zeros((360, 640, 3), np.uint8)
    for x, y, side in squares:
        frame[y:y + side, x:x + side] = 255
    return frame


def test_full_detection_every_n_frames_and_windows_in_between():
    inner = BrightSquares()
    follow = FollowingDetector(inner, every=3)
    frames = [frame_with((100 + 4 * i, 80, 120)) for i in range(7)]
    boxes = [follow(f) for f in frames]
    full = [i for i, size in enumerate(inner.sizes) if size == (360, 640)]
    assert len(inner.sizes) == 7 and full == [0, 3, 6]  # one call per frame: in full, or one window
    for i, (b,) in enumerate(boxes):  # windows find the square where it moved, in frame pixels
        assert b[0] == pytest.approx(100 + 4 * i, abs=2) and b[2] == pytest.approx(220 + 4 * i, abs=2)
    # windows are shrunk so the face is about 64 px
    assert all(max(size) < 200 for i, size in enumerate(inner.sizes) if i not in full)


def test_a_lost_face_means_full_detection_on_the_next_frame_and_new_faces_wait_for_it():
    inner = BrightSquares()
    follow = FollowingDetector(inner, every=10)
    assert len(follow(frame_with((100, 80, 100)))) == 1
    both = frame_with((100, 80, 100), (450, 80, 100))
    assert follow(both) == [pytest.approx((100, 80, 200, 180, 1.0), abs=1)]  # the new one waits
    assert follow(frame_with()) == []  # gone: nothing left to follow
    assert len(follow(frame_with((100, 80, 100), (450, 80, 100)))) == 2  # so this frame is detected in full
    assert [s == (360, 640) for s in inner.sizes] == [True, False, False, True]


def test_two_windows_seeing_one_face_give_one_box():
    follow = FollowingDetector(lambda f: [(0.0, 0.0, float(f.shape[1]), float(f.shape[0]), 1.0)]
                               if f.shape[:2] == (360, 640) else [(10.0, 10.0, 50.0, 50.0, 0.9)], every=2)
    follow.__call__(np.zeros((360, 640, 3), np.uint8))
    follow._last = [(100, 100, 160, 160, 1.0), (102, 100, 162, 160, 1.0)]  # two near-identical faces
    assert len(follow(np.zeros((360, 640, 3), np.uint8))) == 1


def test_options_are_checked():
    with pytest.raises(ConfigError, match="redetect every must be >= 1"):
        FollowingDetector(BrightSquares(), every=0)


def test_on_the_real_video_it_keeps_the_face_of_full_detection(media):
    pytest.importorskip("cv2")
    from fer_temporal import HaarDetector

    frames = [f.image for f in open_source(media / "single_face.mp4")]
    haar = HaarDetector()
    follow = FollowingDetector(haar, every=5)
    for frame in frames[:20]:
        (full,), (near,) = haar(frame), follow(frame)
        inter = max(0, min(full[2], near[2]) - max(full[0], near[0])) * max(0, min(full[3], near[3]) -
                                                                           max(full[1], near[1]))
        union = (full[2] - full[0]) * (full[3] - full[1]) + (near[2] - near[0]) * (near[3] - near[1]) - inter
        assert inter / union > 0.8


def test_the_analyzer_option_wraps_any_detector():
    inner = BrightSquares()
    uniform = lambda crops: np.full((len(crops), 7), 1 / 7)  # noqa: E731
    rows = list(Analyzer(uniform, inner, redetect_every=4).rows([frame_with((100, 80, 100))] * 8))
    assert [r["track_id"] for r in rows] == [0] * 8
    assert sum(s == (360, 640) for s in inner.sizes) == 2


def test_past_max_faces_every_frame_is_detected_in_full():
    import numpy as np

    from fer_temporal import FollowingDetector

    calls = []

    def many(frame):
        calls.append(frame.shape)
        return [(10 * i, 0, 10 * i + 8, 8, 1.0) for i in range(4)]

    follow = FollowingDetector(many, every=5, max_faces=3)
    for _ in range(3):
        follow(np.zeros((40, 60, 3), np.uint8))
    assert calls == [(40, 60, 3)] * 3  # never a window: four faces are more than three


def test_the_follow_limit_reaches_through_the_large_frame_wrapper():
    """RetinaFace's follow_max_faces (3) applies inside Analyzer, where the detector is wrapped
    for large frames: past 3 faces every frame is detected in full."""
    from fer_temporal import Analyzer

    analyzer = Analyzer(lambda crops: crops, "retinaface", redetect_every=5)
    assert analyzer.detector.max_faces == 3
