"""Counting a model's compute: multiply-adds, FLOPs and parameters for one input.

Convention. :class:`torch.utils.flop_counter.FlopCounterMode` counts the matrix products and
convolutions (``mm``, ``addmm``, ``bmm``, convolution, attention) of one forward pass, at
**2 FLOPs per multiply-add**; biases, normalisation, activations, pooling and element-wise ops
are not counted. :func:`count_flops` reports that figure as ``flops`` and half of it as ``macs``
(multiply-adds). The toolkit's tables show **GMACs** (``macs / 1e9``) for one image.

fvcore, which the efficiency report used, counts one multiply-add as one "flop", so the report's
"GFLOPs" column is comparable with GMACs here, not with ``flops``.

>>> from torch import nn
>>> count_flops(nn.Linear(10, 4), input_size=(10,))
{'macs': 40, 'flops': 80, 'params': 44}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """The number of parameters (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def count_flops(model: nn.Module, input_size: Sequence[int] = (1, 48, 48)) -> dict[str, Any]:
    """Compute of one forward pass of one example of shape ``input_size`` (no batch dimension).

    Returns ``{"macs": multiply-adds, "flops": 2 * macs, "params": parameters}``. The model is
    run in eval mode under ``torch.no_grad`` on its own device and dtype; its training mode is
    restored afterwards.
    """
    try:
        ref = next(model.parameters())
        device, dtype = ref.device, ref.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.get_default_dtype()
    x = torch.zeros((1, *input_size), device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    flops = int(counter.get_total_flops())
    return {"macs": flops // 2, "flops": flops, "params": count_params(model)}
