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


def face_patches() -> list[tuple[Image.Image, np.ndarray]]:
    """Six people's heads from the media (the five of ``multi_face.jpg``, the man of
    ``single_face.jpg``): each a square crop 1.3 times its labelled face box's longer side around
    it, and the face's box inside the crop."""
    out = []
    for file in ("multi_face.jpg", "single_face.jpg"):
        photo = Image.open(MEDIA / file).convert("RGB")
        for x0, y0, x1, y1 in labelled_boxes(file):
            cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.65 * max(x1 - x0, y1 - y0)
            box = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
            face = np.array([x0 - box[0], y0 - box[1], x1 - box[0], y1 - box[1]], float)
            out.append((photo.crop(box), face))
    return out


def background(size: tuple[int, int] = (640, 360), which: int = 0) -> Image.Image:
    """A face-less background: part ``which`` (0: the left half, 1: the right half, mirrored and
    tinted) of ``no_face.jpg`` (a mountain illustration), at ``size``."""
    photo = Image.open(MEDIA / "no_face.jpg").convert("RGB")
    half = photo.crop((0, 0, photo.width // 2, photo.height) if which == 0
                      else (photo.width // 2, 0, photo.width, photo.height))
    image = half.resize(size, Image.Resampling.BILINEAR)
    if which:
        image = Image.eval(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), lambda v: int(v * 0.7))
    return image


def paste_face(canvas: Image.Image, patch: tuple[Image.Image, np.ndarray], face_px: float,
               centre: tuple[float, float]) -> np.ndarray:
    """Paste ``patch`` (from :func:`face_patches`) on ``canvas`` (in place), scaled so its face is
    ``face_px`` wide, the face centred at ``centre``; returns the face's box in the canvas."""
    image, face = patch
    k = face_px / (face[2] - face[0])
    scaled = image.resize((max(1, round(image.width * k)), max(1, round(image.height * k))),
                          Image.Resampling.LANCZOS)
    sx, sy = scaled.width / image.width, scaled.height / image.height
    fx, fy = (face[0] + face[2]) / 2 * sx, (face[1] + face[3]) / 2 * sy
    ox, oy = round(centre[0] - fx), round(centre[1] - fy)
    canvas.paste(scaled, (ox, oy))
    return face * [sx, sy, sx, sy] + [ox, oy, ox, oy]
