"""Outputs of one analysis are all or nothing, keep their timing in the annotated video, and read
the same image types as `predict` (issue 18)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fer_core import CLASSES
from fer_core.data import IMAGE_SUFFIXES as DATA_SUFFIXES
from fer_core.errors import DataError
from fer_temporal import (
    IMAGE_SUFFIXES,
    AnnotatedVideoWriter,
    Frame,
    SourceWarning,
    analyze_to_files,
    open_source,
)


def uniform(crops: np.ndarray) -> np.ndarray:
    return np.full((len(crops), 7), 1 / 7)


def decode(path: Path) -> list:
    import av

    with av.open(str(path)) as container:
        return list(container.decode(video=0))


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("clip", ["noface_face.mov", "face_noface.mov"])
def test_annotated_video_of_the_hevc_movs_decodes_with_every_frame_at_its_time(media, tmp_path, clip):
    """These variable-rate clips have frames 14 ms apart; at a 1/fps encoder time base two of them
    fell on one timestamp and the muxer failed (`... returned 22`)."""
    from fer_cli.main import cli

    source = media / clip
    result = CliRunner().invoke(cli, ["analyze", str(source), "--video", "--out", str(tmp_path),
                                      "--model", "fast", "--detector", "full_frame", "--no-plot"])
    assert result.exit_code == 0, (result.output, result.exception)
    stem = clip.removesuffix(".mov")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"{stem}.annotated.mp4", f"{stem}.csv", f"{stem}.json"]
    times = [f.time for f in decode(source)]
    out = decode(tmp_path / f"{stem}.annotated.mp4")
    assert len(out) == len(times) == 169  # the README: a full decode yields 169 frames
    assert (out[0].width, out[0].height) == (960, 540)
    assert np.allclose([f.time for f in out], times, atol=0.001)


def test_video_writer_pads_odd_frames_and_keeps_close_timestamps(tmp_path):
    path = tmp_path / "v.mp4"
    writer = AnnotatedVideoWriter(path, CLASSES, fps=25)
    times = [0.0, 0.014, 0.028, 0.1, None]  # 14 ms apart (< 1/25 s), then one without a time
    for i, t in enumerate(times):
        image = np.full((21, 31, 3), 50 * i, np.uint8)  # odd sides
        row = {"face_detected": True, "track_id": 0, "x0": 2, "y0": 2, "x1": 20, "y1": 18,
               "label": "happy", "label_prob": 0.9}
        writer(Frame(i, t, image, "made-up"), [row])
    assert writer.close() == path and not writer.partial.exists()
    frames = decode(path)
    assert len(frames) == 5 and (frames[0].width, frames[0].height) == (32, 22)
    assert [f.time for f in frames[:4]] == pytest.approx([0.0, 0.014, 0.028, 0.1], abs=1e-9)
    assert frames[4].time == pytest.approx(4 / 25)  # no time of its own: index / fps
    padded = frames[2].to_ndarray(format="rgb24")
    assert padded[:21, :31].mean() > 60 and padded[21:, :].mean() < 30  # the padding is black


def test_video_writer_error_names_the_source_and_frame(tmp_path):
    writer = AnnotatedVideoWriter(tmp_path / "v.mp4", CLASSES, codec="no-such-codec")
    with pytest.raises(DataError, match=r"clip\.mp4 frame 7: cannot write the annotated video"):
        writer(Frame(7, 0.0, np.zeros((8, 8, 3), np.uint8), "clip.mp4"), [])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_no_face_input_plots_without_a_matplotlib_warning(tmp_path):
    frames = [np.zeros((32, 32, 3), np.uint8)] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "No artists with labels found to put in legend" was one
        result = analyze_to_files(frames, uniform, tmp_path, name="blank", detector=lambda image: [])
    assert result["header"]["faces"] == 0
    assert result["paths"]["png"].read_bytes()[:4] == b"\x89PNG"


def test_a_failure_mid_analysis_leaves_nothing_and_keeps_earlier_outputs(tmp_path):
    frames = [np.full((32, 32, 3), i, np.uint8) for i in range(6)]
    first = analyze_to_files(frames, uniform, tmp_path, name="clip", detector="full_frame", video=True)
    before = {name: path.read_bytes() for name, path in first["paths"].items()}
    calls = {"n": 0}

    def breaks(crops):
        calls["n"] += 1
        if calls["n"] == 2:
            raise DataError("made-up classifier failure")
        return uniform(crops)

    with pytest.raises(DataError, match="made-up"):
        analyze_to_files(frames, breaks, tmp_path, name="clip", detector="full_frame", batch_size=2,
                         video=True)
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in first["paths"].values()}
    assert {name: path.read_bytes() for name, path in first["paths"].items()} == before


def test_a_failing_plot_leaves_nothing_behind(tmp_path, monkeypatch):
    from fer_temporal import _plots

    def broken(*args, **kwargs):
        raise DataError("made-up plot failure")

    monkeypatch.setattr(_plots, "plot_timeline", broken)
    out = tmp_path / "new"
    with pytest.raises(DataError, match="made-up plot failure"):
        analyze_to_files([np.zeros((16, 16, 3), np.uint8)], uniform, out, name="x", detector="full_frame")
    assert not out.exists()  # created by the call, left empty: removed


def test_analyze_reads_the_image_types_predict_reads():
    assert tuple(sorted(DATA_SUFFIXES)) == IMAGE_SUFFIXES
    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"} <= set(IMAGE_SUFFIXES)


def _animated_gif(path: Path) -> Path:
    frames = [Image.fromarray(np.full((20, 30, 3), v, np.uint8)) for v in (0, 80, 160, 240)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[100, 200, 50, 300], loop=0)
    return path


def test_a_folder_of_every_image_type_is_one_frame_each(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    suffixes = sorted(IMAGE_SUFFIXES)
    for i, suffix in enumerate(suffixes):
        name = f"{i:02d}{suffix}"
        if suffix == ".gif":
            _animated_gif(folder / name)  # in a folder: its first frame, as predict reads it
        else:
            Image.fromarray(np.full((20, 30, 3), 10 * i, np.uint8)).save(folder / name)
    frames = list(open_source(folder))
    assert [Path(f.source).suffix for f in frames] == suffixes
    gif = frames[suffixes.index(".gif")]
    assert gif.image.shape == (20, 30, 3) and int(gif.image.mean()) == 0


def test_an_animated_gif_alone_is_read_frame_by_frame_at_its_own_times(tmp_path):
    frames = list(open_source(_animated_gif(tmp_path / "anim.gif")))
    assert [f.time for f in frames] == pytest.approx([0.0, 0.1, 0.3, 0.35])
    assert [int(f.image.mean()) for f in frames] == [0, 80, 160, 240]


def test_a_video_that_breaks_off_warns_naming_the_frame(tmp_path):
    import av

    path = tmp_path / "v.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(SourceWarning, match=r"v\.mp4: decoding stopped at frame \d+") as record:
        frames = list(open_source(path))
    assert 0 < len(frames) < 50
    assert f"at frame {len(frames)}" in str(record[0].message)
    assert json.dumps(str(record[0].message))  # plain text, for the JSON header
