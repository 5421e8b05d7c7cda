"""Device choice: CUDA, then MPS, then CPU, unless the config names one."""

from __future__ import annotations

import torch

from fer_core.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; a named device must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device = 'cuda' but no CUDA device is available (use 'auto' or 'cpu')")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device = 'mps' but MPS is not available (use 'auto' or 'cpu')")
    return torch.device(name)
