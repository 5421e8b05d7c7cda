"""Frame sources on the real media: timestamps from the stream, images, folders, iterables, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fer_core import DataError
from fer_temporal import Frame, frame_count, open_source, sample_frames


def test_variable_frame_rate_mov_keeps_the_streams_own_timestamps(media):
    import av

    frames = [(f.index, f.time, f.image.shape) for f in open_source(media / "noface_face.mov")]
    with av.open(str(media / "noface_face.mov")) as c:
        nominal_fps = float(c.streams.video[0].average_rate)
    times = np.array([t for _, t, _ in frames])
    assert frames[0][2] == (540, 960, 3) and len(frames) > 100
    assert (np.diff(times) > 0).all() and times[-1] == pytest.approx(6.35, abs=0.05)
    # index / fps would put the frames elsewhere: the stream's own times are irregular
    by_index = np.arange(len(times)) / nominal_fps
    assert np.abs(by_index - times).max() > 0.2  # 0.34 s here: a third of a second off
    # the title card runs at 24 fps, the man at 30 fps: both intervals are in the stream
    intervals = np.diff(times)[1:]
    assert (np.abs(intervals - 1 / 24) < 1e-3).sum() > 20 and (np.abs(intervals - 1 / 30) < 1e-3).sum() > 20


def test_constant_rate_mp4_and_hevc_decode(media):
    single = list(open_source(media / "single_face.mp4"))
    assert len(single) == 72 and single[1].time == pytest.approx(1 / 30)
    assert single[0].image.dtype == np.uint8 and single[0].image.shape == (360, 640, 3)
    assert sum(1 for _ in open_source(media / "face_noface.mov")) > 100  # HEVC


def test_images_folders_globs_and_iterables(media, tmp_path):
    (one,) = open_source(media / "single_face.jpg")
    assert one.image.shape == (562, 572, 3) and one.time is None
    for i in range(3):
        Image.fromarray(np.full((20, 30), i * 50, np.uint8)).save(tmp_path / f"f{i}.png")
    from_folder = [f.image[0, 0, 0] for f in open_source(tmp_path)]
    from_glob = [f.image[0, 0, 0] for f in open_source(str(tmp_path / "f*.png"))]
    assert from_folder == from_glob == [0, 50, 100]
    timed = list(open_source([(np.zeros((8, 8), np.uint8), 0.5), (np.ones((8, 8, 4), np.float32), 0.7)]))
    assert [f.time for f in timed] == [0.5, 0.7] and timed[1].image.shape == (8, 8, 3)
    assert timed[1].image.max() == 255  # floats in [0, 1] scaled
    stack = list(open_source(np.zeros((4, 10, 10, 3), np.uint8)))
    assert [f.index for f in stack] == [0, 1, 2, 3]


def test_sampling_by_stride_and_by_stream_fps():
    frames = [Frame(i, i / 30, np.zeros((2, 2, 3), np.uint8), "x") for i in range(90)]
    assert [f.index for f in sample_frames(frames, stride=10)] == list(range(0, 90, 10))
    kept = [f.time for f in sample_frames(frames, fps=5)]
    assert len(kept) == 15 and np.allclose(np.diff(kept), 0.2, atol=1 / 30)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing.mp4", "no such file, folder or device"),
    (lambda p: (p / "junk.mp4").write_bytes(b"\x00garbage" * 100) and p / "junk.mp4", "cannot open video"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no image files"),
    (lambda p: str(p / "*.png"), "matches no image files"),
    (lambda p: (p / "bad.png").write_bytes(b"\x89PNG....") and p / "bad.png", "cannot read image"),
])
def test_bad_sources_are_data_errors_naming_the_input(tmp_path, make, message):
    source = make(tmp_path)
    with pytest.raises(DataError, match=message):
        list(open_source(source))


def test_truncated_video_is_a_data_error_or_fewer_frames(media, tmp_path):
    data = (media / "single_face.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    try:
        frames = list(open_source(cut))
    except DataError as exc:
        assert "cut.mp4" in str(exc)
    else:
        assert len(frames) < 72


def test_bad_frames_in_an_iterable_name_the_frame():
    with pytest.raises(DataError, match="frames frame 1: a frame must be"):
        list(open_source([np.zeros((4, 4), np.uint8), np.zeros((4, 4, 5), np.uint8)]))
    with pytest.raises(DataError, match="must be uint8"):
        list(open_source([np.full((4, 4), -1.0)]))


@pytest.mark.parametrize(("name", "codec", "pix_fmt"), [("clip.avi", "mpeg4", "yuv420p"),
                                                         ("clip.gif", "gif", "rgb8")])
def test_avi_and_gif_decode_with_their_timestamps(tmp_path, name, codec, pix_fmt):
    import av

    path = tmp_path / name
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, pix_fmt
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    frames = list(open_source(path))
    assert len(frames) == 5 and frames[0].image.shape == (32, 32, 3)
    assert [round(f.time, 2) for f in frames] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_frame_count_is_what_the_source_declares_without_decoding(media, tmp_path):
    assert frame_count(media / "single_face.mp4") == 72
    assert frame_count(media / "single_face.jpg") == 1
    assert frame_count(str(media / "*.jpg")) == 3
    assert frame_count(np.zeros((5, 8, 8, 3), np.uint8)) == 5
    assert frame_count("device:0") is None and frame_count(iter([])) is None
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert frame_count(bad) is None  # open_source names the problem; a progress bar just has no total
