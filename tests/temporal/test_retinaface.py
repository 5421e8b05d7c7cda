"""The default face detector, RetinaFace-MobileNet0.25 on ONNX Runtime: faces, landmarks, rows."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from fer_core import ConfigError, PluginError, plugins
from fer_temporal import (
    DEFAULT_DETECTOR,
    LANDMARKS,
    Analyzer,
    Detection,
    FollowingDetector,
    RetinaFaceDetector,
    analyze_to_files,
    as_detection,
    iou_matrix,
    read_image,
)
from fer_temporal._retinaface import nms, priors

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def detector() -> RetinaFaceDetector:
    return plugins.get_plugins().get("face_detector", "retinaface").build(threads=1)


def _uniform(crops):
    return np.full((len(crops), 7), 1 / 7)


def test_it_is_the_default_and_registered():
    assert DEFAULT_DETECTOR == "retinaface"
    assert Analyzer(_uniform).detector_name == "retinaface"
    assert {"retinaface", "haar", "full_frame"} <= set(plugins.get_plugins().registry("face_detector"))


def test_every_face_of_the_real_photos_and_none_where_there_is_none(media, detector):
    many = detector(read_image(media / "multi_face.jpg"))
    assert len(many) == 5  # Haar misses the smiling man in sunglasses
    boxes = np.array([b[:4] for b in many])
    assert iou_matrix(boxes, boxes).sum() == pytest.approx(5, abs=0.01)  # five distinct faces
    (single,) = detector(read_image(media / "single_face.jpg"))
    x0, y0, x1, y1, score = single
    assert 150 < x0 < 250 and 100 < y0 < 180 and 330 < x1 < 420 and 350 < y1 < 450 and 0.9 < score <= 1
    assert detector(read_image(media / "no_face.jpg")) == []


def test_landmarks_sit_inside_their_face_eyes_above_the_mouth(media, detector):
    faces = detector(read_image(media / "multi_face.jpg")) + detector(read_image(media / "single_face.jpg"))
    for face in faces:
        assert isinstance(face, Detection) and len(face.landmarks) == len(LANDMARKS) == 5
        marks = dict(zip(LANDMARKS, face.landmarks, strict=True))
        for x, y in face.landmarks:
            assert face[0] <= x <= face[2] and face[1] <= y <= face[3]
        assert marks["left_eye"][0] < marks["right_eye"][0]
        assert marks["mouth_left"][0] < marks["mouth_right"][0]
        assert max(marks["left_eye"][1], marks["right_eye"][1]) < marks["nose"][1]
        assert marks["nose"][1] < min(marks["mouth_left"][1], marks["mouth_right"][1])


@pytest.mark.parametrize("shape", [(1, 1, 3), (16, 16, 3), (33, 47, 3), (360, 640, 3), (3000, 4000, 3)])
def test_blank_and_odd_sized_frames_give_no_face(detector, shape):
    assert detector(np.zeros(shape, np.uint8)) == []


def test_a_large_frame_is_shrunk_and_its_boxes_mapped_back(media, detector):
    import cv2

    photo = read_image(media / "single_face.jpg")  # 572x562
    big = np.kron(photo, np.ones((3, 3, 1), np.uint8))  # 1716x1686: shrunk to 640x629 for the network
    (large,) = detector(big)
    (shrunk,) = detector(cv2.resize(big, (640, 629), interpolation=cv2.INTER_AREA))
    k = 1716 / 640
    assert np.allclose(np.array(large[:4]) / k, shrunk[:4], atol=0.5)
    assert np.allclose(np.array(large.landmarks) / k, shrunk.landmarks, atol=0.5)
    (small,) = detector(photo)  # and the original size finds the same face
    assert iou_matrix(np.array([large[:4]]) / 3, np.array([small[:4]]))[0, 0] > 0.85


def test_not_a_frame_is_refused(detector):
    with pytest.raises(ValueError, match="RGB frame"):
        detector(np.zeros((8, 8), np.uint8))


def test_options_are_checked_and_threads_honoured():
    build = plugins.get_plugins().get("face_detector", "retinaface").build
    assert build(threads=1).threads_used == 1
    assert build(threads=2)._session.get_session_options().intra_op_num_threads == 2
    with pytest.raises(ConfigError, match="input_size >= 32"):
        build(input_size=8)
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        build(threads=0)
    with pytest.raises(PluginError, match=r"unknown option 'colour'"):
        build(colour="red")


def test_priors_and_nms():
    p = priors(64, 96)  # strides 8, 16, 32: 8x12, 4x6, 2x3 cells, two sizes each
    assert p.shape == (2 * (96 + 24 + 6), 4)
    assert p[0].tolist() == [4, 4, 16, 16] and p[1].tolist() == [4, 4, 32, 32]
    assert p[2].tolist() == [12, 4, 16, 16]
    assert p[-1].tolist() == [80, 48, 512, 512]
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.8, 0.9, 0.7]), 0.4) == [1, 2]


def test_detection_is_the_old_tuple_with_landmarks():
    d = Detection(1, 2, 3, 4, 0.5, landmarks=[(1, 2)] * 5)
    assert d == (1, 2, 3, 4, 0.5) and d[:4] == (1, 2, 3, 4) and d.score == 0.5 and len(d) == 5
    moved = d.mapped(10, 20, 2, 3)
    assert moved == (12, 26, 16, 32, 0.5) and moved.landmarks[0] == (12, 26)
    assert as_detection([1, 2, 3, 4]).score is None and as_detection(d) is d
    with pytest.raises(ValueError, match="5 landmarks"):
        Detection(1, 2, 3, 4, 0.5, landmarks=[(1, 2)])


def test_following_keeps_the_landmarks(media, detector):
    photo = read_image(media / "single_face.jpg")
    follow = FollowingDetector(detector, every=5)
    full, near = follow(photo), follow(photo)  # the second looks only around the first's face
    assert len(full) == len(near) == 1 and near[0].landmarks is not None
    assert iou_matrix(np.array([full[0][:4]]), np.array([near[0][:4]]))[0, 0] > 0.7
    assert np.allclose(full[0].landmarks, near[0].landmarks, atol=8)


def test_rows_carry_the_landmarks_and_score_and_are_empty_without(media, tmp_path):
    result = analyze_to_files(media / "multi_face.jpg", _uniform, tmp_path, plot=False)
    rows = list(csv.DictReader(result["paths"]["csv"].open()))
    assert len(rows) == 5 and {r["track_id"] for r in rows} == {"0", "1", "2", "3", "4"}
    for row in rows:
        assert 0.7 <= float(row["score"]) <= 1
        assert float(row["x0"]) < float(row["lm_nose_x"]) < float(row["x1"])
        assert float(row["y0"]) < float(row["lm_left_eye_y"]) < float(row["lm_mouth_left_y"])
        assert float(row["lm_mouth_left_y"]) < float(row["y1"])
    data = json.loads(result["paths"]["json"].read_text())
    assert data["header"]["detector"] == "retinaface" and data["rows"][0]["lm_right_eye_x"] > 0
    plain = list(Analyzer(_uniform, detector="full_frame").rows([np.zeros((8, 8, 3), np.uint8)]))
    assert plain[0]["score"] == 1.0 and plain[0]["lm_nose_x"] is None


def test_fercli_analyze_takes_detector_options_and_threads(media, tmp_path):
    from fer_cli.main import cli

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["analyze", str(media / "multi_face.jpg"), "--out", str(out),
                                      "--no-plot", "--threads", "1",
                                      "--detector-option", "score_threshold=0.99"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "multi_face.csv").open()))
    assert rows and all(float(r["score"]) >= 0.99 for r in rows)
    bad = CliRunner().invoke(cli, ["analyze", str(media / "multi_face.jpg"), "--out", str(out),
                                   "--detector-option", "colour=red"])
    assert bad.exit_code == 2 and "unknown option 'colour'" in bad.output and "Traceback" not in bad.output
    bad = CliRunner().invoke(cli, ["analyze", str(media / "multi_face.jpg"), "--out", str(out),
                                   "--detector-option", "input_size"])
    assert bad.exit_code == 2 and "expected KEY=VALUE" in bad.output


def test_the_model_ships_with_its_notice_and_the_hash_it_names():
    import hashlib
    from importlib import resources

    weights = resources.files("fer_temporal").joinpath("weights")
    model = weights.joinpath("retinaface_mnet025.onnx").read_bytes()
    notice = weights.joinpath("NOTICE").read_text()
    assert hashlib.sha256(model).hexdigest() in notice and "MIT License" in notice
