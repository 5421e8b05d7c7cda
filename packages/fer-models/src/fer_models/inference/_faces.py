"""Turning whatever faces a user has into the uint8 ``[N, 1, S, S]`` batch every model reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from fer_core.errors import DataError

#: ITU-R BT.601 luma, the weights PIL's ``convert("L")`` uses.
_LUMA = torch.tensor([0.299, 0.587, 0.114])
_CHANNELS = (1, 3, 4)
#: PIL modes read as gray (the rest as RGB; alpha composited on white, as fer_core.open_image does)
_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")


def _as_tensor(face: Any, where: str) -> torch.Tensor:
    if hasattr(face, "convert") and hasattr(face, "size"):  # a PIL image: as fer_core reads files
        from fer_core._images import to_mode, upright

        face = upright(face, where)  # a photo opened with Image.open: its EXIF orientation
        face = np.asarray(to_mode(face, "L" if face.mode in _GRAY_MODES else "RGB", where))
    if isinstance(face, np.ndarray):
        if face.dtype == np.uint16:  # 16-bit pixels: scaled to 8 bits (65535 -> 255), as files are
            face = ((face.astype(np.uint32) + 128) // 257).astype(np.uint8)
        face = torch.from_numpy(np.array(face, copy=not face.flags.writeable, order="C"))
    if not isinstance(face, torch.Tensor):
        raise DataError(f"{where}: expected a numpy array, torch tensor or PIL image, "
                        f"got {type(face).__name__}")
    if face.dtype == torch.bool or face.is_complex():
        raise DataError(f"{where}: unsupported dtype {face.dtype}")
    return face


def _to_unit(x: torch.Tensor, where: str) -> torch.Tensor:
    """Float pixels in [0, 1]: uint8 / 255; floats as given when they are in [0, 1], else / 255."""
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    x = x.float()
    if x.numel() and not torch.isfinite(x).all():
        raise DataError(f"{where}: pixels contain NaN or infinity")
    if x.numel() and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{where}: pixel values must be in [0, 1] (float) or [0, 255], "
                        f"got min {x.min().item():.3g}, max {x.max().item():.3g}")
    return x / 255.0 if x.numel() and x.max() > 1.0 else x


def _to_gray_nchw(x: torch.Tensor, where: str) -> torch.Tensor:
    """One image (2-D or HWC/CHW) or a batch (NHW, NHWC, NCHW) -> ``[N, 1, H, W]`` floats in [0, 1]."""
    shape = tuple(x.shape)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        # [N, H, W] is a batch of gray faces, [H, W, C] one color face (a single channels-first
        # image is ambiguous with a batch of three: pass it as [1, C, H, W])
        x = x.permute(2, 0, 1)[None] if shape[-1] in _CHANNELS else x[:, None]
    elif x.ndim == 4:
        if shape[1] in _CHANNELS:
            pass
        elif shape[-1] in _CHANNELS:
            x = x.permute(0, 3, 1, 2)
        else:
            raise DataError(f"{where}: a 4-D batch must be [N, C, H, W] or [N, H, W, C] with C in 1, 3, 4; "
                            f"got shape {shape}")
    else:
        raise DataError(f"{where}: expected a face [H, W], [H, W, C] or a batch [N, H, W], [N, C, H, W], "
                        f"[N, H, W, C]; got shape {shape}")
    if x.shape[-1] < 2 or x.shape[-2] < 2:
        raise DataError(f"{where}: a face must be at least 2x2 pixels, got shape {shape}")
    x = _to_unit(x, where)
    if x.shape[1] == 4:
        x = x[:, :3]  # alpha dropped
    if x.shape[1] == 3:
        x = (x * _LUMA.view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=max(x.shape[-2:]) > size)


def prepare_faces(faces: Any, size: int = 48) -> torch.Tensor:
    """uint8 ``[N, 1, size, size]`` from faces in any of the forms users have.

    ``faces`` is one face or a batch: numpy array, torch tensor or PIL image; uint8, uint16 or
    float (``[0, 1]``, or ``[0, 255]`` when larger than 1); a PIL image is taken upright (its
    EXIF orientation applied) in any mode, as :func:`fer_core.open_image` reads files; gray
    (``[H, W]``, ``[N, H, W]``, ``[N, 1, H, W]``), RGB or RGBA (``[H, W, C]``, ``[N, H, W, C]``,
    ``[N, C, H, W]``); any size (resized, not cropped: give face crops). A list or tuple may mix
    sizes and forms; each item is one face. Color becomes gray with the BT.601 weights PIL uses.

    >>> import numpy as np
    >>> prepare_faces(np.zeros((2, 64, 64, 3), dtype=np.uint8)).shape
    torch.Size([2, 1, 48, 48])
    """
    if isinstance(faces, (list, tuple)) or (isinstance(faces, Iterable) and not hasattr(faces, "shape")
                                            and not hasattr(faces, "convert")):
        items = list(faces)
        if not items:
            raise DataError("no faces given (an empty list)")
        parts = []
        for i, face in enumerate(items):
            x = _to_gray_nchw(_as_tensor(face, f"face {i}"), f"face {i}")
            if x.shape[0] != 1:
                raise DataError(f"face {i}: a list holds one face per item, got a batch of {x.shape[0]}")
            parts.append(_resize(x, size))
        x = torch.cat(parts)
    else:
        t = _as_tensor(faces, "faces")
        if _ready(t, size):  # already uint8 gray faces of the model's size: nothing to convert
            return t.reshape(len(t), 1, size, size)
        x = _resize(_to_gray_nchw(t, "faces"), size)
        if x.shape[0] == 0:
            raise DataError("no faces given (an empty batch)")
    return (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)


def _ready(t: torch.Tensor, size: int) -> bool:
    """A non-empty uint8 gray batch ``[N, S, S]`` or ``[N, 1, S, S]`` at ``size``."""
    gray = (t.ndim == 3 and t.shape[-1] not in _CHANNELS) or (t.ndim == 4 and t.shape[1] == 1)
    return t.dtype == torch.uint8 and gray and len(t) > 0 and tuple(t.shape[-2:]) == (size, size)
