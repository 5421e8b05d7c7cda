"""The ASGI app: ``create_app(...)`` builds it (and can be mounted inside another Starlette or
FastAPI app: ``Mount("/fer", app=create_app())``)."""

from __future__ import annotations

import atexit
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fer_cli.serve._engine import Engine, decode_image
from fer_cli.serve._errors import ApiError, error_response
from fer_cli.serve._jobs import JobManager
from fer_cli.serve._live import live_endpoint
from fer_cli.serve._settings import ServeSettings
from fer_cli.serve._uploads import receive_upload
from fer_cli.serve._videojob import OUTPUTS, describe_error, video_runner

log = logging.getLogger("fer_cli.serve")
STATIC = Path(__file__).resolve().parent / "static"


class RequestLog:
    """One log line per request (method, path without the query, status, bytes, milliseconds),
    and the catch-all: an exception that escapes a handler (a bug) is logged with its traceback
    and answered 500 ``{"error": ...}``, the traceback never sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": None, "bytes": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            elif message["type"] == "websocket.accept":
                seen["status"] = 101
            elif message["type"] == "websocket.close" and seen["status"] is None:
                seen["status"] = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method", "WS"), scope.get("path"))
            if scope["type"] == "http" and seen["status"] is None:
                seen["status"] = 500
                reply = error_response(500, "internal server error (logged on the server)")
                await reply(scope, receive, send)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %s %s %d B %.1f ms", client[0], scope.get("method", "WS"), scope.get("path"),
                     seen["status"], scope.get("http_version", ""), seen["bytes"],
                     (time.perf_counter() - start) * 1000)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: f"no such endpoint: {request.url.path} (GET /openapi.json lists them)",
                405: f"{request.method} is not allowed on {request.url.path}"}
    text = messages.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, text, dict(exc.headers or {}))


def create_app(settings: ServeSettings | None = None, *, engine: Engine | None = None,
               **options: Any) -> Starlette:
    """The server as an ASGI app. ``settings`` (or keyword ``options`` of
    :class:`ServeSettings`) say what it loads and allows; ``engine`` shares an already loaded
    model (tests, several apps in one process). The model loads here, so a bad name fails now.
    Video job workers start here too; the app's lifespan (or :func:`shutdown_app`) stops them.
    """
    if settings is None:
        settings = ServeSettings(**options)
    elif options:
        raise TypeError("give settings or keyword options, not both")
    engine = engine or Engine(settings)
    made_workdir = settings.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="fer-serve-")) if made_workdir else Path(settings.workdir or "")
    uploads = workdir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    jobs = JobManager(workdir / "jobs", video_runner(engine), workers=settings.workers,
                      queue_size=settings.queue_size, ttl=settings.job_ttl, describe_error=describe_error)
    jobs.start()

    def cleanup() -> None:
        jobs.stop()
        if made_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(cleanup)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        cleanup()
        atexit.unregister(cleanup)

    middleware = [Middleware(RequestLog)]
    if settings.token:
        from fer_cli.serve._auth import TokenMiddleware

        middleware.append(Middleware(TokenMiddleware, token=settings.token))
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST", "DELETE"],
                                     allow_headers=["Authorization", "X-Fer-Token", "Content-Type"]))
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/faces", faces, methods=["POST"]),
        Route("/v1/videos", videos, methods=["POST"]),
        Route("/v1/jobs/{job_id}", job, methods=["GET", "DELETE"]),
        Route("/v1/jobs/{job_id}/files/{kind}", job_file, methods=["GET"]),
        WebSocketRoute("/v1/live", live_endpoint),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error})
    app.state.settings = settings
    app.state.engine = engine
    app.state.jobs = jobs
    app.state.uploads = uploads
    app.state.workdir = workdir
    app.state.limiter = anyio.CapacityLimiter(settings.concurrency)
    app.state.cleanup = cleanup
    return app


def shutdown_app(app: Starlette) -> None:
    """Stop the job workers and remove the server's temporary folder (the lifespan does this)."""
    app.state.cleanup()


# -- endpoints ------------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def healthz(request: Request) -> Response:
    state = request.app.state
    import sys

    return JSONResponse({"status": "ok", "model": state.settings.model, "jobs": state.jobs.counts(),
                         "torch_loaded": sys.modules.get("torch") is not None})


async def openapi(request: Request) -> Response:
    from fer_cli.serve._openapi import schema

    return JSONResponse(schema(request.app.state.settings))


async def models(request: Request) -> Response:
    from fer_models import shipped_models

    engine: Engine = request.app.state.engine
    return JSONResponse({"loaded": engine.model_info(), "shipped": shipped_models()})


async def faces(request: Request) -> Response:
    state = request.app.state
    settings: ServeSettings = state.settings
    upload = await receive_upload(request, state.uploads, "image", settings.max_image_bytes)
    engine: Engine = state.engine

    def analyze() -> tuple[Any, list[dict[str, Any]]]:
        image = decode_image(upload.path, settings.max_pixels, "the uploaded image")
        return image, engine.faces(image)

    try:
        image, found = await anyio.to_thread.run_sync(analyze, limiter=state.limiter)
    finally:
        upload.path.unlink(missing_ok=True)
    return JSONResponse({"faces": found, "width": int(image.shape[1]), "height": int(image.shape[0]),
                         "model": settings.model, "classes": list(engine.classes)})


async def videos(request: Request) -> Response:
    state = request.app.state
    settings: ServeSettings = state.settings
    jobs: JobManager = state.jobs
    job_id, folder = jobs.new_folder()
    try:
        upload = await receive_upload(request, folder, "video", settings.max_video_bytes)
        frames = await anyio.to_thread.run_sync(_probe_video, upload.path, upload.filename)
        created = jobs.submit(job_id, folder, upload.path, _display_name(upload.filename), frames)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    body = created.to_json(jobs.ttl)
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{created.id}"})


def _display_name(filename: str | None) -> str | None:
    """The client's file name for display only: its last part, printable, at most 200 characters."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or None


def _probe_video(path: Path, filename: str | None) -> int | None:
    """The frame count a video declares, after decoding its first frame (a 422 when it cannot)."""
    from fer_core.errors import DataError
    from fer_temporal import frame_count, open_source

    try:
        frames = open_source(str(path))
        next(iter(frames), None)
        close = getattr(frames, "close", None)
        if close is not None:
            close()
    except DataError as exc:
        shown = _display_name(filename) or "the uploaded video"
        raise ApiError(422, str(exc).replace(str(path), shown)) from None
    return frame_count(str(path))


async def job(request: Request) -> Response:
    jobs: JobManager = request.app.state.jobs
    job_id = request.path_params["job_id"]
    if request.method == "DELETE":
        found = jobs.cancel(job_id)
        body = found.to_json(jobs.ttl)
        if found.status == "running":
            body["status"] = "cancelling"
        return JSONResponse(body, status_code=200)
    return JSONResponse(jobs.get(job_id).to_json(jobs.ttl))


async def job_file(request: Request) -> Response:
    jobs: JobManager = request.app.state.jobs
    found = jobs.get(request.path_params["job_id"])
    kind = request.path_params["kind"]
    if kind not in OUTPUTS:
        raise ApiError(404, f"no output {kind!r}: the outputs are {', '.join(OUTPUTS)}")
    if found.status != "done":
        raise ApiError(409, f"job {found.id} is {found.status}: its files are there once it is done")
    path = found.outputs.get(kind)
    if path is None or not path.is_file():
        raise ApiError(404, f"job {found.id} has no {kind} output")
    stem = Path(found.filename or "video").stem or "video"
    suffix = {"csv": ".csv", "json": ".json", "png": ".png", "video": ".annotated.mp4"}[kind]
    return FileResponse(path, media_type=OUTPUTS[kind], filename=f"{stem}{suffix}")
