"""/v1/live: faces per frame with fer-temporal's tracker and smoother, newest frame only, drops counted."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from fer_cli.serve._live import LatestFrame, LiveSession


def _send_frames(client, data: bytes, n: int) -> list[dict]:
    """Send the frame ``data`` ``n`` times over one /v1/live connection, one reply per frame."""
    with client.websocket_connect("/v1/live") as ws:
        replies = []
        for _ in range(n):
            ws.send_bytes(data)
            replies.append(ws.receive_json())
    return replies


def test_a_stream_of_frames_keeps_one_track_and_smooths(client, media):
    replies = _send_frames(client, (media / "single_face.jpg").read_bytes(), 4)
    assert [r["frame"] for r in replies] == [0, 1, 2, 3]
    assert all(len(r["faces"]) == 1 and r["faces"][0]["track_id"] == 0 for r in replies)
    assert replies[-1]["processed"] == 4 and replies[-1]["dropped"] == 0
    assert replies[0]["width"] == 572 and replies[0]["height"] == 562
    face = replies[-1]["faces"][0]
    assert face["smoothed_label"] == "happy" and sum(face["smoothed"].values()) == pytest.approx(1, abs=1e-5)
    times = [r["time"] for r in replies]
    assert times == sorted(times)


def test_the_smoothing_is_fer_temporals(engine, media):
    """The live session's numbers are fer_temporal.stream's on the same frames (EMA of analyze)."""
    import fer_temporal
    from fer_core import read_rgb

    image = read_rgb(media / "single_face.jpg")
    frames = [(image[:, ::-1].copy() if i % 2 else image, i * 0.1) for i in range(4)]
    session = LiveSession(engine)
    live = [session.process(img, t)[0] for img, t in frames]
    rows = list(fer_temporal.stream(frames, engine.classifier, engine.detector, redetect_every=5,
                                    batch_size=1, smoother=engine.smoother()))
    for face, row in zip(live, rows, strict=True):
        assert face["smoothed"] == pytest.approx({c: row[f"s_{c}"] for c in engine.classes}, abs=1e-9)
        assert face["probabilities"]["happy"] == pytest.approx(row["p_happy"], abs=1e-9)


def test_frames_arriving_while_one_waits_are_dropped_and_counted(client, media):
    data = (media / "single_face.jpg").read_bytes()
    sent = 12
    with client.websocket_connect("/v1/live") as ws:
        for _ in range(sent):
            ws.send_bytes(data)
        replies = [ws.receive_json()]
        while replies[-1]["processed"] + replies[-1]["dropped"] < sent:
            replies.append(ws.receive_json())
    last = replies[-1]
    assert last["received"] == sent and last["processed"] == len(replies)
    assert last["processed"] + last["dropped"] == sent and last["dropped"] >= 1


def test_a_bad_frame_is_an_error_reply_and_the_stream_goes_on(make_client, media):
    client = make_client(max_frame_bytes=200_000)
    with client.websocket_connect("/v1/live") as ws:
        ws.send_bytes(b"not a jpeg at all")
        err = ws.receive_json()
        assert "frame" in err["error"] and "Traceback" not in err["error"]
        ws.send_bytes(b"\xff\xd8\xff" + b"\x00" * 300_000)
        assert "larger than" in ws.receive_json()["error"]
        ws.send_text("hello")
        assert "binary" in ws.receive_json()["error"]
        ws.send_text('{"type": "ping"}')
        assert ws.receive_json() == {"type": "pong"}
        ws.send_bytes((media / "single_face.jpg").read_bytes())
        ok = ws.receive_json()
        assert ok["frame"] == 0 and len(ok["faces"]) == 1


def test_latest_frame_keeps_only_the_newest():
    async def run():
        box = LatestFrame()
        for i in range(5):
            box.put(bytes([i]))
        first = await box.take()
        box.put(b"\x09")
        second = await box.take()
        box.close()
        return first, second, await box.take(), box.received, box.dropped

    assert asyncio.run(run()) == (b"\x04", b"\x09", None, 6, 4)


def test_a_session_without_faces_answers_empty(engine):
    session = LiveSession(engine)
    assert session.process(np.zeros((48, 64, 3), np.uint8), 0.0) == []
    assert session.process(np.zeros((48, 64, 3), np.uint8), 0.1) == []


def test_a_bug_on_one_frame_is_an_error_reply_and_a_fresh_session(make_client, media, monkeypatch, caplog):
    client = make_client()
    real = LiveSession.process
    calls = []

    def flaky(self, image, t):
        calls.append(t)
        if len(calls) == 2:
            raise ZeroDivisionError("internal detail")
        return real(self, image, t)

    monkeypatch.setattr(LiveSession, "process", flaky)
    replies = _send_frames(client, (media / "single_face.jpg").read_bytes(), 3)
    assert replies[0]["faces"][0]["track_id"] == 0
    assert replies[1]["error"] == "internal error on this frame (logged on the server)"
    assert replies[2]["faces"][0]["track_id"] == 0  # a fresh tracker after the failure
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)
