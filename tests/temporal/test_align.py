"""Face alignment: landmarks onto FER2013's framing, eyes level, the square crop where it can't."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fer_temporal import Analyzer, Detection, analyze_to_files, face_crops, read_image
from fer_temporal._align import ALIGN_DEFAULT, TEMPLATE, aligned_crop, alignment_matrix

SIZE = 48


def _drawn_face(side: int = 200, angle: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A grey frame with dark dots at the template's landmarks (a face of ``side`` px at (100, 80)),
    turned by ``angle`` degrees about the face's centre; returns the RGB frame and its landmarks."""
    frame = np.full((400, 400), 200, np.uint8)
    marks = TEMPLATE * side + [100, 80]
    for x, y in marks:
        cv2.circle(frame, (round(x), round(y)), 6, 0, -1)
    if angle:
        turn = cv2.getRotationMatrix2D((100 + side / 2, 80 + side / 2), angle, 1.0)
        frame = cv2.warpAffine(frame, turn, (400, 400), borderValue=200)
        marks = cv2.transform(marks[None].astype(np.float32), turn)[0]
    return np.repeat(frame[:, :, None], 3, axis=2), marks


def _dots(crop: np.ndarray) -> np.ndarray:
    """Centroids of the dark dots of an aligned crop, ordered as the template's points."""
    _n, _labels, stats, centroids = cv2.connectedComponentsWithStats((crop < 100).astype(np.uint8))
    found = centroids[1:][stats[1:, cv2.CC_STAT_AREA] > 2]
    order = [int(np.argmin(np.linalg.norm(found - p, axis=1))) for p in TEMPLATE * SIZE]
    return found[order]


def test_the_transform_maps_the_landmarks_onto_the_template():
    marks = TEMPLATE * 130 + [40, 25]
    matrix = alignment_matrix(marks, SIZE)
    assert matrix.shape == (2, 3)
    assert np.allclose(cv2.transform(marks[None].astype(np.float32), matrix)[0], TEMPLATE * SIZE, atol=1e-3)


@pytest.mark.parametrize("angle", [0.0, 20.0, -25.0])
def test_a_turned_face_comes_out_upright_with_its_eyes_level(angle):
    frame, marks = _drawn_face(angle=angle)
    box = Detection(100, 80, 300, 280, 0.99, landmarks=marks)
    (crop,) = face_crops(frame, [box], SIZE, align=True)
    assert crop.shape == (SIZE, SIZE) and crop.dtype == np.uint8
    dots = _dots(crop)
    assert abs(dots[0, 1] - dots[1, 1]) < 1.0  # eyes level
    assert np.abs(dots - TEMPLATE * SIZE).max() < 1.5  # every point where FER2013 puts it


def test_the_plain_crop_keeps_the_turn():
    frame, marks = _drawn_face(angle=20.0)
    box = Detection(100, 80, 300, 280, 0.99, landmarks=marks)
    (crop,) = face_crops(frame, [box], SIZE, align=False)
    _n, _labels, _stats, centroids = cv2.connectedComponentsWithStats((crop < 100).astype(np.uint8))
    eyes = centroids[1:][np.argsort(centroids[1:, 1])[:2]]
    assert abs(eyes[0, 1] - eyes[1, 1]) > 3  # still tilted: the aligned crop's level eyes are its doing


@pytest.mark.parametrize("marks", [None, [(150.0, 150.0)] * 5, [(np.nan, 1.0)] * 5])
def test_no_or_degenerate_landmarks_fall_back_to_the_square_crop(marks):
    frame, _ = _drawn_face(angle=20.0)
    box = Detection(100, 80, 300, 280, 0.99, landmarks=marks)
    assert np.array_equal(face_crops(frame, [box], SIZE, align=True), face_crops(frame, [box], SIZE))
    plain_tuple = (100, 80, 300, 280, 0.99)
    assert np.array_equal(face_crops(frame, [plain_tuple], SIZE, align=True), face_crops(frame, [box], SIZE))
    assert aligned_crop(frame[:, :, 0], marks, SIZE) is None


def test_a_face_at_the_frame_edge_is_black_outside_it():
    frame, marks = _drawn_face()
    shifted = marks - [150, 0]  # the face's left part leaves the frame
    box = Detection(-50, 80, 150, 280, 0.99, landmarks=shifted)
    (crop,) = face_crops(frame[:, :, :].copy(), [box], SIZE, align=True)
    assert (crop[:, :5] == 0).all() and crop[:, -5:].min() > 0


def test_a_large_face_is_averaged_down_not_sampled():
    frame, marks = _drawn_face(side=380 - 100)
    grey = frame[:, :, 0]
    noisy = (grey.astype(int) + np.random.default_rng(0).integers(-60, 61, grey.shape)).clip(0, 255)
    crop = aligned_crop(noisy.astype(np.uint8), marks, SIZE)
    assert crop is not None
    assert crop[SIZE // 2 - 2:SIZE // 2 + 2, 2:8].std() < 15  # noise of +-60 averaged over ~6x6 px


def test_the_analyzer_aligns_by_default_and_the_header_says_so(media, tmp_path):
    assert Analyzer(lambda crops: np.full((len(crops), 7), 1 / 7), "full_frame").align is ALIGN_DEFAULT
    seen = {}
    for align in (True, False):
        crops_seen = []

        def classifier(crops, _seen=crops_seen):
            _seen.append(np.array(crops))
            return np.full((len(crops), 7), 1 / 7)

        result = analyze_to_files(media / "single_face.jpg", classifier, tmp_path / str(align),
                                  plot=False, align=align)
        assert result["header"]["align"] is align
        seen[align] = np.concatenate(crops_seen)
    assert seen[True].shape == seen[False].shape == (1, SIZE, SIZE)
    assert not np.array_equal(seen[True], seen[False])


def test_fercli_analyze_no_align(media, tmp_path):
    from fer_cli.main import cli

    photo = read_image(media / "single_face.jpg")
    turn = cv2.getRotationMatrix2D((photo.shape[1] / 2, photo.shape[0] / 2), 20, 1.0)
    tilted = tmp_path / "tilted.png"
    cv2.imwrite(str(tilted), cv2.cvtColor(cv2.warpAffine(photo, turn, photo.shape[1::-1]), cv2.COLOR_RGB2BGR))
    probs = {}
    for flag in ("--align", "--no-align"):
        out = tmp_path / flag
        result = CliRunner().invoke(cli, ["analyze", str(tilted), "--out", str(out), "--no-plot", flag])
        assert result.exit_code == 0, result.output
        data = json.loads((out / "tilted.json").read_text())
        assert data["header"]["align"] is (flag == "--align")
        (row,) = data["rows"]
        probs[flag] = [row[f"p_{c}"] for c in data["header"]["classes"]]
    assert not np.allclose(probs["--align"], probs["--no-align"])
