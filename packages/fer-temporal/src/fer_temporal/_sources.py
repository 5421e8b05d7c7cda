"""Frame sources: video files, images, folders and globs, devices, and any iterable of frames.

Every source yields :class:`Frame` objects in order. ``time`` comes from the stream itself (a
video frame's presentation timestamp, ``pts * time_base``), never from ``index / fps``: a
variable-frame-rate file such as an iPhone ``.mov`` has frames at irregular times, and its
container's nominal fps says nothing about them.
"""

from __future__ import annotations

import glob
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_core import IMAGE_EXTENSIONS, MAX_PIXELS, read_rgb
from fer_core.errors import DataError

#: Image files, the same list ``fercli predict`` and the data layer accept: in a folder or a glob,
#: each is one frame (an animated GIF's first frame, as ``predict`` reads it).
IMAGE_SUFFIXES = IMAGE_EXTENSIONS

#: Image types that may hold an animation: given alone, such a file is decoded like a video
#: (every frame, at the file's own frame times); a still one gives its single frame.
ANIMATED_SUFFIXES = (".gif",)

#: Called with a message when a source is read only in part (e.g. a truncated video).
WarnCallback = Callable[[str], None]


def _warn(message: str) -> None:
    warnings.warn(message, SourceWarning, stacklevel=3)


class SourceWarning(UserWarning):
    """A source was read only in part: the frames before the problem were analyzed."""


@dataclass
class Frame:
    """One decoded frame: RGB uint8 ``[H, W, 3]``, its index in the source and its time in seconds."""

    index: int
    time: float | None
    image: np.ndarray
    source: str


def _rgb(array: Any, where: str) -> np.ndarray:
    """A frame as contiguous RGB uint8 ``[H, W, 3]`` (gray and RGBA converted)."""
    a = np.asarray(array)
    if a.dtype != np.uint8:
        if a.dtype.kind == "f" and a.size and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
            a = (a * 255).round().astype(np.uint8)
        elif a.dtype.kind in "iuf" and a.size and a.min() >= 0 and a.max() <= 255:
            a = a.astype(np.uint8)
        else:
            raise DataError(f"{where}: frame pixels must be uint8, or floats in [0, 1]; got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise DataError(f"{where}: a frame must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4]; "
                        f"got shape {tuple(np.shape(array))}")
    return np.ascontiguousarray(a)


def read_image(path: Path) -> np.ndarray:
    """One still image as RGB uint8 ``[H, W, 3]``, or a DataError naming the file.

    Read by :func:`fer_core.read_rgb`: upright as viewers show it (EXIF orientation applied; a
    corrupt EXIF block is ignored with a warning), any mode (gray, palette, CMYK; alpha on white;
    16-bit scaled to 8), an animation's first frame, at most :data:`MAX_PIXELS` pixels, and
    decoded into the array strip by strip (no second full-size copy).
    """
    return read_rgb(path, max_pixels=MAX_PIXELS)


def upright_frame(image: np.ndarray, rotation: int) -> np.ndarray:
    """A decoded video frame turned upright: ``rotation`` is the counter-clockwise angle of the
    stream's display matrix (PyAV's ``frame.rotation``; -90 for a phone's portrait video)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _rotation(frame: Any) -> int:
    """The display-matrix rotation of a decoded PyAV frame (0 when it has none or PyAV is old)."""
    try:
        return int(getattr(frame, "rotation", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _video_frames(path: str, device_format: str | None = None,
                  on_warning: WarnCallback = _warn) -> Iterator[Frame]:
    """Decode a video (or a device) with PyAV; time = the frame's own timestamp. Frames come out
    upright: a phone video's rotation (its display matrix) is applied to each.

    A file that cannot be opened, or whose first frame cannot be decoded, is a DataError. A
    video that breaks off later (truncated, damaged) yields the frames before the break and
    reports where decoding stopped through ``on_warning``.
    """
    import av

    if device_format is None and Path(path).is_file() and Path(path).stat().st_size == 0:
        raise DataError(f"{path}: cannot open video: the file is empty (0 bytes)")
    try:
        container = av.open(path, format=device_format)
    except (av.FFmpegError, OSError, ValueError) as exc:
        hint = " (not a video file, or a damaged or truncated one)" if device_format is None else ""
        raise DataError(f"{path}: cannot open video: {_reason(exc)}{hint}") from None
    with container:
        if not container.streams.video:
            raise DataError(f"{path}: no video stream in this file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index, last_time = 0, None
        try:
            for frame in container.decode(stream):
                last_time = None if frame.time is None else float(frame.time)
                image = upright_frame(frame.to_ndarray(format="rgb24"), _rotation(frame))
                yield Frame(index, last_time, image, path)
                index += 1
        except (av.FFmpegError, OSError, ValueError) as exc:
            if index == 0:
                raise DataError(f"{path}: cannot decode the video (frame 0): {_reason(exc)}") from None
            on_warning(f"{path}: decoding stopped at frame {index} ({_reason(exc)}); "
                       f"only frames 0-{index - 1} were read")
            return
        if index == 0:
            raise DataError(f"{path}: the video has no decodable frames")
        short = _ended_early(stream, index, last_time)
        if short:
            on_warning(f"{path}: decoding stopped at frame {index}, {short} (truncated?); "
                       f"only frames 0-{index - 1} were read")


def _ended_early(stream: Any, frames: int, last_time: float | None) -> str | None:
    """How the stream fell short of what its container declares (frame count and duration),
    when it clearly did: a truncated file decoded with frame threads ends without an error."""
    declared = int(stream.frames or 0)
    if not declared or frames >= declared or stream.duration is None or stream.time_base is None:
        return None
    start = float((stream.start_time or 0) * stream.time_base)
    duration = float(stream.duration * stream.time_base)
    if last_time is None or duration <= 0 or last_time - start >= duration - 1.5 * duration / declared:
        return None
    return (f"{last_time - start:.2f} s into the {declared} frames / {duration:.2f} s "
            f"its container declares")


def _reason(exc: BaseException) -> str:
    """An FFmpeg error without the file name PyAV appends (the message names it already)."""
    text = str(exc)
    strerror = getattr(exc, "strerror", None)
    return strerror or text


def _image_files(paths: Iterable[Path]) -> Iterator[Frame]:
    for index, path in enumerate(paths):
        yield Frame(index, None, read_image(path), str(path))


def _iterable_frames(frames: Iterable[Any], name: str) -> Iterator[Frame]:
    """Arrays, ``(array, time)`` pairs, or Frame objects."""
    for index, item in enumerate(frames):
        if isinstance(item, Frame):
            yield Frame(index, item.time, _rgb(item.image, f"{name} frame {index}"), name)
            continue
        time = None
        if isinstance(item, tuple) and len(item) == 2:
            item, time = item
            time = float(time)
        yield Frame(index, time, _rgb(item, f"{name} frame {index}"), name)


def open_source(source: Any, *, name: str | None = None, on_warning: WarnCallback = _warn) -> Iterator[Frame]:
    """Frames of ``source``, decoded lazily (never all held).

    ``source`` is a video file (mp4, mov incl. HEVC, avi, mkv, webm, gif...), an image file, a
    folder of images (sorted by name), a glob pattern (``"frames/*.png"``), a device
    (``"device:0"`` or ``"/dev/video0"``: a webcam through FFmpeg's v4l2 input), or any
    iterable of frames: numpy arrays (gray, RGB or RGBA; uint8, or floats in [0, 1]),
    ``(array, time_in_seconds)`` pairs, or :class:`Frame` objects.

    Image files are those of :data:`IMAGE_SUFFIXES`; a GIF given alone is read as an animation
    (every frame), in a folder or glob as one frame. A source that cannot be read is a
    :class:`~fer_core.errors.DataError` naming it; a video that breaks off after some frames
    yields those and calls ``on_warning`` (default: a :class:`SourceWarning`) naming the frame
    where decoding stopped.
    """
    if isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith("device:") or text.startswith("/dev/video"):
            device = f"/dev/video{text.split(':', 1)[1]}" if text.startswith("device:") else text
            return _video_frames(device, device_format="v4l2", on_warning=on_warning)
        path = Path(text).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not files:
                raise DataError(f"{path}: no image files ({', '.join(IMAGE_SUFFIXES)}) in this folder")
            return _image_files(files)
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix in IMAGE_SUFFIXES and suffix not in ANIMATED_SUFFIXES:
                return _image_files([path])
            return _video_frames(str(path), on_warning=on_warning)
        if any(ch in text for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(text) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise DataError(f"{text}: the pattern matches no image files")
            return _image_files(files)
        raise DataError(f"{text}: no such file, folder or device")
    if isinstance(source, np.ndarray):
        if source.ndim == 4:  # a stack of frames [T, H, W, C]
            return _iterable_frames(iter(source), name or "array")
        return _iterable_frames([source], name or "array")
    if isinstance(source, Iterable):
        return _iterable_frames(source, name or "frames")
    raise DataError(f"cannot read frames from a {type(source).__name__}: give a path, a device or an "
                    f"iterable of arrays")


def source_kind(source: Any) -> str:
    """What ``source`` is, for the outputs that depend on it (the annotated copy): ``"image"``
    (one still image file: an annotated JPEG), ``"images"`` (a folder or glob of image files:
    one annotated JPEG per frame) or ``"stream"`` (a video, an animated GIF, a device, arrays:
    an annotated video)."""
    if not isinstance(source, (str, Path)) or str(source).startswith(("device:", "/dev/video")):
        return "stream"
    path = Path(str(source)).expanduser()
    if path.is_dir():
        return "images"
    if path.is_file():
        suffix = path.suffix.lower()
        return "image" if suffix in IMAGE_SUFFIXES and suffix not in ANIMATED_SUFFIXES else "stream"
    return "images" if any(ch in str(source) for ch in "*?[") else "stream"


def frame_count(source: Any) -> int | None:
    """How many frames ``source`` holds, when that is known without decoding it (else None).

    Video files: the count the container declares (None when it declares none); an image: 1;
    a folder or glob: its image files; arrays: their length. For progress bars only: a
    container's count can be wrong (``open_source`` yields what the stream really holds).
    """
    if isinstance(source, np.ndarray):
        return len(source) if source.ndim == 4 else 1
    if not isinstance(source, (str, Path)) or str(source).startswith(("device:", "/dev/video")):
        return None
    path = Path(str(source)).expanduser()
    if path.is_dir():
        return sum(p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() for p in path.iterdir())
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES and path.suffix.lower() not in ANIMATED_SUFFIXES:
            return 1
        import av

        try:
            with av.open(str(path)) as container:
                streams = container.streams.video
                return (int(streams[0].frames) or None) if streams else None
        except (av.FFmpegError, OSError, ValueError):
            return None  # open_source will name what is wrong
    if any(ch in str(source) for ch in "*?["):
        return sum(Path(p).suffix.lower() in IMAGE_SUFFIXES for p in glob.glob(str(source)))
    return None


def sample_frames(frames: Iterable[Frame], *, stride: int = 1, fps: float | None = None) -> Iterator[Frame]:
    """Every ``stride``-th frame, or frames at most ``fps`` per second of stream time.

    With ``fps``, a frame is kept when its time reaches the next slot (``1 / fps`` after the
    previous slot); frames without a time fall back to the stride.
    """
    if stride < 1:
        raise DataError(f"stride must be >= 1, got {stride}")
    if fps is not None and fps <= 0:
        raise DataError(f"fps must be > 0, got {fps}")
    next_slot: float | None = None
    for frame in frames:
        if fps is not None and frame.time is not None:
            if next_slot is None or frame.time >= next_slot - 1e-9:
                base = frame.time if next_slot is None else next_slot
                next_slot = base + 1.0 / fps
                while next_slot <= frame.time:  # a gap in the stream: catch up
                    next_slot += 1.0 / fps
                yield frame
        elif frame.index % stride == 0:
            yield frame
