"""``fercli serve``: the REST API, the live webcam page and video jobs (the ``fer-cli[serve]`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fer_cli._options import backend_option, inference_threads_option

EXTRA_HINT = "pip install 'fer-cli[serve]'"


def _need_extra() -> None:
    """One ClickException naming the extra when Starlette, uvicorn or python-multipart is missing."""
    import importlib.util

    missing = []
    for module in ("starlette", "uvicorn", "python_multipart", "websockets"):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module.replace("_", "-"))
    if missing:
        raise click.ClickException(f"fercli serve needs {', '.join(missing)}, not installed here: "
                                   f"{EXTRA_HINT}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any address beyond this machine (0.0.0.0, a LAN address) "
                   "needs a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--model", "model_ref", default="default", show_default=True,
              help="A shipped model's name, a run folder, model.safetensors, .onnx or ensemble.json.")
@click.option("--detector", default="retinaface", show_default=True, help="A registered face detector.")
@click.option("--detector-option", "detector_pairs", multiple=True, metavar="KEY=VALUE",
              help="An option of the detector, repeatable (as for fercli analyze).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Video jobs analyzed at the same time (threads of this process).")
@click.option("--queue-size", type=click.IntRange(min=1), default=8, show_default=True,
              help="Video jobs that may wait; beyond, POST /v1/videos answers 503.")
@click.option("--job-ttl", type=click.FloatRange(min=0), default=3600, show_default=True,
              help="Seconds a finished job and its files are kept.")
@click.option("--concurrency", type=click.IntRange(min=1), default=2, show_default=True,
              help="Images and live frames analyzed at the same time (the others wait).")
@click.option("--max-image-mb", type=click.FloatRange(min=0.001), default=20, show_default=True)
@click.option("--max-video-mb", type=click.FloatRange(min=0.001), default=500, show_default=True)
@click.option("--token", default=None, envvar="FER_SERVE_TOKEN", show_envvar=True,
              help="A secret every request must carry (Authorization: Bearer TOKEN, or ?token=). "
                   "Required when --host is not a loopback address.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Allow cross-origin requests from this origin (repeatable; default: none).")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for uploads and job outputs (default: a temporary folder, removed at exit).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@backend_option
@inference_threads_option
def serve(host: str, port: int, model_ref: str, detector: str, detector_pairs: tuple[str, ...], workers: int,
          queue_size: int, job_ttl: float, concurrency: int, max_image_mb: float, max_video_mb: float,
          token: str | None, cors_origins: tuple[str, ...], workdir: Path | None, log_level: str,
          backend: str, threads: int | None) -> None:
    """Serve the toolkit over HTTP: a REST API (POST /v1/faces, /v1/videos, GET /v1/jobs/ID,
    /v1/models, /healthz, /openapi.json), a live WebSocket (/v1/live) and a web page at /
    (webcam with boxes, labels and a timeline; photo and video upload).

    Needs the extra: pip install 'fer-cli[serve]'. Binds to 127.0.0.1 unless --host says
    otherwise; then a token (--token or FER_SERVE_TOKEN) is required on every request.
    """
    _need_extra()
    from fer_cli.commands.analyze import _detector_options
    from fer_cli.serve._settings import MB, ServeSettings, is_loopback

    token = token.strip() if token else None
    if not is_loopback(host) and not token:
        raise click.UsageError(f"--host {host} listens beyond this machine: give a token "
                               f"(--token or FER_SERVE_TOKEN) that every request must carry")
    options: dict[str, Any] = _detector_options(detector, detector_pairs, threads)
    settings = ServeSettings(model=model_ref, backend=backend, detector=detector, detector_options=options,
                             threads=threads, workers=workers, queue_size=queue_size, job_ttl=job_ttl,
                             concurrency=concurrency, max_image_bytes=int(max_image_mb * MB),
                             max_video_bytes=int(max_video_mb * MB), token=token,
                             cors_origins=cors_origins, workdir=workdir)
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    _run(settings, host, port, log_level)


def _listen(host: str, port: int) -> Any:
    """A listening socket on ``host:port``, or one line saying why not (a port in use, a bad host)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}"
                                   ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _run(settings: Any, host: str, port: int, log_level: str) -> None:
    import logging

    import uvicorn

    from fer_cli.serve import create_app

    logging.basicConfig(level=getattr(logging, log_level.upper()), format="%(asctime)s %(message)s")
    logging.getLogger("fer_cli.serve").setLevel(getattr(logging, log_level.upper()))
    sock = _listen(host, port)
    app = create_app(settings)
    port = sock.getsockname()[1]
    where = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    click.echo(f"fercli serve: model {settings.model} ({app.state.engine.model_info()['backend']}), "
               f"detector {settings.detector}, {settings.workers} job worker(s); {where}"
               + (" (token required)" if settings.token else ""), err=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False,
                            ws_max_size=settings.max_frame_bytes + 1024, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


__all__ = ["serve"]
