""":func:`prepare_faces` in numpy alone, for the ONNX Runtime backend: the same uint8 faces.

It follows :mod:`fer_models.inference._faces` step for step (the same forms accepted, the same
errors, BT.601 gray, ``[0, 1]`` floats), and resizes as ``torch.nn.functional.interpolate``
(bilinear, ``align_corners=False``, antialiased when shrinking: the triangle filter over the
shrink factor, PIL's and torch's ``_upsample_bilinear2d_aa``) does, as two weight matrices.
Faces already gray uint8 at the model's size (the crops ``fer_temporal`` makes, the images
``fercli predict`` reads) pass through untouched, so both backends see the same bytes;
a resized face may differ from torch's by one grey level where rounding falls on a half
(``tests/models/test_onnx_runtime.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

from fer_core.errors import DataError

#: ITU-R BT.601 luma, the weights PIL's ``convert("L")`` uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_CHANNELS = (1, 3, 4)
#: PIL modes read as gray (the rest as RGB; alpha composited on white, as fer_core.open_image does)
_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")


def _as_array(face: Any, where: str) -> np.ndarray:
    if hasattr(face, "convert") and hasattr(face, "size"):  # a PIL image: as fer_core reads files
        from fer_core._images import to_mode, upright

        face = upright(face, where)
        face = np.asarray(to_mode(face, "L" if face.mode in _GRAY_MODES else "RGB", where))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(face, torch.Tensor):  # a tensor from a caller that has torch
        if face.dtype == torch.bool or face.is_complex():
            raise DataError(f"{where}: unsupported dtype {face.dtype}")
        face = face.detach().cpu().numpy()
    if not isinstance(face, np.ndarray):
        raise DataError(f"{where}: expected a numpy array, torch tensor or PIL image, "
                        f"got {type(face).__name__}")
    if face.dtype == np.uint16:  # 16-bit pixels: scaled to 8 bits (65535 -> 255), as files are
        face = ((face.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if face.dtype == np.bool_ or np.iscomplexobj(face) or not (np.issubdtype(face.dtype, np.number)):
        raise DataError(f"{where}: unsupported dtype {face.dtype}")
    return face


def _to_unit(x: np.ndarray, where: str) -> np.ndarray:
    """Float pixels in [0, 1]: uint8 / 255; floats as given when they are in [0, 1], else / 255."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    x = x.astype(np.float32)
    if x.size and not np.isfinite(x).all():
        raise DataError(f"{where}: pixels contain NaN or infinity")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{where}: pixel values must be in [0, 1] (float) or [0, 255], "
                        f"got min {x.min():.3g}, max {x.max():.3g}")
    return x / np.float32(255.0) if x.size and x.max() > 1.0 else x


def _to_gray_nchw(x: np.ndarray, where: str) -> np.ndarray:
    """One image (2-D or HWC/CHW) or a batch (NHW, NHWC, NCHW) -> ``[N, 1, H, W]`` floats in [0, 1]."""
    shape = tuple(x.shape)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x.transpose(2, 0, 1)[None] if shape[-1] in _CHANNELS else x[:, None]
    elif x.ndim == 4:
        if shape[1] in _CHANNELS:
            pass
        elif shape[-1] in _CHANNELS:
            x = x.transpose(0, 3, 1, 2)
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
        x = (x * _LUMA.reshape(1, 3, 1, 1)).sum(1, keepdims=True, dtype=np.float32)
    return x


def resize_weights(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """``[n_out, n_in]`` bilinear weights (rows sum to 1), as torch's ``interpolate`` computes them
    with ``align_corners=False`` (``antialias``: the triangle filter widened by the shrink factor)."""
    scale = n_in / n_out
    w = np.zeros((n_out, n_in), dtype=np.float64)
    if antialias:
        support = scale if scale >= 1.0 else 1.0
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        for i in range(n_out):
            center = scale * (i + 0.5)
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            j = np.arange(lo, hi)
            k = np.clip(1.0 - np.abs((j - center + 0.5) * invscale), 0.0, None)
            w[i, lo:hi] = k / k.sum() if k.sum() > 0 else 0.0
        return w.astype(np.float32)
    for i in range(n_out):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(src), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        w[i, i0] += 1.0 - lam
        w[i, i1] += lam
    return w.astype(np.float32)


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x
    antialias = max(h, w) > size
    wy, wx = resize_weights(h, size, antialias), resize_weights(w, size, antialias)
    return np.einsum("sh,nchw,tw->ncst", wy, x, wx, optimize=True).astype(np.float32)


def prepare_faces_numpy(faces: Any, size: int = 48) -> np.ndarray:
    """uint8 ``[N, 1, size, size]`` from faces in any form :func:`~fer_models.inference.prepare_faces`
    takes (torch tensors too, when the caller has torch), in numpy alone.

    >>> prepare_faces_numpy(np.zeros((2, 64, 64, 3), dtype=np.uint8)).shape
    (2, 1, 48, 48)
    """
    if isinstance(faces, (list, tuple)) or (isinstance(faces, Iterable) and not hasattr(faces, "shape")
                                            and not hasattr(faces, "convert")):
        items = list(faces)
        if not items:
            raise DataError("no faces given (an empty list)")
        parts = []
        for i, face in enumerate(items):
            x = _to_gray_nchw(_as_array(face, f"face {i}"), f"face {i}")
            if x.shape[0] != 1:
                raise DataError(f"face {i}: a list holds one face per item, got a batch of {x.shape[0]}")
            parts.append(_resize(x, size))
        x = np.concatenate(parts)
    else:
        a = _as_array(faces, "faces")
        if _ready(a, size):  # already uint8 gray faces of the model's size: nothing to convert
            return np.ascontiguousarray(a.reshape(len(a), 1, size, size))
        x = _resize(_to_gray_nchw(a, "faces"), size)
        if x.shape[0] == 0:
            raise DataError("no faces given (an empty batch)")
    return np.clip(np.round(x * np.float32(255.0)), 0, 255).astype(np.uint8)


def _ready(a: np.ndarray, size: int) -> bool:
    """A non-empty uint8 gray batch ``[N, S, S]`` or ``[N, 1, S, S]`` at ``size``."""
    gray = (a.ndim == 3 and a.shape[-1] not in _CHANNELS) or (a.ndim == 4 and a.shape[1] == 1)
    return a.dtype == np.uint8 and gray and len(a) > 0 and tuple(a.shape[-2:]) == (size, size)
