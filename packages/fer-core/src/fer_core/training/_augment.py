"""Batch augmentation as tensor ops, and the evaluation views (center crop, flip and ten-crop TTA).

Every image in a batch gets its own random crop, shift, rotation, zoom and flip, all folded into
one affine matrix per image and applied by a single ``grid_sample`` over the batch; brightness,
contrast and random erasing are per-image tensor arithmetic; MixUp and CutMix come from
``torchvision.transforms.v2``. No per-sample Python, no worker processes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from fer_core.config import AugmentConfig
from fer_core.training._transforms import STD


@contextlib.contextmanager
def single_threaded(enabled: bool = True) -> Iterator[None]:
    """Run the block on one intra-op CPU thread; the thread count is restored after it.

    The batch data path is some twenty tensor ops of a few hundred KB each. Split over threads
    they save 1-2 ms per batch of 64 on an idle machine, but every op waits for all threads of
    the pool, so on a busy CPU (other processes, DataLoader workers) one descheduled thread
    stalls each op for a time slice: measured on 2 busy cores, a median of 16 ms per batch on
    one thread against 300 ms on two. The results are the same either way.
    """
    before = torch.get_num_threads()
    if not enabled or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _uniform(n: int, low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g)


class BatchAugment:
    """Random augmentation of a normalised float batch ``[N, C, H, W]`` with labels.

    Returns the augmented batch (``crop_size`` square if set) and the targets: class indices,
    or soft targets ``[N, num_classes]`` when MixUp/CutMix mixed the batch or ``y`` was soft.
    All randomness but the MixUp/CutMix draw comes from ``generator``; that draw uses torch's
    global generator, which the trainer seeds and checkpoints.
    """

    def __init__(self, cfg: AugmentConfig, num_classes: int = 7):
        self.cfg = cfg
        self.num_classes = num_classes
        self.mix = self._mixer(num_classes)

    def _mixer(self, num_classes: int) -> Any:
        """torchvision's MixUp/CutMix (a RandomChoice of those configured), or None.

        torchvision is imported here, not at module level: it pulls in sympy and triton
        (about 2 s and 175 MB), which evaluation and inference never need.
        """
        c = self.cfg
        if c.mixup <= 0 and c.cutmix <= 0:
            return None
        from torchvision.transforms import v2

        mixers = []
        if c.mixup > 0:
            mixers.append(v2.MixUp(alpha=c.mixup, num_classes=num_classes))
        if c.cutmix > 0:
            mixers.append(v2.CutMix(alpha=c.cutmix, num_classes=num_classes))
        return v2.RandomChoice(mixers)

    def corrupt(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """uint8 ``images`` with ``corruptions`` applied (:func:`fer_core.corruptions.corrupt_mixed`),
        before the batch is normalised; unchanged (and nothing drawn) when none are configured."""
        c = self.cfg
        if not c.corruptions or c.corruption_prob <= 0:
            return images
        from fer_core.corruptions import corrupt_mixed

        return corrupt_mixed(images, c.corruptions, c.corruption_prob, c.corruption_severity, generator)

    def _affine(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.cfg
        n, _, h, w = x.shape
        out = c.crop_size or h
        if not (c.crop_size or c.translate or c.rotate or c.scale or c.hflip):
            return x
        angle = _uniform(n, -c.rotate, c.rotate, g) * (math.pi / 180)
        zoom = _uniform(n, 1 - c.scale, 1 + c.scale, g)
        # room for a random crop position plus the requested shift, in pixels
        slack = (h - out) / 2 + c.translate
        tx, ty = _uniform(n, -slack, slack, g), _uniform(n, -slack, slack, g)
        flip = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if c.hflip else torch.ones(n)
        frac = out / h  # the output window covers this fraction of the input
        cos, sin = torch.cos(angle) * frac / zoom, torch.sin(angle) * frac / zoom
        theta = torch.stack([
            torch.stack([cos * flip, -sin, tx * 2 / w], dim=1),
            torch.stack([sin * flip, cos, ty * 2 / h], dim=1),
        ], dim=1).to(x.device, x.dtype)
        grid = F.affine_grid(theta, [n, x.shape[1], out, out], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _photometric(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.cfg
        n = len(x)
        if c.contrast:
            factor = _uniform(n, 1 - c.contrast, 1 + c.contrast, g).to(x)[:, None, None, None]
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * factor + mean
        if c.brightness:
            # brightness in [0, 1] pixel units; the batch is normalised by STD
            x = x + (_uniform(n, -c.brightness, c.brightness, g) / STD).to(x)[:, None, None, None]
        return x

    def _erase(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.cfg
        if not c.erasing:
            return x
        n, _, h, w = x.shape
        area = _uniform(n, *c.erasing_area, g) * h * w
        log_ratio = _uniform(n, math.log(0.3), math.log(1 / 0.3), g)
        eh = torch.sqrt(area * torch.exp(log_ratio)).clamp(1, h).floor()
        ew = torch.sqrt(area / torch.exp(log_ratio)).clamp(1, w).floor()
        top = (torch.rand(n, generator=g) * (h - eh + 1)).floor()
        left = (torch.rand(n, generator=g) * (w - ew + 1)).floor()
        on = torch.rand(n, generator=g) < c.erasing
        rows = torch.arange(h)[None, :]
        cols = torch.arange(w)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
        mask = (in_rows[:, :, None] & in_cols[:, None, :] & on[:, None, None])[:, None].to(x.device)
        noise = torch.randn(x.shape, generator=g).to(x)
        return torch.where(mask, noise, x)

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._affine(x, generator)
        x = self._photometric(x, generator)
        x = self._erase(x, generator)
        if self.mix is not None and torch.rand(1, generator=generator).item() < self.cfg.mix_prob:
            if y.ndim == 2:
                # Soft labels: mix the batch's row indices as if each row were its own class;
                # row i of the result says how much of each image went into mixed image i.
                rows = self._mixer(len(x))
                x, weights = rows(x, torch.arange(len(x), device=x.device))
                y = weights.to(y) @ y
            else:
                x, y = self.mix(x, y)
        return x, y


def eval_views(x: torch.Tensor, crop_size: int | None, tta: str) -> list[torch.Tensor]:
    """The views of a normalised batch that evaluation averages over.

    ``none``: one view (the center crop when training used crops); ``flip``: that view and its
    mirror; ``tencrop``: four corner crops and the center crop, each also mirrored (needs
    ``crop_size`` smaller than the image).
    """
    h = x.shape[-1]
    c = crop_size or h
    off = (h - c) // 2
    center = x[..., off:off + c, off:off + c]
    if tta == "none":
        return [center]
    if tta == "flip":
        return [center, center.flip(-1)]
    if c == h:
        raise ValueError("tta = 'tencrop' needs [train.augment] crop_size smaller than the image")
    crops = [x[..., :c, :c], x[..., :c, h - c:], x[..., h - c:, :c], x[..., h - c:, h - c:], center]
    return crops + [v.flip(-1) for v in crops]
