"""Test material the benchmarks make from ../shared/media (never committed): a multi-face clip and
small-face frames, each with its face boxes mapped from the labels of ``tests/data/face_boxes.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "face_boxes.json"


def labels() -> list[dict]:
    """The labelled frames: ``{"file", "frame", "boxes": [[x0, y0, x1, y1], ...]}``, by eye."""
    return json.loads(LABELS.read_text())["images"]


def labelled_boxes(file: str, frame: int = 0) -> np.ndarray:
    (entry,) = (e for e in labels() if e["file"] == file and e["frame"] == frame)
    return np.array(entry["boxes"], dtype=float).reshape(-1, 4)


def multi_face_windows(frames: int = 90,
                       size: tuple[int, int] = (640, 360)) -> list[tuple[float, float, float]]:
    """A slow pan and zoom over ``multi_face.jpg`` (1000x667): each frame's window ``(x0, y0, width)``
    (16:9), from the whole width at the top down to 70% of it, drifting left to right."""
    out = []
    for i in range(frames):
        t = i / max(frames - 1, 1)
        width = 1000 * (1 - 0.3 * t)
        height = width * size[1] / size[0]
        x0 = (1000 - width) * t
        y0 = min(667 - height, 40 + 60 * t)
        out.append((x0, y0, width))
    return out


def write_multi_face_clip(path: Path, frames: int = 90, fps: int = 30,
                          size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    """``path``: an h264 clip of five faces (``multi_face.jpg`` panned and zoomed, see
    :func:`multi_face_windows`); returns each frame's face boxes, mapped from the photo's labels."""
    import av

    photo = Image.open(MEDIA / "multi_face.jpg").convert("RGB")
    faces = labelled_boxes("multi_face.jpg")
    boxes = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for x0, y0, width in multi_face_windows(frames, size):
            k = size[0] / width
            window = photo.resize(size, Image.Resampling.BILINEAR,
                                  box=(x0, y0, x0 + width, y0 + width * size[1] / size[0]))
            frame = av.VideoFrame.from_ndarray(np.asarray(window), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
            mapped = (faces - [x0, y0, x0, y0]) * k
            inside = ((mapped[:, 0] >= 0) & (mapped[:, 2] <= size[0])
                      & (mapped[:, 1] >= 0) & (mapped[:, 3] <= size[1]))
            boxes.append(mapped[inside])
        for packet in stream.encode():
            container.mux(packet)
    return boxes


def small_faces(face_px: int, size: tuple[int, int] = (640, 360)) -> tuple[np.ndarray, np.ndarray]:
    """``multi_face.jpg`` shrunk so its faces are about ``face_px`` wide (their median), pasted at
    the centre of a grey ``size`` frame; returns the frame and the mapped face boxes."""
    photo = Image.open(MEDIA / "multi_face.jpg").convert("RGB")
    faces = labelled_boxes("multi_face.jpg")
    k = face_px / float(np.median(faces[:, 2] - faces[:, 0]))
    shrunk = photo.resize((max(1, round(photo.width * k)), max(1, round(photo.height * k))),
                          Image.Resampling.LANCZOS)
    if shrunk.width > size[0] or shrunk.height > size[1]:
        raise ValueError(f"faces of {face_px} px need the photo larger than the {size} frame")
    canvas = Image.new("RGB", size, (128, 128, 128))
    ox, oy = (size[0] - shrunk.width) // 2, (size[1] - shrunk.height) // 2
    canvas.paste(shrunk, (ox, oy))
    sx, sy = shrunk.width / photo.width, shrunk.height / photo.height
    return np.asarray(canvas), faces * [sx, sy, sx, sy] + [ox, oy, ox, oy]
