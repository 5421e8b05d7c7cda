"""Untrusted uploads: size limits while the bytes arrive, the type sniffed from the bytes, and
files named by the server.

An upload is a multipart form's ``file`` field or the raw request body. It streams into
``<folder>/<random hex>.part`` and is refused (413) as soon as it passes its limit, so an upload
never takes more than its limit on disk; then its first bytes say what it is (the name and the
``Content-Type`` the client gave are never trusted), and it is renamed ``<random hex><suffix>``
with the suffix of the sniffed type. No part of a client's file name ever reaches a path.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from fer_cli.serve._errors import ApiError

#: (kind, name, suffix) by magic bytes at offset 0
_MAGIC: tuple[tuple[bytes, str, str, str], ...] = (
    (b"\xff\xd8\xff", "image", "JPEG", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image", "PNG", ".png"),
    (b"GIF87a", "image", "GIF", ".gif"),
    (b"GIF89a", "image", "GIF", ".gif"),
    (b"BM", "image", "BMP", ".bmp"),
    (b"II*\x00", "image", "TIFF", ".tif"),
    (b"MM\x00*", "image", "TIFF", ".tif"),
    (b"\x1a\x45\xdf\xa3", "video", "Matroska/WebM", ".mkv"),
    (b"YUV4MPEG2", "video", "Y4M", ".y4m"),
)
#: ISO base media boxes that may open an MP4 or a QuickTime file
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
IMAGE_TYPES = "JPEG, PNG, GIF, BMP, TIFF or WebP"
VIDEO_TYPES = "MP4, MOV, M4V, 3GP, MKV, WebM, AVI or Y4M"


@dataclass(frozen=True)
class Sniffed:
    """What an upload's bytes are: ``kind`` (image or video), a ``name`` for messages, a ``suffix``."""

    kind: str
    name: str
    suffix: str


def sniff(head: bytes) -> Sniffed | None:
    """The type of a file from its first bytes (at least 16), or None when it is none we read."""
    for magic, kind, name, suffix in _MAGIC:
        if head.startswith(magic):
            return Sniffed(kind, name, suffix)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "WebP", ".webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video", "AVI", ".avi")
    if head[4:8] in _ISO_BOXES:
        brand = head[8:12]
        if brand == b"qt  ":
            return Sniffed("video", "QuickTime", ".mov")
        if brand in (b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"):
            return None  # HEIF/AVIF stills: not a format this toolkit reads
        return Sniffed("video", "MP4", ".mp4")
    return None


def _describe(head: bytes) -> str:
    """A hint of what some bytes are, for the message that refuses them."""
    if not head:
        return "nothing"
    text = head[:64]
    if text.lstrip().startswith((b"<", b"{", b"[")) or all(32 <= c < 127 or c in (9, 10, 13) for c in text):
        return "text"
    return "bytes of an unknown type"


@dataclass
class Upload:
    """A received upload: the server's file, its sniffed type, its size and the client's file name
    (kept for messages and output names only, never for paths)."""

    path: Path
    type: Sniffed
    size: int
    filename: str | None


def new_name(suffix: str = "") -> str:
    """A fresh random file name (128 bits of hex)."""
    return secrets.token_hex(16) + suffix


class _Sink:
    """Bytes to one file, refused once past ``limit``."""

    def __init__(self, path: Path, limit: int, what: str) -> None:
        self.path, self.limit, self.what = path, limit, what
        self.size = 0
        self.head = b""
        self.fh = open(path, "wb")  # noqa: SIM115 (closed by close(), also on errors)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise ApiError(413, f"the {self.what} is larger than the {_size(self.limit)} this server takes")
        if len(self.head) < 64:
            self.head += data[:64 - len(self.head)]
        self.fh.write(data)

    def close(self) -> None:
        self.fh.close()


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n} bytes"


async def receive_upload(request: Request, folder: Path, kind: str, limit: int) -> Upload:
    """The upload of ``request`` (multipart field ``file``, or the raw body) as a file in ``folder``,
    of ``kind`` ``"image"`` or ``"video"``; an :class:`ApiError` (400, 413, 415) says what was wrong.
    The caller removes the file when done with it."""
    what = "image" if kind == "image" else "video"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise ApiError(413, f"the {what} is larger than the {_size(limit)} this server takes "
                            f"(Content-Length {declared})")
    part = folder / new_name(".part")
    sink = _Sink(part, limit, what)
    filename: str | None = None
    try:
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            filename = await _multipart(request, content_type, sink, what)
        else:
            async for chunk in request.stream():
                sink.write(chunk)
        sink.close()
        if sink.size == 0:
            raise ApiError(400, f"the upload is empty: send the {what} as the multipart form field 'file' "
                                f"or as the request body")
        found = sniff(sink.head)
        expected = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
        if found is None:
            raise ApiError(415, f"not a{'n' if kind == 'image' else ''} {what} ({expected}): its bytes "
                                f"are {_describe(sink.head)}")
        if found.kind != kind and not (kind == "video" and found.name == "GIF"):
            hint = "; send photos to POST /v1/faces" if found.kind == "image" else \
                "; send videos to POST /v1/videos"
            raise ApiError(415, f"not a{'n' if kind == 'image' else ''} {what} ({expected}): its bytes "
                                f"are a {found.name} {found.kind}{hint}")
        final = folder / new_name(found.suffix)
        os.replace(part, final)
        return Upload(final, found, sink.size, filename)
    except BaseException:
        sink.close()
        with contextlib.suppress(OSError):
            part.unlink()
        raise


async def _multipart(request: Request, content_type: str, sink: _Sink, what: str) -> str | None:
    """Stream a multipart body: the ``file`` field to ``sink``, other (small) fields ignored."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "multipart/form-data without a boundary")
    state: dict[str, Any] = {"field": None, "header": b"", "value": b"", "headers": {}, "found": False,
                             "filename": None, "other": 0}

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("latin-1")
        state["field"] = name
        if name == "file":
            if state["found"]:
                raise ApiError(400, "more than one 'file' field: send one file per request")
            state["found"] = True
            raw = disp.get(b"filename")
            state["filename"] = raw.decode("utf-8", "replace") if raw else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["field"] == "file":
            sink.write(data[start:end])
        else:
            state["other"] += end - start
            if state["other"] > 64 * 1024:
                raise ApiError(413, "the form's other fields are larger than 64 KB")

    callbacks: Any = {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                      "on_header_value": on_header_value, "on_header_end": on_header_end,
                      "on_headers_finished": on_headers_finished, "on_part_data": on_part_data}
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ApiError:
        raise
    except Exception as exc:  # python-multipart's parse errors
        raise ApiError(400, f"malformed multipart/form-data body: {exc}") from None
    if not state["found"]:
        raise ApiError(400, f"no 'file' field in the form: send the {what} as the field 'file'")
    return state["filename"]
