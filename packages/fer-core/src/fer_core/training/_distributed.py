"""DistributedDataParallel set-up from ``torchrun``'s environment (gloo on CPU, nccl on CUDA)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when started by ``torchrun`` (``WORLD_SIZE`` > 1); else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    info = DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)
    return info


def shard(order: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """This rank's share of an epoch's draw (every rank draws the same order from the same seed)."""
    if not info.enabled:
        return order
    usable = len(order) - len(order) % info.world  # equal shares keep the ranks in step
    return order[info.rank:usable:info.world]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_state(module: torch.nn.Module, info: DistInfo, *, buffers_only: bool = False) -> None:
    """Copy rank 0's buffers (and parameters) to every rank.

    DDP keeps parameters in step but BatchNorm statistics drift per rank between its buffer
    broadcasts; doing this before each evaluation keeps every rank's decisions (best epoch,
    early stopping) identical.
    """
    if not info.enabled:
        return
    tensors = list(module.buffers()) if buffers_only else [*module.parameters(), *module.buffers()]
    for t in tensors:
        dist.broadcast(t.data, src=0)
