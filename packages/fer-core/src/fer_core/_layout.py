"""The names of the files in a run folder (a leaf: config checks read them without the trainer)."""

from __future__ import annotations

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_CONFIG = "model.json"
BEST_CHECKPOINT = "checkpoints/best.pt"
