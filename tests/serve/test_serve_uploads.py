"""Untrusted uploads: limits, types sniffed from the bytes, server-made names, 4xx JSON errors."""

from __future__ import annotations

import re

import pytest

from fer_cli.serve._uploads import sniff


@pytest.mark.parametrize("head,kind,suffix", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image", ".jpg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image", ".png"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x00", "image", ".gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image", ".webp"),
    (b"RIFF\x10\x00\x00\x00AVI LIST", "video", ".avi"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video", ".mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", "video", ".mov"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81", "video", ".mkv"),
    (b"YUV4MPEG2 W64 H48 F10:1", "video", ".y4m"),
])
def test_sniff_reads_the_type_from_the_bytes(head, kind, suffix):
    found = sniff(head)
    assert found is not None and (found.kind, found.suffix) == (kind, suffix)


@pytest.mark.parametrize("head", [b"hello world, not an image", b"%PDF-1.7\n", b"\x00" * 16,
                                  b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"])
def test_sniff_refuses_what_it_does_not_read(head):
    assert sniff(head) is None


def _error(resp, status):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and "Traceback" not in body["error"]
    return body["error"]


def test_a_text_file_named_jpg_is_refused_by_its_bytes(client):
    text = _error(client.post("/v1/faces", files={"file": ("face.jpg", b"<html>hello</html>" * 4,
                                                            "image/jpeg")}), 415)
    assert "not an image" in text and "text" in text


def test_an_empty_upload_is_400(client):
    assert "empty" in _error(client.post("/v1/faces", content=b""), 400)


def test_a_form_without_the_file_field_is_400(client):
    text = _error(client.post("/v1/faces", files={"photo": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)}), 400)
    assert "'file'" in text


def test_a_too_large_image_is_413_before_it_is_all_read(make_client, image_bytes):
    client = make_client(max_image_bytes=1000)
    big = image_bytes((200, 200), "BMP")  # 120 kB
    assert "larger than the 1000 bytes" in _error(client.post("/v1/faces", content=big), 413)
    assert "larger than" in _error(client.post("/v1/faces", files={"file": ("a.bmp", big)}), 413)
    assert _leftovers(client) == []


def test_a_damaged_image_is_422_naming_no_server_path(client, image_bytes):
    data = image_bytes((120, 90), "JPEG")[:200]  # a JPEG cut short
    text = _error(client.post("/v1/faces", content=data), 422)
    assert "the uploaded image" in text and str(client.app.state.workdir) not in text


def test_a_video_sent_to_faces_says_where_it_goes(client, tiny_video, tmp_path):
    data = tiny_video(tmp_path / "v.mp4").read_bytes()
    assert "POST /v1/videos" in _error(client.post("/v1/faces", content=data), 415)


def test_a_client_file_name_never_reaches_the_file_system(client, media):
    data = (media / "single_face.jpg").read_bytes()
    evil = "../../../../tmp/evil-fer-upload.jpg"
    resp = client.post("/v1/faces", files={"file": (evil, data)})
    assert resp.status_code == 200
    workdir = client.app.state.workdir
    assert not any("evil" in p.name for p in workdir.parent.rglob("*"))
    assert _leftovers(client) == []  # the upload is removed once analyzed


def test_a_malformed_multipart_body_is_400(client):
    resp = client.post("/v1/faces", content=b"--xyz\r\nnot headers", headers={
        "Content-Type": "multipart/form-data; boundary=xyz"})
    assert resp.status_code == 400 and "error" in resp.json()


def test_too_many_pixels_is_422(make_client, image_bytes):
    client = make_client(max_pixels=100)
    resp = client.post("/v1/faces", content=image_bytes((20, 20)))
    assert "larger than the 100 pixels" in _error(resp, 422)


def _leftovers(client):
    uploads = client.app.state.uploads
    names = [p.name for p in uploads.iterdir()]
    assert all(re.fullmatch(r"[0-9a-f]{32}(\.\w+)?", n) for n in names), names
    return names
