"""Fixtures of the server tests: one loaded model for the session, an app per test with its own
settings and folder, and small images made here."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")


@pytest.fixture(scope="session")
def engine():
    """The shipped default model (its ONNX copy) and the retinaface detector, loaded once."""
    from fer_cli.serve._engine import Engine
    from fer_cli.serve._settings import ServeSettings

    old = os.environ.get("FER_LOAD_PLUGINS")
    os.environ["FER_LOAD_PLUGINS"] = "fer_models,fer_temporal"
    try:
        return Engine(ServeSettings(threads=1))
    finally:
        if old is None:
            os.environ.pop("FER_LOAD_PLUGINS", None)
        else:
            os.environ["FER_LOAD_PLUGINS"] = old


@pytest.fixture
def make_client(engine, tmp_path) -> Iterator[Callable[..., object]]:
    """``make_client(**settings)``: a TestClient (lifespan running) of an app on the shared model,
    its work folder under tmp_path; closed at the end of the test."""
    from starlette.testclient import TestClient

    from fer_cli.serve import ServeSettings, create_app

    clients: list[TestClient] = []

    def make(raise_server_exceptions: bool = True, **settings) -> TestClient:
        settings.setdefault("workdir", tmp_path / f"work{len(clients)}")
        app = create_app(ServeSettings(**settings), engine=engine)
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def image_bytes(size: tuple[int, int] = (64, 48), fmt: str = "PNG", color=(128, 90, 60)) -> bytes:
    """A small plain image file's bytes (no face in it)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def tiny_video(path: Path, frames: int = 6, size: tuple[int, int] = (64, 48)) -> Path:
    """A few frames of noise as an MP4 made with PyAV (no face in it)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            img = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(name="image_bytes")
def _image_bytes_fixture():
    """:func:`image_bytes` itself."""
    return image_bytes


@pytest.fixture(name="tiny_video")
def _tiny_video_fixture():
    """:func:`tiny_video` itself."""
    return tiny_video


@pytest.fixture
def server(engine, tmp_path):
    """The app served by uvicorn in a thread on a free loopback port: its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from fer_cli.serve import create_app, shutdown_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(engine=engine, workdir=tmp_path / "w")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)
    shutdown_app(app)
