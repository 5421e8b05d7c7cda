"""The annotated output video: each processed frame with its face boxes, track ids and labels.

Encoded with PyAV (H.264, yuv420p) at the stream's own timestamps (millisecond time base), so a
variable-frame-rate input keeps its timing. Written to ``NAME.partial.mp4`` and renamed when
complete, like the CSV.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from fer_temporal._plots import COLORS
from fer_temporal._sources import Frame


class AnnotatedVideoWriter:
    """Call it with ``(frame, rows)`` for each processed frame (the Analyzer's ``on_frame``)."""

    def __init__(self, path: str | Path, classes: tuple[str, ...], fps: float = 30.0,
                 codec: str = "libx264") -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.stem + ".partial" + self.path.suffix)
        self.classes = classes
        self.fps = fps
        self.codec = codec
        self._container: Any = None
        self._stream: Any = None
        self._last_pts = -1
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def _open(self, width: int, height: int) -> None:
        import av

        self._size = (width - width % 2, height - height % 2)  # yuv420p needs even sides
        self._container = av.open(str(self.partial), mode="w")
        stream = self._container.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1000))
        stream.width, stream.height = self._size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1000)
        self._stream = stream

    def __call__(self, frame: Frame, rows: list[dict[str, Any]]) -> None:
        import av

        h, w = frame.image.shape[:2]
        if self._container is None:
            self._open(w, h)
        image = Image.fromarray(frame.image)
        draw = ImageDraw.Draw(image)
        for row in rows:
            if not row.get("face_detected"):
                continue
            color = COLORS[self.classes.index(row["label"]) % len(COLORS)]
            box = (row["x0"], row["y0"], row["x1"], row["y1"])
            draw.rectangle(box, outline=color, width=max(2, w // 300))
            draw.text((row["x0"] + 3, max(0, row["y0"] - 14)),
                      f"#{row['track_id']} {row['label']} {row['label_prob']:.2f}", fill=color)
        assert self._size is not None  # set by _open
        width, height = self._size
        pixels = np.asarray(image)[:height, :width]
        if pixels.shape[:2] != (height, width):  # a frame of another size: fit it
            pixels = np.asarray(image.resize((width, height)))
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
        t = frame.time if frame.time is not None else frame.index / self.fps
        pts = max(round(t * 1000), self._last_pts + 1)
        video_frame.pts, video_frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self, complete: bool = True) -> Path | None:
        if self._container is None:
            return None
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
        if complete:
            os.replace(self.partial, self.path)
            return self.path
        return None
