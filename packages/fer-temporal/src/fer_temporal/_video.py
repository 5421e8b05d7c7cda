"""The annotated output video: each processed frame with its face boxes, track ids and labels
(drawn by :func:`fer_temporal._annotate.draw_rows`, as the annotated images are).

Encoded with PyAV (H.264, yuv420p) at the stream's own timestamps: the encoder and the stream
both count in milliseconds (``1/1000`` time base), so a variable-frame-rate input such as an
iPhone ``.mov`` keeps its timing, and two frames closer than ``1 / fps`` never collide on one
timestamp. Odd-sized frames are padded by one black row or column (yuv420p needs even sides).
Written to ``NAME.partial.mp4`` and renamed when complete, like the CSV; an encoder error becomes
a :class:`~fer_core.errors.DataError` naming the output and the frame.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fer_core.errors import DataError
from fer_temporal._annotate import draw_rows
from fer_temporal._sources import Frame

#: The encoder's and the output stream's time base: timestamps are whole milliseconds.
TIME_BASE = Fraction(1, 1000)


def even_size(width: int, height: int) -> tuple[int, int]:
    """The smallest even ``(width, height)`` that holds the frame (yuv420p needs even sides)."""
    return width + width % 2, height + height % 2


class AnnotatedVideoWriter:
    """Call it with ``(frame, rows)`` for each processed frame (the Analyzer's ``on_frame``).

    ``fps`` is the nominal rate written in the stream and the spacing of frames that carry no
    time of their own (images); frames with a time keep it.
    """

    def __init__(self, path: str | Path, classes: tuple[str, ...], fps: float = 30.0,
                 codec: str = "libx264", options: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.stem + ".partial" + self.path.suffix)
        self.classes = classes
        self.fps = fps
        self.codec = codec
        #: encoder options; libx264's "veryfast" preset: ~3x the speed of its default, no larger
        self.options = dict(options if options is not None else
                            ({"preset": "veryfast"} if codec == "libx264" else {}))
        self._container: Any = None
        self._stream: Any = None
        self._last_pts = -1
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def _open(self, width: int, height: int) -> None:
        import av

        self._size = even_size(width, height)
        self._container = av.open(str(self.partial), mode="w")
        stream = self._container.add_stream(self.codec, rate=Fraction(self.fps).limit_denominator(1000),
                                            options=self.options)
        stream.width, stream.height = self._size
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE  # else 1/fps: frames < 1/fps apart would collide
        self._stream = stream

    def _pixels(self, image: Image.Image) -> np.ndarray:
        """The annotated frame at the video's size: padded to even sides, or (a frame of
        another size than the first) resized to it."""
        assert self._size is not None
        w, h = self._size
        if image.size != (w, h):
            if 0 <= w - image.width <= 1 and 0 <= h - image.height <= 1:  # odd sides: pad
                padded = Image.new("RGB", (w, h))
                padded.paste(image, (0, 0))
                image = padded
            else:
                image = image.resize((w, h))
        return np.ascontiguousarray(np.asarray(image))

    def __call__(self, frame: Frame, rows: list[dict[str, Any]]) -> None:
        try:
            self._write(frame, rows)
        except DataError:
            raise
        except Exception as exc:  # av.FFmpegError, OSError (disk full), ...
            raise DataError(f"{frame.source} frame {frame.index}: cannot write the annotated video "
                            f"{self.partial}: {exc}") from None

    def _write(self, frame: Frame, rows: list[dict[str, Any]]) -> None:
        import av

        h, w = frame.image.shape[:2]
        if self._container is None:
            self._open(w, h)
        image = draw_rows(Image.fromarray(frame.image), rows, self.classes)
        video_frame = av.VideoFrame.from_ndarray(self._pixels(image), format="rgb24")
        t = frame.time if frame.time is not None else frame.index / self.fps
        pts = max(round(t * 1000), self._last_pts + 1)
        video_frame.pts, video_frame.time_base = pts, TIME_BASE
        self._last_pts = pts
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames += 1

    def finish(self) -> Path | None:
        """Flush the encoder and close the file; returns the complete (playable) partial file, not
        yet renamed, or None when no frame was written. A DataError (the partial removed) if the
        encoder or the disk fails."""
        if self._container is None:
            return None
        container, self._container = self._container, None
        try:
            for packet in self._stream.encode(None):
                container.mux(packet)
            container.close()
        except Exception as exc:
            _close_quietly(container)
            self.partial.unlink(missing_ok=True)
            raise DataError(f"cannot finish the annotated video {self.partial}: {exc}") from None
        return self.partial

    def abort(self, keep: bool = False) -> Path | None:
        """Stop after a failure: close what was written, and remove it unless ``keep`` (an
        interrupted run keeps its playable partial file: returned, or None when removed)."""
        if self._container is None:
            if not keep:
                self.partial.unlink(missing_ok=True)
            return self.partial if keep and self.partial.exists() else None
        try:
            return self.finish() if keep else None
        except DataError:
            return None
        finally:
            if self._container is not None:
                _close_quietly(self._container)
                self._container = None
            if not keep:
                self.partial.unlink(missing_ok=True)

    def close(self, complete: bool = True) -> Path | None:
        """:meth:`finish`, then (``complete``) rename the partial file to the final name and return
        it; else keep the partial file, closed and playable."""
        done = self.finish()
        if done is None or not complete:
            return None
        os.replace(done, self.path)
        return self.path


def _close_quietly(container: Any) -> None:
    with contextlib.suppress(Exception):  # already failing: the first error is the one to report
        container.close()
