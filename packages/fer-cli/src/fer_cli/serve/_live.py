"""The live stream: ``/v1/live``, a WebSocket of webcam frames in and faces out.

The client sends each frame as a binary message (a JPEG or PNG, downscaled); the server answers
each frame it analyzes with one JSON message. Each connection has its own fer-temporal
:class:`~fer_temporal.Analyzer` (so its own tracker, and the detector following the faces between
full detections, as ``fercli analyze`` does) and its own :class:`~fer_temporal.TimelineAnalysis`
(the smoother of ``fercli analyze``). Only the newest frame waits: a frame that arrives while an
older one is still waiting replaces it, and is counted in ``dropped``: the server never queues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from fer_cli.serve._engine import Engine, decode_image, face_json
from fer_cli.serve._errors import ApiError
from fer_core.errors import FerError

log = logging.getLogger("fer_cli.serve")


class _Mailbox:
    """The frame source of one connection's Analyzer: it yields the frame put in just before
    the Analyzer asks for the next one (the Analyzer pulls one frame, answers it, pulls again)."""

    def __init__(self) -> None:
        self.item: tuple[Any, float] | None = None

    def __iter__(self) -> Iterator[tuple[Any, float]]:
        while self.item is not None:
            item, self.item = self.item, None
            yield item


class LiveSession:
    """One connection's tracker and smoother: :meth:`process` takes a frame, gives its faces."""

    def __init__(self, engine: Engine, max_pixels: int | None = None) -> None:
        self.engine = engine
        self.max_pixels = max_pixels or engine.settings.max_pixels
        self.start = time.monotonic()
        self.reset()

    def reset(self) -> None:
        """A fresh tracker and smoother (after a frame the pipeline failed on: its state is gone)."""
        from fer_temporal import TimelineAnalysis

        engine = self.engine
        self.mailbox = _Mailbox()
        self.done: list[dict[str, Any]] | None = None
        self.analyzer = engine.analyzer(live=True)
        self.analyzer.on_frame = self._on_frame
        self.analysis = TimelineAnalysis(self.analyzer.classes, engine.smoother(), min_length=0.0)
        self._rows = self.analyzer.rows(self.mailbox, name="live")

    def _on_frame(self, frame: Any, rows: list[dict[str, Any]]) -> None:
        self.done = rows

    def analyze(self, data: bytes, t: float) -> tuple[Any, list[dict[str, Any]]]:
        """Decode one frame's bytes (a 422 ApiError when they are no image) and :meth:`process` it."""
        image = decode_image(data, self.max_pixels, "frame")
        try:
            return image, self.process(image, t)
        except FerError as exc:  # the detector or classifier refused this frame: say so, go on
            self.reset()
            raise ApiError(422, f"frame: {exc}") from None
        except BaseException:
            self.reset()
            raise

    def process(self, image: Any, t: float) -> list[dict[str, Any]]:
        """The faces of one RGB frame at stream time ``t`` (seconds), smoothed per track."""
        self.mailbox.item = (image, t)
        self.done = None
        rows: list[dict[str, Any]] = []
        while self.done is None or len(rows) < len(self.done):
            rows.append(next(self._rows))
        faces = []
        for row in rows:
            smoothed = self.analysis.add(row)
            if row.get("face_detected"):
                faces.append(face_json(row, self.analyzer.classes, smoothed))
        return faces


class LatestFrame:
    """A one-place mailbox: :meth:`put` replaces what waits (counting it as dropped)."""

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.received = 0
        self.dropped = 0
        self.event = asyncio.Event()
        self.closed = False

    def put(self, data: bytes) -> None:
        self.received += 1
        if self.data is not None:
            self.dropped += 1
        self.data = data
        self.event.set()

    async def take(self) -> bytes | None:
        """The newest frame (None once the client has gone and nothing waits)."""
        while self.data is None:
            if self.closed:
                return None
            self.event.clear()
            await self.event.wait()
        data, self.data = self.data, None
        return data

    def close(self) -> None:
        self.closed = True
        self.event.set()


async def live_endpoint(websocket: WebSocket) -> None:
    """``/v1/live``: see the module docstring. Messages in: binary frames (a text message
    ``{"type": "ping"}`` is answered ``{"type": "pong"}``). Messages out, one per analyzed frame:
    ``{"frame", "time", "width", "height", "faces": [...], "received", "processed", "dropped",
    "ms"}``, or ``{"error": "..."}`` for a frame that cannot be read (the stream goes on)."""
    state = websocket.app.state
    engine: Engine = state.engine
    limiter: anyio.CapacityLimiter = state.limiter
    settings = state.settings
    await websocket.accept()
    session = LiveSession(engine, settings.max_pixels)
    latest = LatestFrame()
    sending = anyio.Lock()  # the two tasks below both answer: one message at a time

    async def send(message: dict[str, Any]) -> None:
        async with sending:
            await websocket.send_json(message)

    async def receive() -> None:
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is None:
                    text = message.get("text") or ""
                    if '"ping"' in text:
                        await send({"type": "pong"})
                    else:
                        await send({"error": "send frames as binary messages (JPEG or PNG)"})
                    continue
                if len(data) > settings.max_frame_bytes:
                    latest.received += 1
                    limit = settings.max_frame_bytes
                    await send({"error": f"frame of {len(data)} bytes is larger than the "
                                f"{limit} bytes this server takes"})
                    continue
                latest.put(data)
        except WebSocketDisconnect:
            return
        finally:
            latest.close()

    async def answer() -> None:
        processed = 0
        while True:
            data = await latest.take()
            if data is None:
                return
            t0 = time.perf_counter()
            t = time.monotonic() - session.start
            try:
                image, faces = await anyio.to_thread.run_sync(session.analyze, data, t, limiter=limiter)
            except ApiError as exc:
                reply: dict[str, Any] = {"error": exc.message, "received": latest.received,
                                         "dropped": latest.dropped}
            except Exception:  # a bug: logged, answered, and the stream goes on with a fresh session
                log.exception("live frame failed")
                reply = {"error": "internal error on this frame (logged on the server)",
                         "received": latest.received, "dropped": latest.dropped}
            else:
                processed += 1
                reply = {"frame": processed - 1, "time": t, "width": int(image.shape[1]),
                         "height": int(image.shape[0]), "faces": faces, "received": latest.received,
                         "processed": processed, "dropped": latest.dropped,
                         "ms": (time.perf_counter() - t0) * 1000}
            try:
                await send(reply)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(answer)
        await receive()
    log.debug("WS /v1/live closed: %d frames received, %d dropped, %.1f s", latest.received, latest.dropped,
             time.perf_counter() - started)
