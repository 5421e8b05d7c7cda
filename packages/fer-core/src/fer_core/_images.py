"""Image files: the extensions every command reads, and the one function that opens them.

``fercli predict``, ``fercli analyze`` (files, folders and globs of frames) and the data layer's
folder form take the same extensions and open every file through :func:`open_image`, so each
sees the same pixels: upright as every viewer shows them (the EXIF orientation applied), in RGB
(or gray) uint8 whatever the file's mode. A GIF in a folder or given to ``predict`` is one image,
its first frame; given alone to ``fercli analyze`` an animated GIF is read like a video, every
frame.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fer_core.errors import DataError, FerWarning

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

#: Lower-case, with the dot, sorted.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

#: Images larger than this many pixels (8000 x 8000) are refused before decoding: a bigger one
#: is a decompression bomb or a scan no face model needs (PIL's own limit, ~179 MP, comes later).
MAX_PIXELS = 64_000_000

#: The EXIF tag of the orientation (1 = as stored; 2-8 = mirrored and/or rotated).
EXIF_ORIENTATION = 0x0112

#: Modes that carry an alpha channel: composited on white (a transparent background is not black).
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
#: Gray modes of more than 8 bits: scaled to 8 bits (PIL's convert would clip them at 255).
_WIDE_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class ImageWarning(FerWarning):
    """An image was read, but not all of it as stored (a corrupt EXIF block, ignored)."""


def _pil() -> Any:
    from PIL import Image

    return Image


def orientation(img: Image.Image, where: str = "image") -> int:
    """The EXIF orientation of ``img`` (1 when it has none); a corrupt EXIF block gives 1 and
    an :class:`ImageWarning` (the pixels are used as stored)."""
    try:
        value = img.getexif().get(EXIF_ORIENTATION, 1)
        value = int(value)
    except Exception as exc:  # PIL raises many kinds on a malformed EXIF block: none is fatal
        warnings.warn(f"{where}: unreadable EXIF data ({type(exc).__name__}: {exc}); "
                      f"orientation ignored, pixels used as stored", ImageWarning, stacklevel=3)
        return 1
    return value if 1 <= value <= 8 else 1


def upright(img: Image.Image, where: str = "image") -> Image.Image:
    """``img`` turned as its EXIF orientation says (a phone photo stored sideways comes out as
    every viewer shows it); ``img`` itself when no turn is needed (no copy)."""
    if orientation(img, where) == 1:
        return img
    from PIL import ImageOps

    try:
        turned = ImageOps.exif_transpose(img)
    except Exception as exc:  # a tag PIL read once but cannot rewrite: keep the stored pixels
        warnings.warn(f"{where}: cannot apply the EXIF orientation ({type(exc).__name__}: {exc}); "
                      f"pixels used as stored", ImageWarning, stacklevel=3)
        return img
    return turned if turned is not None else img


def _wide_gray_to_l(img: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float gray image scaled (not clipped) to 8 bits."""
    import numpy as np

    Image = _pil()
    a = np.asarray(img)
    if img.mode == "F":
        a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = float(a.max()) if a.size else 0.0
        scale = 255.0 if top <= 1.0 else (1.0 if top <= 255.0 else 255.0 / top)
        out = np.clip(a * scale, 0, 255).round()
    else:
        a = a.astype(np.int64)
        top = int(a.max()) if a.size else 0
        if img.mode.startswith("I;16") or 255 < top <= 65535:
            out = (np.clip(a, 0, 65535) + 128) // 257  # 65535 -> 255, 257 -> 1
        elif top <= 255:
            out = np.clip(a, 0, 255)
        else:  # 32-bit values beyond 16 bits: the full range onto 0-255
            out = np.clip(a, 0, None) * 255 // top
    return Image.fromarray(out.astype(np.uint8), mode="L")


def to_mode(img: Image.Image, mode: str = "RGB", where: str = "image") -> Image.Image:
    """``img`` in ``mode`` ("RGB" or "L"), 8 bits per channel, from any PIL mode.

    Transparency (RGBA, LA, P with a transparent color) is composited on white; CMYK and
    YCbCr are converted; 16-bit and 32-bit gray and float images are scaled to 8 bits, not
    clipped. A mode PIL cannot convert is a :class:`DataError` naming ``where``.
    """
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
    Image = _pil()
    if img.mode == mode and "transparency" not in img.info:
        return img
    try:
        if img.mode in _WIDE_GRAY:
            img = _wide_gray_to_l(img)
        elif img.mode in _ALPHA_MODES or (img.mode in ("P", "L", "RGB") and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img.alpha_composite(rgba)
        return img if img.mode == mode else img.convert(mode)
    except (ValueError, OSError) as exc:
        raise DataError(f"{where}: cannot convert its {img.mode} pixels to {mode}: {exc}") from None


def open_image(path: str | Path | IO[bytes], mode: str = "RGB", *,
               max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image at ``path``, decoded, upright (EXIF orientation applied) and in ``mode``
    ("RGB" or "L", 8 bits), as a PIL image detached from the file.

    An animated image (GIF, APNG, WebP, multi-page TIFF) gives its first frame. A corrupt EXIF
    block is ignored with an :class:`ImageWarning`. A file that is not an image, is damaged or
    truncated, or has more than ``max_pixels`` pixels is a :class:`DataError` naming it (one line).
    ``path`` may also be an open binary file (``io.BytesIO`` of an upload: ``fercli serve``).
    """
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
    with warnings.catch_warnings(record=True) as caught:  # PIL's own ("Corrupt EXIF data"): ours
        warnings.simplefilter("always")
        out = _open(path, mode, max_pixels)
    seen: set[str] = set()
    for w in caught:
        text = str(w.message).strip()
        if not text.startswith(str(path)):
            text = f"{path}: {text.rstrip('.')}"
        if "EXIF" in text and "as stored" not in text:
            text += " (EXIF ignored, pixels used as stored)"
        if text not in seen:
            seen.add(text)
            warnings.warn(text, ImageWarning, stacklevel=2)
    return out


def _open(path: str | Path | IO[bytes], mode: str, max_pixels: int) -> Image.Image:
    Image = _pil()
    from PIL import UnidentifiedImageError

    img = None
    try:
        img = Image.open(path)
        w, h = img.size
        if w * h > max_pixels:
            raise DataError(f"{path}: image is {w}x{h}, larger than the {max_pixels:,} pixels "
                            f"(8000x8000) this toolkit reads; downscale it first")
        img.seek(0)  # an animation: its first frame
        img.load()  # (closes the file of a single-frame image: the pixels are ours)
        out = to_mode(upright(img, str(path)), mode, str(path))
        if out is img and getattr(img, "fp", None) is not None:  # still tied to its file (GIF)
            out = img.copy()
        if out is not img:
            img.close()
        return out
    except BaseException as exc:
        if img is not None:
            img.close()
        if isinstance(exc, DataError):
            raise
        if isinstance(exc, Image.DecompressionBombError):
            raise DataError(f"{path}: cannot read image: too large to decode safely ({exc})") from None
        if isinstance(exc, UnidentifiedImageError):
            raise DataError(f"{path}: cannot read image: not an image, or a format PIL cannot read") from None
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise DataError(f"{path}: cannot read image: {exc.strerror or exc}") from None
        if isinstance(exc, MemoryError):
            raise DataError(f"{path}: cannot read image: not enough memory to decode it") from None
        if isinstance(exc, (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError)):
            reason = str(exc).rstrip(".") or type(exc).__name__
            raise DataError(f"{path}: cannot read image (damaged or truncated?): {reason}") from None
        raise


def rgb_array(img: Image.Image) -> np.ndarray:
    """An RGB PIL image as a contiguous uint8 ``[H, W, 3]`` array, copied in strips: the copy
    holds one extra strip, not the whole image twice as ``np.asarray`` would (``tobytes``)."""
    import numpy as np

    if img.mode != "RGB":
        raise ValueError(f"rgb_array needs an RGB image, got mode {img.mode}")
    w, h = img.size
    out = np.empty((h, w, 3), dtype=np.uint8)
    strip = max(1, (1 << 22) // max(1, 3 * w))  # ~4 MB per strip
    for top in range(0, h, strip):
        bottom = min(h, top + strip)
        out[top:bottom] = np.asarray(img.crop((0, top, w, bottom)))
    return out


def read_rgb(path: str | Path | IO[bytes], *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """:func:`open_image` as an RGB uint8 ``[H, W, 3]`` array (what a frame or a face is)."""
    img = open_image(path, "RGB", max_pixels=max_pixels)
    try:
        return rgb_array(img)
    finally:
        img.close()


__all__ = ["EXIF_ORIENTATION", "IMAGE_EXTENSIONS", "MAX_PIXELS", "ImageWarning", "open_image",
           "orientation", "read_rgb", "rgb_array", "to_mode", "upright"]
