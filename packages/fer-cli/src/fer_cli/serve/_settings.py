"""What one server is set up with: the model, the detector, the limits, the token, the job queue."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_core.errors import ConfigError

MB = 1024 * 1024


@dataclass
class ServeSettings:
    """Every setting of :func:`fer_cli.serve.create_app` (``fercli serve`` options map onto these).

    Limits: ``max_image_bytes`` per image upload (20 MB), ``max_video_bytes`` per video (500 MB),
    ``max_frame_bytes`` per live WebSocket frame (4 MB), ``max_pixels`` per image or frame. Jobs:
    ``workers`` threads analyze videos from a queue of at most ``queue_size`` waiting jobs; a
    finished, failed or cancelled job and its files are removed ``job_ttl`` seconds after it
    ended. ``concurrency`` images or live frames are analyzed at once (the rest wait). ``workdir``
    holds uploads and job outputs (default: a fresh temporary folder, removed at shutdown).
    """

    model: str = "default"
    backend: str = "auto"
    detector: str = "retinaface"
    detector_options: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None
    redetect_every: int = 5
    smoothing: str = "ema"
    alpha: float = 0.3
    window: int = 5
    min_length: float = 0.5
    max_image_bytes: int = 20 * MB
    max_video_bytes: int = 500 * MB
    max_frame_bytes: int = 4 * MB
    max_pixels: int = 64_000_000
    workers: int = 1
    queue_size: int = 8
    job_ttl: float = 3600.0
    concurrency: int = 2
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    workdir: Path | None = None

    def __post_init__(self) -> None:
        for name in ("max_image_bytes", "max_video_bytes", "max_frame_bytes", "max_pixels", "workers",
                     "queue_size", "concurrency", "redetect_every"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"serve: {name} must be >= 1, got {getattr(self, name)}")
        if self.job_ttl < 0:
            raise ConfigError(f"serve: job_ttl must be >= 0 seconds, got {self.job_ttl}")
        if self.token is not None and not self.token.strip():
            raise ConfigError("serve: the token is empty")
        self.cors_origins = tuple(self.cors_origins)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only listens on this machine."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface
