"""Corruptions of what the video path really feeds a model, at five severities (ImageNet-C style).

A face from a video reaches the model as a small gray crop: blurred by motion or focus,
compressed by the codec, noisy, dark, cut from a small face and upsampled, slightly rotated,
framed a little off by the detector and alignment. Each corruption here models one of those on
uint8 face crops ``[N, C, H, W]`` (the toolkit's ``[N, 1, 48, 48]``), with five severities of
fixed parameters (:data:`SEVERITY_PARAMETERS`) as Hendrycks & Dietterich (ICLR 2019) did for
ImageNet-C. The filters are library functions (``torchvision.transforms.v2.functional``:
gaussian blur, gamma, resize; Pillow's JPEG codec; ``torch.nn.functional.grid_sample`` for the geometric
ones); only the random parts (noise, the sign of a rotation, the direction of a misframing) are
drawn, from the ``generator`` given, so a seeded evaluation or a training batch is reproducible.

>>> import torch
>>> faces = torch.full((2, 1, 48, 48), 128, dtype=torch.uint8)
>>> corrupt(faces, "jpeg", 3).shape, corrupt(faces, "low_light", 5).max().item() < 128
(torch.Size([2, 1, 48, 48]), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # torch is imported where it is used: configs import this module's names
    import torch

CorruptionName = Literal[
    "gaussian_blur", "jpeg", "gaussian_noise", "low_light", "small_face", "rotation", "misframing",
]

#: the corruptions, in the order of the robustness tables
CORRUPTIONS: tuple[str, ...] = (
    "gaussian_blur", "jpeg", "gaussian_noise", "low_light", "small_face", "rotation", "misframing",
)
SEVERITIES = 5

#: each corruption's parameter at severities 1..5 (what the tables' columns mean)
SEVERITY_PARAMETERS: dict[str, tuple[object, ...]] = {
    # sigma of the gaussian kernel, in pixels of a 48x48 face
    "gaussian_blur": (0.5, 0.8, 1.1, 1.5, 2.0),
    # JPEG quality (libjpeg through Pillow)
    "jpeg": (60, 40, 25, 15, 8),
    # sigma of additive gaussian noise, in [0, 1] pixel units
    "gaussian_noise": (0.02, 0.04, 0.06, 0.09, 0.12),
    # (gamma, gain): out = gain * in ** gamma on [0, 1]
    "low_light": ((1.3, 0.8), (1.6, 0.65), (2.0, 0.5), (2.4, 0.38), (2.8, 0.28)),
    # side in pixels the face is shrunk to (antialiased) before being upsampled back (bilinear)
    "small_face": (32, 24, 18, 14, 10),
    # degrees, clockwise or anticlockwise at random
    "rotation": (3, 6, 9, 12, 15),
    # (shift as a fraction of the side, zoom): a random direction, zoomed in or out at random
    "misframing": ((0.04, 1.05), (0.06, 1.10), (0.08, 1.15), (0.11, 1.20), (0.14, 1.25)),
}

PARAMETER_UNITS = {
    "gaussian_blur": "sigma px", "jpeg": "quality", "gaussian_noise": "sigma", "low_light": "gamma, gain",
    "small_face": "side px", "rotation": "degrees", "misframing": "shift, zoom",
}


def _check(images: torch.Tensor, name: str, severity: int) -> None:
    import torch

    if name not in SEVERITY_PARAMETERS:
        raise ValueError(f"unknown corruption {name!r}; expected one of {', '.join(CORRUPTIONS)}")
    if not (isinstance(severity, int) and 1 <= severity <= SEVERITIES):
        raise ValueError(f"severity must be an integer from 1 to {SEVERITIES}, got {severity!r}")
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ValueError(f"expected uint8 images [N, C, H, W], got {images.dtype} {tuple(images.shape)}")


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    import torch

    return x.round().clamp(0, 255).to(torch.uint8)


def _warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Per-image affine warp (``theta`` ``[N, 2, 3]``, output-to-input in normalised coordinates);
    the border is reflected, as a real crop shows more of the scene rather than black corners."""
    import torch.nn.functional as F

    x = images.float()
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return _to_uint8(F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False))


def _jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image through Pillow's JPEG encoder and decoder (libjpeg) at ``quality``."""
    import io

    import numpy as np
    import torch
    from PIL import Image

    out = []
    for img in images.cpu().numpy():
        pil = Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=quality)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert(pil.mode))
        out.append(back[None] if back.ndim == 2 else back.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)).to(images.device)


def _signs(n: int, generator: torch.Generator | None) -> torch.Tensor:
    import torch

    return torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)


def corrupt(images: torch.Tensor, name: str, severity: int,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """``images`` (uint8 ``[N, C, H, W]``) with corruption ``name`` at ``severity`` 1..5, uint8.

    Random parts come from ``generator`` (torch's global generator when ``None``).
    """
    import torch
    from torchvision.transforms.v2 import functional as TF

    _check(images, name, severity)
    if len(images) == 0:
        return images.clone()
    p: Any = SEVERITY_PARAMETERS[name][severity - 1]
    n, _, h, w = images.shape
    if name == "gaussian_blur":
        sigma = float(p)
        k = 2 * math.ceil(3 * sigma) + 1
        return _to_uint8(TF.gaussian_blur(images.float(), [k, k], [sigma, sigma]))
    if name == "jpeg":
        return _jpeg(images, int(p))
    if name == "gaussian_noise":
        noise = torch.randn(images.shape, generator=generator) * (float(p) * 255)
        return _to_uint8(images.float() + noise)
    if name == "low_light":
        gamma, gain = p
        return TF.adjust_gamma(images, gamma, gain)
    if name == "small_face":
        side = int(p)
        small = TF.resize(images.float(), [side, side], antialias=True)
        return _to_uint8(TF.resize(small, [h, w], antialias=False))
    if name == "rotation":
        angle = _signs(n, generator) * (float(p) * math.pi / 180)
        cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros(n)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        return _warp(images, theta)
    # misframing: the crop window shifted by a fraction of the side in a random direction, and
    # zoomed in (too tight a box) or out (too loose) at random
    shift, zoom = p
    direction = torch.rand(n, generator=generator) * (2 * math.pi)
    scale = torch.where(_signs(n, generator) > 0, 1 / zoom, zoom)  # window size relative to the face
    tx, ty = torch.cos(direction) * (2 * shift), torch.sin(direction) * (2 * shift)
    zero = torch.zeros(n)
    theta = torch.stack([torch.stack([scale, zero, tx], 1), torch.stack([zero, scale, ty], 1)], 1)
    return _warp(images, theta)


def corrupt_mixed(images: torch.Tensor, names: Sequence[str], prob: float, max_severity: int,
                  generator: torch.Generator) -> torch.Tensor:
    """Training augmentation: each image, with probability ``prob``, gets one of ``names`` at a
    severity from 1 to ``max_severity``, all drawn from ``generator`` (uint8 in, uint8 out).

    Draws nothing when ``names`` is empty or ``prob`` is 0, so configs without corruptions keep
    their random streams.
    """
    import torch

    if not names or prob <= 0 or len(images) == 0:
        return images
    n = len(images)
    on = torch.rand(n, generator=generator) < prob
    kind = torch.randint(len(names), (n,), generator=generator)
    severity = torch.randint(1, max_severity + 1, (n,), generator=generator)
    out = images.clone()
    for k, name in enumerate(names):
        for s in range(1, max_severity + 1):
            rows = torch.nonzero(on & (kind == k) & (severity == s)).flatten()
            if len(rows):
                out[rows] = corrupt(images[rows].cpu(), name, s, generator).to(images.device)
    return out


__all__ = [
    "CORRUPTIONS", "PARAMETER_UNITS", "SEVERITIES", "SEVERITY_PARAMETERS", "CorruptionName", "corrupt",
    "corrupt_mixed",
]
