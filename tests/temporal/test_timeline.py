"""Timeline rows from real videos and made-up streams: alignment, tracks, batching, deltas, CSV."""

from __future__ import annotations

import csv
import itertools
import time

import numpy as np
import pytest

from fer_core import CLASSES, DataError
from fer_temporal import Analyzer, CsvTimelineWriter, columns, open_source, read_image


class Counting:
    """A made-up classifier: probabilities from the crop's mean brightness; records batch sizes."""

    classes = CLASSES
    size = 48

    def __init__(self, delay: float = 0.0):
        self.batches: list[int] = []
        self.delay = delay

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        assert crops.dtype == np.uint8 and crops.shape[1:] == (48, 48)
        self.batches.append(len(crops))
        time.sleep(self.delay)
        logits = np.outer(crops.reshape(len(crops), -1).mean(1) / 255.0, np.arange(7))
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)


def test_one_row_per_frame_on_a_video_that_changes_from_no_face_to_face(media):
    pytest.importorskip("cv2")
    analyzer = Analyzer(Counting(), detector="haar", fps=6)
    rows = list(analyzer.rows(media / "noface_face.mov"))
    frames = sorted({r["frame"] for r in rows})
    assert len(frames) == analyzer.stats.frames_processed == len({r["frame"] for r in rows})
    stream_times = {f.index: f.time for f in open_source(media / "noface_face.mov")}
    assert all(r["time"] == stream_times[r["frame"]] for r in rows)  # the stream's own times
    first_face = min(r["time"] for r in rows if r["face_detected"])
    assert all(not r["face_detected"] for r in rows if r["time"] < first_face)
    assert sum(not r["face_detected"] for r in rows) >= 5 and sum(r["face_detected"] for r in rows) >= 5
    no_face = next(r for r in rows if not r["face_detected"])
    assert "p_happy" not in no_face and "track_id" not in no_face


def test_the_man_in_the_video_keeps_one_track(media):
    pytest.importorskip("cv2")
    rows = list(Analyzer(Counting(), detector="haar").rows(media / "single_face.mp4"))
    faces = [r for r in rows if r["face_detected"]]
    assert len({r["frame"] for r in rows}) == 72
    ids = [r["track_id"] for r in faces]
    assert len(faces) >= 60 and ids.count(0) >= 0.9 * len(faces)


def _shifted_group_photo(media, n: int = 8) -> list[tuple[np.ndarray, float]]:
    photo = read_image(media / "multi_face.jpg")
    frames = []
    for i in range(n):
        frame = np.roll(photo, shift=(i * 3, i * 4), axis=(0, 1)).copy()
        if i == 4:
            frame[200:450, 280:460] = 128  # one face hidden for a frame
        frames.append((frame, i / 10))
    return frames


def test_several_faces_keep_their_ids_across_a_made_up_sequence(media):
    pytest.importorskip("cv2")
    analyzer = Analyzer(Counting(), detector="haar", batch_size=5)
    rows = [r for r in analyzer.rows(_shifted_group_photo(media), name="group") if r["face_detected"]]
    by_frame = {}
    for r in rows:
        by_frame.setdefault(r["frame"], {})[r["track_id"]] = (r["x0"], r["y0"])
    assert len(by_frame[0]) >= 4
    for f in (1, 2, 3, 5, 6, 7):
        # the same ids, even after the hidden frame (Haar may add a stray box now and then: a new id)
        assert set(by_frame[0]) <= set(by_frame[f]), f
        for tid in by_frame[0]:  # each id moved with its face
            x0, y0 = by_frame[f][tid]
            assert abs(x0 - by_frame[0][tid][0] - 4 * f) < 15 and abs(y0 - by_frame[0][tid][1] - 3 * f) < 15
    assert len(set(by_frame[0]) - set(by_frame[4])) == 1  # the hidden face, back with its id in frame 5
    assert max(analyzer.classifier.batches) <= 5 + 5  # a batch closes once it holds batch_size faces


def test_batching_does_not_change_rows_and_deltas_follow_each_track():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (40, 40, 3), dtype=np.uint8) for _ in range(10)]
    one, many = Counting(), Counting()
    # noise frames: each would be a shot cut (a new track), so cut detection is off here
    rows_1 = list(Analyzer(one, detector="full_frame", batch_size=1, cut_threshold=None).rows(frames))
    rows_n = list(Analyzer(many, detector="full_frame", batch_size=4, cut_threshold=None).rows(frames))
    assert rows_1 == rows_n and one.batches == [1] * 10 and many.batches == [4, 4, 2]
    assert "d_happy" not in rows_1[0]
    for prev, row in itertools.pairwise(rows_1):
        for c in CLASSES:
            assert row[f"d_{c}"] == pytest.approx(row[f"p_{c}"] - prev[f"p_{c}"])
    assert set(rows_1[0]) <= set(columns())


def test_a_classifier_of_the_wrong_shape_is_named():
    bad = lambda crops: np.zeros((len(crops), 5))  # noqa: E731
    with pytest.raises(DataError, match=r"frames frames 0-1: the classifier returned shape \(2, 5\)"):
        list(Analyzer(bad, detector="full_frame", batch_size=2).rows([np.zeros((8, 8, 3), np.uint8)] * 2))


def test_realtime_mode_drops_frames_to_keep_up_and_counts_them():
    frames = [(np.zeros((16, 16, 3), np.uint8), i / 100) for i in range(60)]  # a 100 fps stream
    analyzer = Analyzer(Counting(delay=0.03), detector="full_frame", realtime=True, batch_size=16)
    rows = list(analyzer.rows(frames))
    stats = analyzer.stats
    assert stats.frames_dropped > 20 and stats.frames_read == 60
    assert stats.frames_processed + stats.frames_dropped == 60 == stats.frames_read
    assert len(rows) == stats.frames_processed and set(analyzer.classifier.batches) == {1}


def test_csv_is_renamed_into_place_only_when_complete(tmp_path):
    cols = columns()
    out = tmp_path / "t.csv"
    rows = list(Analyzer(Counting(), detector="full_frame").rows([np.zeros((8, 8, 3), np.uint8)] * 3))
    with pytest.raises(RuntimeError), CsvTimelineWriter(out, cols, flush_every=1) as writer:
        writer.write(rows[0])
        writer.write(rows[1])
        raise RuntimeError("crash mid-video")
    assert not out.exists()
    partial = list(csv.DictReader((tmp_path / "t.csv.partial").open()))
    assert [r["frame"] for r in partial] == ["0", "1"]
    with CsvTimelineWriter(out, cols) as writer:
        for row in rows:
            writer.write(row)
    done = list(csv.DictReader(out.open()))
    assert len(done) == 3 and not (tmp_path / "t.csv.partial").exists()
    assert list(done[0]) == cols and done[0]["d_happy"] == ""


def test_long_runs_without_faces_never_call_the_classifier_empty(tiny_runs):
    import fer_models

    clf = fer_models.load(tiny_runs[0])  # raises on an empty batch, as a strict classifier may
    frames = [np.zeros((16, 16, 3), np.uint8)] * 10
    no_faces = lambda frame: []  # noqa: E731
    rows = list(Analyzer(clf, detector=no_faces, batch_size=3).rows(frames))
    assert [r["face_detected"] for r in rows] == [False] * 10


def test_face_less_frames_after_a_few_faces_are_not_all_held():
    """A batch is classified after batch_size frames even when it has fewer faces (frames are
    held only until their batch is classified, never the video)."""
    read = []

    def frames():
        for i in range(60):
            read.append(i)
            yield np.zeros((32, 32, 3), np.uint8)

    def detector(frame):
        return [(4, 4, 28, 28, 0.9)] if len(read) <= 2 else []

    lag = []
    analyzer = Analyzer(Counting(), detector, batch_size=8,
                        on_frame=lambda frame, rows: lag.append(len(read) - 1 - frame.index))
    list(analyzer.rows(frames()))
    assert len(lag) == 60 and max(lag) < 8


def test_large_frames_are_classified_in_smaller_batches():
    from fer_temporal._timeline import PENDING_BYTES

    big = np.zeros((1080, 1920, 3), np.uint8)
    counting = Counting()
    list(Analyzer(counting, "full_frame", batch_size=32).rows([big] * 12))
    per_batch = PENDING_BYTES // big.nbytes + 1
    assert max(counting.batches) == per_batch < 32 and sum(counting.batches) == 12
