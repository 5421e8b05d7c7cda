"""Face detectors (built-in and a third-party plugin) and the IoU tracker."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core import ConfigError, hookimpl, plugins
from fer_temporal import IoUTracker, face_crops, iou_matrix, read_image, square_box


def _detector(name: str, **options):
    return plugins.get_plugins().get("face_detector", name).build(**options)


def test_haar_finds_the_faces_in_the_real_photos(media):
    pytest.importorskip("cv2")
    haar = _detector("haar")
    (single,) = haar(read_image(media / "single_face.jpg"))
    x0, y0, x1, y1, score = single
    assert 100 < x0 < x1 < 450 and 100 < y0 < y1 < 450 and 0 < score < 1
    many = haar(read_image(media / "multi_face.jpg"))
    assert len(many) >= 4  # five people; the one in sunglasses defeats a frontal Haar cascade
    boxes = np.array([b[:4] for b in many])
    assert iou_matrix(boxes, boxes).sum() == pytest.approx(len(many), abs=0.2)  # distinct, no duplicates
    assert haar(read_image(media / "no_face.jpg")) == []


def test_detector_options_are_checked():
    pytest.importorskip("cv2")
    with pytest.raises(ConfigError, match="scale_factor > 1"):
        _detector("haar", scale_factor=0.9)
    with pytest.raises(ConfigError, match="unexpected keyword"):
        _detector("haar", colour="red")
    with pytest.raises(ConfigError, match="takes no options"):
        _detector("full_frame", margin=3)


def test_a_third_party_detector_plugs_in_by_name():
    class CornerPlugin:
        @hookimpl
        def register_face_detectors(self, register):
            register("top_left", lambda size=10: lambda frame: [(0, 0, size, size, 0.9)], "a corner")

    ps = plugins.PluginSet.from_plugins({"corner": CornerPlugin()})
    detect = ps.get("face_detector", "top_left").build(size=4)
    assert detect(np.zeros((20, 20, 3), np.uint8)) == [(0, 0, 4, 4, 0.9)]


def test_crops_are_square_padded_and_gray():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :, 0] = 255  # pure red: gray 76 (BT.601)
    assert square_box((10, 20, 50, 100), margin=0.0) == (-10, 20, 70, 100)
    crops = face_crops(frame, [(0, 0, 40, 40), (180, 80, 220, 120)], size=48)
    assert crops.shape == (2, 48, 48) and crops.dtype == np.uint8
    assert crops[0, 24, 24] == 76
    assert crops[1, -1, -1] == 0 and crops[1, 5, 5] == 76  # beyond the frame's corner: black padding


def test_tracker_keeps_ids_through_motion_gaps_and_crossings():
    tracker = IoUTracker(iou_threshold=0.3, max_age=3, lost_age=3)  # IoU only: no re-finding
    a, b = [0, 0, 10, 10], [50, 50, 60, 60]
    assert tracker.update([a, b]) == [0, 1]
    assert tracker.update([[52, 51, 62, 61], [1, 1, 11, 11]]) == [1, 0]  # order swapped: ids follow boxes
    assert tracker.update([[2, 2, 12, 12]]) == [0]      # b lost...
    assert tracker.update([[3, 2, 13, 12]]) == [0]
    assert tracker.update([[3, 2, 13, 12], [52, 51, 62, 61]]) == [0, 1]  # ...and back within max_age: same id
    for _ in range(5):
        tracker.update([[3, 2, 13, 12]])
    assert tracker.update([[3, 2, 13, 12], [52, 51, 62, 61]]) == [0, 2]  # gone too long: a new id
    assert tracker.update([[80, 80, 90, 90]]) == [3]  # far from everything: new


def test_tracker_options_are_checked():
    with pytest.raises(ConfigError, match="iou_threshold"):
        IoUTracker(iou_threshold=0)


def test_one_face_assignment_matches_hungarian_without_scipy():
    from scipy.optimize import linear_sum_assignment

    from fer_temporal._tracker import _assign

    rng = np.random.default_rng(0)
    for shape in [(1, 1), (1, 5), (4, 1)]:
        iou = rng.random(shape)
        rows, cols = _assign(iou)
        r2, c2 = linear_sum_assignment(-iou)
        assert iou[rows, cols].sum() == pytest.approx(iou[r2, c2].sum())


def test_separate_faces_assignment_matches_hungarian_without_scipy():
    from scipy.optimize import linear_sum_assignment

    from fer_temporal._tracker import _assign

    rng = np.random.default_rng(1)
    shortcut = 0
    for _ in range(300):
        shape = tuple(rng.integers(2, 7, size=2))
        iou = rng.random(shape) * (rng.random(shape) < 0.25)  # sparse: faces that mostly do not touch
        rows, cols = _assign(iou)
        r2, c2 = linear_sum_assignment(-iou)
        assert iou[rows, cols].sum() == pytest.approx(iou[r2, c2].sum())
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        touching = iou > 0
        shortcut += bool(touching.sum(0).max() <= 1 and touching.sum(1).max() <= 1)
    assert 0 < shortcut < 300  # both paths ran


def test_five_separate_faces_are_tracked_without_importing_scipy():
    import subprocess
    import sys

    code = ("import sys; from fer_temporal import IoUTracker; t = IoUTracker()\n"
            "for k in range(5): t.update([[100 * i + k, 10, 100 * i + 40 + k, 50] for i in range(5)])\n"
            "assert t.update([[100 * i, 10, 100 * i + 40, 50] for i in range(5)]) == [0, 1, 2, 3, 4]\n"
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
