"""Fixtures for the model tests: a tiny random ViT saved the way the Hugging Face hub serves one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

#: dima806/facial_emotions_image_detection's label order (not the toolkit's).
HUB_ORDER = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")


def save_tiny_vit(path: Path, labels: Sequence[str] = HUB_ORDER, image_size: int = 32, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random ViT and its image processor, ``save_pretrained`` into ``path``."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(seed)
    config = ViTConfig(image_size=image_size, patch_size=8, num_channels=3, hidden_size=32,
                       num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)})
    ViTForImageClassification(config).save_pretrained(path)
    ViTImageProcessor(size={"height": image_size, "width": image_size}).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_vit_dir(tmp_path_factory) -> Path:
    """A tiny ViT with the hub model's labels (the seven emotions, in another order)."""
    pytest.importorskip("transformers")
    return save_tiny_vit(tmp_path_factory.mktemp("tiny-vit"))


@pytest.fixture
def make_tiny_vit(tmp_path) -> Callable[..., Path]:
    """``make_tiny_vit(labels=..., name=...)``: another tiny ViT in tmp_path."""
    pytest.importorskip("transformers")

    def make(labels: Sequence[str] = HUB_ORDER, name: str = "vit", **kwargs) -> Path:
        return save_tiny_vit(tmp_path / name, labels, **kwargs)

    return make
