"""Issue 19 through the command line: sideways phone photos, annotated pictures, and every kind
of awkward image file through `fercli analyze` and `fercli predict`: each gives sensible rows
(exit 0) or one `Error:` line naming the file (exit 1), never a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fer_cli.main import cli

FAST = ["--model", "fast"]
HAAR = ["--detector", "haar", "--no-plot"]


def run(*args: str):
    return CliRunner().invoke(cli, [*args])


def rows_of(out: Path, stem: str) -> list[dict[str, str]]:
    with open(out / f"{stem}.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def one_error_line(result, name: str) -> bool:
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    return (result.exit_code == 1 and isinstance(result.exception, SystemExit) and len(errors) == 1
            and errors[0] == lines[-1] and name in errors[0] and "Traceback" not in result.output)


def sideways(photo: Path, path: Path, orientation: int = 6) -> Path:
    """``photo`` stored as a phone held sideways stores it, tagged so every viewer turns it back."""
    turn = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}
    exif = Image.Exif()
    exif[0x0112] = orientation
    with Image.open(photo) as img:
        img.convert("RGB").transpose(turn[orientation]).save(path, quality=95, exif=exif.tobytes())
    return path


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_sideways_phone_photo_is_analyzed_upright(media, tmp_path, orientation):
    from fer_temporal import HaarDetector

    photo = sideways(media / "single_face.jpg", tmp_path / "phone.jpg", orientation)
    with Image.open(photo) as stored:
        assert HaarDetector()(np.asarray(stored.convert("RGB"))) == []  # as stored: no face
    result = run("analyze", str(photo), "--out", str(tmp_path / "out"), *HAAR, *FAST)
    assert result.exit_code == 0, result.output
    [row] = rows_of(tmp_path / "out", "phone")
    assert row["face_detected"] == "True"
    w, h = Image.open(media / "single_face.jpg").size  # boxes in the upright picture's pixels
    assert 0 <= float(row["x0"]) < float(row["x1"]) <= w and 0 <= float(row["y0"]) < float(row["y1"]) <= h


def test_predict_gives_the_same_probabilities_for_the_upright_and_the_sideways_copy(media, tmp_path):
    upright = tmp_path / "upright.jpg"
    with Image.open(media / "single_face.jpg") as img:
        img.convert("RGB").save(upright, quality=95)
    copies = [sideways(upright, tmp_path / f"o{o}.jpg", o) for o in (6, 8, 3)]
    out = tmp_path / "p.json"
    result = run("predict", str(upright), *map(str, copies), *FAST, "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    classes = json.loads(out.read_text())["classes"]
    probs = np.array([[r[c] for c in classes] for r in rows])
    assert {r["label"] for r in rows} == {rows[0]["label"]}
    assert np.abs(probs[1:] - probs[0]).max() < 0.05  # JPEG re-encoding, nothing else


def test_annotate_an_image_writes_an_annotated_jpeg_the_photos_size(media, tmp_path):
    photo = sideways(media / "single_face.jpg", tmp_path / "phone.jpg")
    out = tmp_path / "out"
    result = run("analyze", str(photo), "--out", str(out), *HAAR, *FAST, "--annotate")
    assert result.exit_code == 0, result.output
    annotated = out / "phone.annotated.jpg"
    assert str(annotated) in result.output
    [row] = rows_of(out, "phone")
    with Image.open(media / "single_face.jpg") as original, Image.open(annotated) as drawn:
        assert drawn.size == original.size  # upright, full size
        diff = np.abs(np.asarray(drawn.convert("RGB")).astype(int)
                      - np.asarray(original.convert("RGB")).astype(int)).sum(2)
    x0, y0, x1, y1 = (round(float(row[k])) for k in ("x0", "y0", "x1", "y1"))
    left_side = diff[y0 + 2:y1 - 2, x0 - 2:x0 + 4].max(axis=1)  # each row crosses the box's line
    inside = diff[y0 + 20:y1 - 20, x0 + 20:x1 - 20]
    assert (left_side > 60).mean() > 0.9 and inside.mean() < 25  # a box drawn, the face as it was
    assert sorted(p.name for p in out.iterdir()) == ["phone.annotated.jpg", "phone.csv", "phone.json"]


def test_annotate_a_folder_writes_one_jpeg_per_frame(media, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    Image.open(media / "single_face.jpg").save(frames / "a.png")
    Image.fromarray(np.full((30, 50, 3), 128, np.uint8)).save(frames / "b.png")
    out = tmp_path / "out"
    result = run("analyze", str(frames), "--out", str(out), *HAAR, *FAST, "--annotate")
    assert result.exit_code == 0, result.output
    folder = out / "frames.annotated"
    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg", "b.jpg"]
    assert Image.open(folder / "a.jpg").size == Image.open(media / "single_face.jpg").size
    assert Image.open(folder / "b.jpg").size == (50, 30)  # each frame keeps its own size


# -- awkward inputs ---------------------------------------------------------------------------------


def _face(media: Path) -> Image.Image:
    with Image.open(media / "single_face.jpg") as img:
        return img.convert("RGB")


def _corrupt_exif(media: Path, path: Path) -> Path:
    _face(media).save(path, exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x09\x01\x12\x00\x03")
    return path


def _truncated(media: Path, path: Path) -> Path:
    data = (media / "single_face.jpg").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _gif(media: Path, path: Path) -> Path:
    face = _face(media).resize((286, 281))
    blank = Image.new("RGB", face.size, (128, 128, 128))
    face.save(path, save_all=True, append_images=[blank, face], duration=200, loop=0)
    return path


def _cmyk(media: Path, path: Path) -> Path:
    _face(media).convert("CMYK").save(path)
    return path


def _png16(media: Path, path: Path) -> Path:
    gray = np.asarray(_face(media).convert("L")).astype(np.uint16) * 257
    Image.fromarray(gray).save(path)
    assert Image.open(path).mode == "I;16"
    return path


def _png16_rgb(media: Path, path: Path) -> Path:
    import cv2  # PIL writes no 16-bit color PNG

    bgr = np.asarray(_face(media))[..., ::-1].astype(np.uint16) * 257
    assert cv2.imwrite(str(path), bgr)
    return path


def _huge(media: Path, path: Path) -> Path:
    _face(media).resize((8000, 8000), Image.Resampling.BILINEAR).save(path, quality=80)
    return path


def _write(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


#: name -> (file maker, file name, what analyze gives: faces found, "none" or "error", same for predict)
CASES = {
    "no face": (lambda m, p: _write(Image.open(m / "no_face.jpg"), p), "noface.jpg", "none", "ok"),
    "1x1": (lambda m, p: _write(Image.new("RGB", (1, 1), (9, 9, 9)), p), "one.png", "none", "ok"),
    "16x16": (lambda m, p: _write(Image.new("RGB", (16, 16), (9, 9, 9)), p), "tiny.png", "none", "ok"),
    "grayscale": (lambda m, p: _write(_face(m).convert("L"), p), "gray.jpg", "face", "ok"),
    "RGBA": (lambda m, p: _write(_face(m).convert("RGBA"), p), "rgba.png", "face", "ok"),
    "palette": (lambda m, p: _write(_face(m).convert("P"), p), "palette.png", "face", "ok"),
    "CMYK JPEG": (_cmyk, "cmyk.jpg", "face", "ok"),
    "16-bit PNG": (_png16, "deep.png", "face", "ok"),
    "16-bit color PNG": (_png16_rgb, "deep_rgb.png", "face", "ok"),
    "corrupt EXIF": (_corrupt_exif, "exif.jpg", "face", "ok"),
    "truncated JPEG": (_truncated, "cut.jpg", "error", "error"),
    "not an image": (lambda m, p: p.write_text("hello\n") and p, "text.jpg", "error", "error"),
    "empty file": (lambda m, p: p.write_bytes(b"") or p, "empty.png", "error", "error"),
    "animated GIF": (_gif, "anim.gif", "frames", "ok"),
    "8000x8000": (_huge, "huge.jpg", "face", "ok"),
}


def _params():
    for name in CASES:
        marks = [pytest.mark.slow] if name == "8000x8000" else []
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_awkward_images_through_analyze(media, tmp_path, case):
    make, file_name, expect, _predict = CASES[case]
    path = make(media, tmp_path / file_name)
    out = tmp_path / "out"
    result = run("analyze", str(path), "--out", str(out), *HAAR, *FAST)
    if expect == "error":
        assert one_error_line(result, str(path)), result.output
        assert not out.exists() or not any(out.iterdir())
        return
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rows = rows_of(out, path.stem)
    if expect == "frames":  # a GIF alone: read like a video, every frame (face, blank, face)
        assert [r["frame"] for r in rows] == ["0", "1", "2"]
        assert [r["face_detected"] for r in rows] == ["True", "False", "True"]
        return
    assert len(rows) == 1 and rows[0]["frame"] == "0"
    assert rows[0]["face_detected"] == ("True" if expect == "face" else "False")
    if expect == "face":
        assert rows[0]["label"] and 0 < float(rows[0]["label_prob"]) <= 1


@pytest.mark.parametrize("case", list(_params()))
def test_awkward_images_through_predict(media, tmp_path, case):
    make, file_name, _analyze, expect = CASES[case]
    path = make(media, tmp_path / file_name)
    out = tmp_path / "p.csv"
    result = run("predict", str(path), *FAST, "--out", str(out))
    if expect == "error":
        assert one_error_line(result, str(path)), result.output
        assert not out.exists()
        return
    assert result.exit_code == 0, result.output
    with open(out, newline="") as fh:
        [row] = list(csv.DictReader(fh))
    probs = [float(v) for k, v in row.items() if k not in ("file", "label", "probability")]
    assert row["file"] == str(path) and len(probs) == 7 and abs(sum(probs) - 1) < 1e-4


def test_an_animated_gif_in_a_folder_is_its_first_frame(media, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    _gif(media, folder / "anim.gif")
    Image.new("RGB", (40, 40), (128, 128, 128)).save(folder / "blank.png")
    out = tmp_path / "out"
    result = run("analyze", str(folder), "--out", str(out), *HAAR, *FAST, "--redetect-every", "1")
    assert result.exit_code == 0, result.output
    rows = rows_of(out, "frames")
    assert [(r["source"].endswith("anim.gif"), r["face_detected"]) for r in rows] == [
        (True, "True"), (False, "False")]  # the GIF's first frame, the face


def test_a_corrupt_exif_block_is_one_warning_line(media, tmp_path):
    path = tmp_path / "exif.jpg"
    _face(media).save(path, exif=b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03\x00")
    result = run("analyze", str(path), "--out", str(tmp_path / "out"), *HAAR, *FAST)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and str(path) in warned[0] and "EXIF" in warned[0], result.output
