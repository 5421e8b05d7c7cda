"""POST /v1/faces: the numbers of `fercli analyze` on the same image, multipart or raw body."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fer_cli.main import cli


def _analyze_rows(image, out):
    result = CliRunner().invoke(cli, ["analyze", str(image), "--out", str(out), "--no-progress",
                                      "--threads", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / f"{image.stem}.json").read_text())
    return [r for r in data["rows"] if r["face_detected"]]


@pytest.mark.parametrize("name", ["single_face.jpg", "multi_face.jpg"])
def test_faces_are_those_fercli_analyze_finds(client, media, tmp_path, name):
    image = media / name
    rows = _analyze_rows(image, tmp_path / "out")
    resp = client.post("/v1/faces", files={"file": (name, image.read_bytes(), "image/jpeg")})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    from PIL import Image

    with Image.open(image) as im:
        assert (body["width"], body["height"]) == im.size
    assert body["model"] == "default" and len(body["faces"]) == len(rows) >= 1
    for face, row in zip(body["faces"], rows, strict=True):
        assert face["box"] == pytest.approx([row[k] for k in ("x0", "y0", "x1", "y1")], abs=1e-4)
        assert face["score"] == pytest.approx(row["score"], abs=1e-6)
        for cls, p in face["probabilities"].items():
            assert p == pytest.approx(row[f"p_{cls}"], abs=1e-6)
        assert face["label"] == row["label"]
        assert face["landmarks"]["left_eye"] == pytest.approx([row["lm_left_eye_x"], row["lm_left_eye_y"]],
                                                              abs=1e-4)
        assert sum(face["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_raw_body_gives_the_same_answer_as_multipart(client, media):
    data = (media / "single_face.jpg").read_bytes()
    multipart = client.post("/v1/faces", files={"file": ("x.jpg", data)}).json()
    raw = client.post("/v1/faces", content=data, headers={"Content-Type": "application/octet-stream"}).json()
    assert raw == multipart and raw["faces"][0]["label"] == "happy"


def test_an_image_without_a_face_gives_an_empty_list(client, image_bytes):
    resp = client.post("/v1/faces", content=image_bytes((80, 60), "PNG"))
    assert resp.status_code == 200
    assert resp.json()["faces"] == [] and resp.json()["width"] == 80 and resp.json()["height"] == 60


def test_exif_orientation_is_applied(client, media):
    """A photo stored sideways with an EXIF turn is analyzed upright, as fercli analyze reads it."""
    import io

    from PIL import Image

    with Image.open(media / "single_face.jpg") as im:
        turned = im.transpose(Image.Transpose.ROTATE_90)  # stored sideways ...
        exif = Image.Exif()
        exif[0x0112] = 6  # ... tagged to be turned back for viewing (PIL: ROTATE_270)
        buf = io.BytesIO()
        turned.save(buf, "JPEG", exif=exif, quality=95)
        upright_size = im.size
    body = client.post("/v1/faces", content=buf.getvalue()).json()
    assert (body["width"], body["height"]) == upright_size
    assert len(body["faces"]) == 1 and body["faces"][0]["label"] == "happy"
