"""Smoothing, segments, transitions, summary; the CSV/JSON/PNG exports and fercli analyze."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from fer_core import CLASSES, FERPLUS_CLASSES, ConfigError
from fer_temporal import Smoother, TimelineAnalysis, analyze_to_files, inside, safe_stem


def _row(frame: int, label: str, p: float = 0.9, track: int = 0, time: float | None = None) -> dict:
    probs = np.full(7, (1 - p) / 6)
    probs[CLASSES.index(label)] = p
    return {"frame": frame, "time": frame / 10 if time is None else time, "face_detected": True,
            "track_id": track, **{f"p_{c}": v for c, v in zip(CLASSES, probs, strict=True)}}


def test_smoothers():
    ema = Smoother("ema", alpha=0.5)
    a, b = np.eye(7)[0], np.eye(7)[3]
    assert np.allclose(ema.update(0, a), a) and np.allclose(ema.update(0, b), (a + b) / 2)
    assert np.allclose(ema.update(1, b), b)  # per track
    med = Smoother("median", window=3)
    for p in (a, a, b):
        out = med.update(0, p)
    assert out.argmax() == 0  # one outlier frame does not flip a rolling median
    with pytest.raises(ConfigError, match="smoothing must be one of"):
        Smoother("kalman")


def test_segments_transitions_and_absorbed_blips():
    analysis = TimelineAnalysis(smoother=Smoother("none"), min_length=0.25)
    labels = ["neutral"] * 10 + ["happy"] * 2 + ["neutral"] * 5 + ["happy"] * 10 + ["sad"] * 6
    for i, label in enumerate(labels):
        analysis.add(_row(i, label))
    analysis.add({"frame": 99, "time": 9.9, "face_detected": False})
    analysis.finish()
    segs = analysis.segments()
    # the 2-frame (0.1 s) happy blip is absorbed into neutral
    assert [(s["emotion"], s["start_frame"], s["end_frame"]) for s in segs] == [
        ("neutral", 0, 16), ("happy", 17, 26), ("sad", 27, 32)]
    assert segs[0]["mean_probability"] == pytest.approx(0.9)
    assert analysis.transitions() == [{"from": "happy", "to": "sad", "count": 1},
                                      {"from": "neutral", "to": "happy", "count": 1}]
    assert [c["frame"] for c in analysis.change_points()] == [17, 27]
    (summary,) = analysis.summary()
    assert summary["dominant"] == "neutral" and summary["share"]["happy"] == pytest.approx(12 / 33)
    assert analysis.frames_without_face == 1


def test_volatility_is_the_mean_absolute_delta():
    analysis = TimelineAnalysis()
    analysis.add(_row(0, "happy"))
    row = _row(1, "sad")
    row.update({f"d_{c}": v for c, v in zip(CLASSES, [0.1, -0.1, 0.0, 0.0, 0.0, 0.0, 0.0], strict=True)})
    analysis.add(row)
    assert analysis.summary()[0]["volatility"] == pytest.approx(0.2 / 7)


def test_output_names_cannot_leave_the_folder(tmp_path):
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("my video (1).mov") == "my_video_1"
    assert safe_stem("...") == "stream"
    with pytest.raises(ConfigError, match="would leave the output folder"):
        inside(tmp_path, "../escape.csv")


def leaning(crops: np.ndarray, classes: tuple[str, ...], bright: str, dark: str, floor: float) -> np.ndarray:
    """Made-up probabilities on ``classes``: bright crops lean ``bright``, dark ones ``dark``."""
    m = crops.reshape(len(crops), -1).mean(1) / 255.0
    probs = np.full((len(crops), len(classes)), floor)
    probs[:, classes.index(bright)] += m
    probs[:, classes.index(dark)] += 1 - m
    return probs / probs.sum(1, keepdims=True)


def brightness(crops: np.ndarray) -> np.ndarray:
    """A made-up classifier: brighter crops lean happy."""
    return leaning(crops, CLASSES, "happy", "sad", 0.1)


def test_files_from_a_made_up_stream(tmp_path):
    frames = [(np.full((32, 32, 3), 20 if i < 15 else 230, np.uint8), i / 10) for i in range(30)]
    # one face whose "emotion" is the brightness: the jump would be a shot cut, so cuts are off
    result = analyze_to_files(frames, brightness, tmp_path, name="../made up", detector="full_frame",
                              smoother=Smoother("none"), min_length=0.3, cut_threshold=None)
    assert set(result["paths"]) == {"csv", "json", "png"}
    assert all(p.parent == tmp_path.resolve() for p in result["paths"].values())
    data = json.loads(result["paths"]["json"].read_text())
    assert data["header"]["frames_read"] == 30 and data["header"]["classes"] == list(CLASSES)
    assert data["header"]["duration_s"] == pytest.approx(2.9) and data["header"]["fps"] == pytest.approx(10)
    assert len(data["rows"]) == 30 and data["rows"][3]["label"] == "sad"
    assert [(s["emotion"], s["start"]) for s in data["segments"]] == [("sad", 0.0), ("happy", 1.5)]
    assert data["transitions"] == [{"from": "sad", "to": "happy", "count": 1}]
    assert result["paths"]["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class EightClass:
    """A made-up classifier on FER+'s 8 classes: dark crops lean contempt, bright ones happy."""

    classes = FERPLUS_CLASSES
    size = 48

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        return leaning(crops, FERPLUS_CLASSES, "happy", "contempt", 0.05)


def test_a_timeline_of_an_eight_class_model_names_contempt(tmp_path):
    frames = [(np.full((32, 32, 3), 20 if i < 10 else 230, np.uint8), i / 10) for i in range(20)]
    result = analyze_to_files(frames, EightClass(), tmp_path, name="eight", detector="full_frame",
                              smoother=Smoother("none"), min_length=0.3, cut_threshold=None)
    data = json.loads(result["paths"]["json"].read_text())
    assert data["header"]["classes"] == list(FERPLUS_CLASSES)
    assert [(s["emotion"], s["start"]) for s in data["segments"]] == [("contempt", 0.0), ("happy", 1.0)]
    header = result["paths"]["csv"].read_text().splitlines()[0].split(",")
    assert "p_contempt" in header and "d_contempt" in header


def test_fercli_analyze_on_the_real_video_with_a_trained_model(media, tiny_runs, tmp_path):
    pytest.importorskip("cv2")
    from fer_cli.main import cli

    result = CliRunner().invoke(cli, ["analyze", str(media / "face_noface.mov"), "--model", str(tiny_runs[0]),
                                      "--out", str(tmp_path), "--fps", "5", "--progress"])
    assert result.exit_code == 0, result.output
    assert "face_noface.mov:" in result.output and "track 0: dominant" in result.output
    data = json.loads((tmp_path / "face_noface.json").read_text())
    header = data["header"]
    n = header["frames_read"]  # the progress bar counts frames read (sampled or not) and ends there
    assert re.search(rf"face_noface\.mov: 100%.*\b{n}/{n} \[", result.output)
    assert header["detector"] == "retinaface"
    assert header["weights_sha256"] and header["backbone"] == "small_cnn"
    faces = [r for r in data["rows"] if r["face_detected"]]
    assert faces and any(not r["face_detected"] for r in data["rows"])
    assert max(r["time"] for r in faces) < min(r["time"] for r in data["rows"] if not r["face_detected"]) + 1


def test_annotated_video_keeps_the_stream_times(media, tmp_path):
    pytest.importorskip("cv2")
    import av

    seen = []  # a caller's on_frame (a progress bar) runs beside the video writer's
    result = analyze_to_files(media / "single_face.mp4", brightness, tmp_path, detector="haar", fps=10,
                              video=True, plot=False, on_frame=lambda frame, rows: seen.append(frame.index))
    assert seen == list(range(0, 72, 3))
    rows = json.loads(result["paths"]["json"].read_text())["rows"]
    frame_times = sorted({r["time"] for r in rows})
    with av.open(str(result["paths"]["video"])) as container:
        decoded = [f for f in container.decode(video=0)]
    assert len(decoded) == len(frame_times) == result["header"]["frames_processed"]
    assert np.allclose([f.time for f in decoded], frame_times, atol=0.002)
    assert decoded[0].width == 640 and not (tmp_path / "single_face.annotated.partial.mp4").exists()
    # the header describes the stream (72 frames at 30 fps), not the 10 fps sample analyzed
    header = result["header"]
    assert header["frames_read"] == 72 and header["fps"] == pytest.approx(30.0)
    assert header["frames_processed"] == 24 and header["duration_s"] == pytest.approx(71 / 30)


def test_embedding_api_timeline_and_stream(tmp_path):
    import fer_temporal

    frames = [(np.full((32, 32, 3), 20 if i < 15 else 230, np.uint8), i / 10) for i in range(30)]
    timeline = fer_temporal.analyze(frames, brightness, detector="full_frame", min_length=0.3,
                                    smoother=Smoother("none"))
    assert len(timeline.rows) == 30 and timeline.header["frames_read"] == 30
    assert [s["emotion"] for s in timeline.segments] == ["sad", "happy"]
    csv_path, json_path, png = (timeline.to_csv(tmp_path / "t.csv"), timeline.to_json(tmp_path / "t.json"),
                                timeline.plot(tmp_path / "t.png"))
    assert len(csv_path.read_text().splitlines()) == 31 and png.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(json_path.read_text())["segments"] == timeline.segments
    streamed = list(fer_temporal.stream(iter(frames), brightness, detector="full_frame",
                                        smoother=Smoother("none")))
    assert [r["label"] for r in streamed] == [r["label"] for r in timeline.rows]
    assert "s_happy" in streamed[0]


def test_a_video_with_no_face_gives_a_valid_timeline_that_says_so(media):
    pytest.importorskip("cv2")
    import fer_temporal

    timeline = fer_temporal.analyze(media / "no_face.mp4", brightness, detector="haar", fps=5)
    assert timeline.rows and all(not r["face_detected"] for r in timeline.rows)
    assert timeline.summary == [] and timeline.segments == [] and timeline.header["faces"] == 0
    assert timeline.header["frames_read"] >= 90


@pytest.mark.parametrize("frame", [np.zeros((1, 1), np.uint8), np.zeros((1, 1, 4), np.uint8),
                                   np.zeros((40, 30), np.uint8)], ids=["1-pixel", "1-pixel-rgba", "gray"])
def test_tiny_gray_and_rgba_frames(frame):
    import fer_temporal

    rows = fer_temporal.analyze([frame], brightness, detector="full_frame").rows
    assert len(rows) == 1 and rows[0]["face_detected"] and rows[0]["label"] in CLASSES


def test_a_video_truncated_mid_stream_keeps_its_rows_and_names_the_frame(tmp_path):
    import av

    import fer_temporal

    whole = tmp_path / "whole.avi"  # AVI: the index of frames comes first, so a cut file still opens
    with av.open(str(whole), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(40):
            pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.warns(fer_temporal.SourceWarning, match=r"cut\.avi: decoding stopped at frame \d+") as seen:
        rows = list(fer_temporal.stream(cut, brightness, detector="full_frame", batch_size=1))
    assert 0 < len(rows) < 40  # the rows before the cut were delivered, then a warning (not an error)
    assert f"at frame {len(rows)}" in str(seen[0].message)
