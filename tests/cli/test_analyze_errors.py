"""`fercli analyze` on inputs it cannot read (issue 18): one line `Error: ...` naming the source, a
non-zero exit, no traceback, and nothing left in --out; one bad source among several loses none of
the good ones' outputs; Ctrl-C keeps (and names) the partial CSV; every output has the mode a
plain open() gives."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fer_cli.main import cli

FAST = ["--model", "fast"]


def run(*args: str):
    return CliRunner().invoke(cli, ["analyze", *args])


def failed_cleanly(result) -> bool:
    """Exit 1 through click (an uncaught exception would be ``result.exception`` itself)."""
    clean = isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    return result.exit_code == 1 and clean


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _missing(tmp: Path) -> Path:
    return tmp / "missing.mp4"


def _zero_byte(tmp: Path) -> Path:
    (tmp / "zero.mp4").write_bytes(b"")
    return tmp / "zero.mp4"


def _text_named_mp4(tmp: Path) -> Path:
    (tmp / "notes.mp4").write_text("this is not a video\n")
    return tmp / "notes.mp4"


def _text_named_jpg(tmp: Path) -> Path:
    (tmp / "notes.jpg").write_text("this is not an image\n")
    return tmp / "notes.jpg"


def _empty_folder(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _folder_without_images(tmp: Path) -> Path:
    (tmp / "docs").mkdir()
    (tmp / "docs" / "readme.txt").write_text("no images here\n")
    (tmp / "docs" / "clip.mp4").write_bytes(b"")  # a video is not a frame of a folder
    return tmp / "docs"


def _glob_without_images(tmp: Path) -> str:
    return str(tmp / "nothing-*.png")


BAD = {
    "missing file": (_missing, "no such file"),
    "zero-byte .mp4": (_zero_byte, "the file is empty"),
    "text file named .mp4": (_text_named_mp4, "cannot open video"),
    "text file named .jpg": (_text_named_jpg, "cannot read image"),
    "empty folder": (_empty_folder, "no image files"),
    "folder with no images": (_folder_without_images, "no image files"),
    "glob matching no images": (_glob_without_images, "matches no image files"),
}


@pytest.mark.parametrize("video", [False, True], ids=["plain", "--video"])
@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_source_is_one_error_line_and_leaves_nothing(tmp_path, case, video):
    make, message = BAD[case]
    source = str(make(tmp_path))
    out = tmp_path / "out" / "timelines"  # two levels the command creates itself
    result = run(source, "--out", str(out), *FAST, *(["--video"] if video else []))
    assert failed_cleanly(result), (result.output, result.exception)
    line = last_line(result)
    assert line.startswith("Error: ") and source in line and message in line, line
    assert len([x for x in result.output.splitlines() if x.startswith("Error:")]) == 1
    assert not out.exists() and not (tmp_path / "out").exists()  # created, left empty: removed


@pytest.mark.shared
def test_a_truncated_mp4_is_an_error_naming_it(media, tmp_path):
    """single_face.mp4 keeps its index (moov) at the end: cut, it cannot be opened at all."""
    cut = tmp_path / "cut.mp4"
    data = (media / "single_face.mp4").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("the user's own file\n")
    result = run(str(cut), "--out", str(out), *FAST, "--video")
    assert failed_cleanly(result), (result.output, result.exception)
    assert last_line(result) == (f"Error: {cut}: cannot open video: Invalid data found when processing "
                                 f"input (not a video file, or a damaged or truncated one)")
    assert listing(out) == ["keep.txt"]  # the folder existed: kept, with only what was there


def _faststart_copy(src: Path, dst: Path) -> Path:
    """``src`` remuxed with its index first, so that a cut copy still decodes up to the cut."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as outp:
        stream_in = inp.streams.video[0]
        stream_out = outp.add_stream_from_template(stream_in)
        for packet in inp.demux(stream_in):
            if packet.dts is None:
                continue
            packet.stream = stream_out
            outp.mux(packet)
    return dst


@pytest.mark.shared
def test_a_video_cut_mid_stream_is_analyzed_up_to_the_cut_with_a_warning(media, tmp_path):
    """Decision: the readable part is analyzed (exit 0) and a warning names the frame where
    decoding stopped; the JSON header records it too."""
    import json

    whole = _faststart_copy(media / "single_face.mp4", tmp_path / "whole.mp4")
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    result = run(str(cut), "--out", str(out), *FAST, "--detector", "full_frame", "--no-plot", "--video")
    assert result.exit_code == 0, result.output
    header = json.loads((out / "cut.json").read_text())["header"]
    n = header["frames_read"]
    assert 0 < n < 72
    warning = f"warning: {cut}: decoding stopped at frame {n}"
    assert any(line.startswith(warning) for line in result.output.splitlines()), result.output
    assert header["warnings"] and header["warnings"][0].startswith(f"{cut}: decoding stopped at frame {n}")
    assert listing(out) == ["cut.annotated.mp4", "cut.csv", "cut.json"]


def _stills(folder: Path, n: int = 3) -> Path:
    folder.mkdir()
    for i in range(n):
        Image.fromarray(np.full((48, 48, 3), 40 * i, np.uint8)).save(folder / f"f{i}.png")
    return folder


def test_one_bad_source_among_several_loses_none_of_the_good_outputs(tmp_path):
    """Decision: the other sources are still analyzed; the command then fails naming the bad one."""
    good_a, good_b = _stills(tmp_path / "a"), _stills(tmp_path / "b")
    bad = _zero_byte(tmp_path)
    out = tmp_path / "out"
    result = run(str(good_a), str(bad), str(good_b), "--out", str(out), *FAST, "--detector", "full_frame",
                 "--no-plot")
    assert failed_cleanly(result), (result.output, result.exception)
    assert f"skipped: {bad}: cannot open video: the file is empty (0 bytes)" in result.output
    assert last_line(result) == (f"Error: {bad}: cannot open video: the file is empty (0 bytes); "
                                 f"the other 2 source(s) were analyzed")
    assert listing(out) == ["a.csv", "a.json", "b.csv", "b.json"]


def test_several_bad_sources_are_all_named(tmp_path):
    bad = [_zero_byte(tmp_path), _empty_folder(tmp_path)]
    result = run(*map(str, bad), _stills(tmp_path / "ok").as_posix(), "--out", str(tmp_path / "out"), *FAST,
                 "--detector", "full_frame", "--no-plot")
    assert failed_cleanly(result), (result.output, result.exception)
    assert last_line(result) == f"Error: 2 of 3 sources failed, each named above ({bad[0]}, {bad[1]})"
    assert listing(tmp_path / "out") == ["ok.csv", "ok.json"]


def test_ctrl_c_keeps_and_names_the_partial_csv(tmp_path, monkeypatch):
    from fer_temporal import _timeline

    calls = {"n": 0}
    classify = _timeline.Analyzer._classify

    def interrupted(self, crops, where):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return classify(self, crops, where)

    monkeypatch.setattr(_timeline.Analyzer, "_classify", interrupted)
    frames = _stills(tmp_path / "frames", n=5)
    out = tmp_path / "out"
    result = run(str(frames), "--out", str(out), *FAST, "--detector", "full_frame", "--batch-size", "1",
                 "--video")
    assert failed_cleanly(result), (result.output, result.exception)
    # a folder of frames is annotated frame by frame (<name>.annotated/): the frames done are kept
    partial_csv, partial_frames = out / "frames.csv.partial", out / "frames.annotated.partial"
    assert last_line(result) == (f"Error: interrupted while analyzing {frames}; the rows so far are kept "
                                 f"in {partial_csv}, {partial_frames}")
    assert listing(out) == ["frames.annotated.partial", "frames.csv.partial"]
    assert len(partial_csv.read_text().splitlines()) == 1 + 2  # header, the two frames classified
    assert listing(partial_frames) == ["f0.jpg", "f1.jpg"]


def test_an_output_folder_that_is_a_file_is_one_error_line(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder\n")
    result = run(_stills(tmp_path / "f").as_posix(), "--out", str(tmp_path / "taken"), *FAST,
                 "--detector", "full_frame", "--no-plot")
    assert failed_cleanly(result), (result.output, result.exception)
    line = last_line(result)
    assert line == f"Error: cannot write to {tmp_path / 'taken'} (--out): a file, not a folder", line


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_every_output_has_the_mode_a_plain_open_gives(tmp_path, umask):
    frames = _stills(tmp_path / "frames")
    out = tmp_path / "out"
    old = os.umask(umask)
    try:
        result = run(str(frames), "--out", str(out), *FAST, "--detector", "full_frame", "--video")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    expected = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert expected == 0o666 & ~umask
    names = listing(out)
    assert names == ["frames.annotated", "frames.csv", "frames.json", "frames.png"]
    files = [out / n for n in names[1:]] + sorted((out / "frames.annotated").iterdir())
    assert len(files) == 3 + 3  # the annotated folder holds one JPEG per frame
    assert {str(f): oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {
        str(f): oct(expected) for f in files}
    assert stat.S_IMODE((out / "frames.annotated").stat().st_mode) == 0o777 & ~umask  # a plain mkdir's


@pytest.mark.filterwarnings("error")  # matplotlib's "No artists with labels found to put in legend"
def test_a_source_without_faces_plots_without_a_warning(tmp_path):
    pytest.importorskip("cv2")
    blank = _stills(tmp_path / "blank", n=2)  # flat grey frames: haar finds no face
    out = tmp_path / "out"
    result = run(str(blank), "--out", str(out), *FAST, "--detector", "haar")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "0 faces in 0 track(s)" in result.output and "Warning" not in result.output
    assert listing(out) == ["blank.csv", "blank.json", "blank.png"]


def test_a_bad_setting_or_detector_stops_before_any_source(tmp_path):
    sources = [_stills(tmp_path / "a").as_posix(), _stills(tmp_path / "b").as_posix()]
    out = tmp_path / "out"
    bad_alpha = run(*sources, "--out", str(out), *FAST, "--alpha", "5")
    assert failed_cleanly(bad_alpha) and "skipped" not in bad_alpha.output
    assert last_line(bad_alpha).startswith("Error: smoothing: need 0 < alpha <= 1")
    bad_detector = run(*sources, "--out", str(out), *FAST, "--detector", "nope")
    assert failed_cleanly(bad_detector) and "skipped" not in bad_detector.output
    assert last_line(bad_detector).startswith("Error: no face detector named 'nope'")
    assert not out.exists()
