"""Shared fixtures: the real data in ../shared (skipped with a message when missing), isolation,
tiny trained runs and a tiny saved ViT."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FER_SHARED_DIR", REPO.parent / "shared"))
FER2013_CSV = SHARED / "data" / "fer2013" / "fer2013.csv.gz"
FERPLUS_CSV = SHARED / "data" / "fer2013" / "ferplus_votes.csv.gz"
MEDIA = SHARED / "media"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repo); not found here")
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """Tests load only the toolkit's own plugins (fer_models, fer_temporal), and cache decodes in a
    per-session folder."""
    from fer_core import plugins

    monkeypatch.setenv("FER_LOAD_PLUGINS", "fer_models,fer_temporal")
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fer-cache"))
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture(scope="session")
def fer2013_csv() -> Path:
    return _need(FER2013_CSV)


@pytest.fixture(scope="session")
def ferplus_csv() -> Path:
    return _need(FERPLUS_CSV)


@pytest.fixture(scope="session")
def fer2013_slice(tmp_path_factory) -> Path:
    """A real slice of FER2013: the first 700 Training, 150 PublicTest and 150 PrivateTest rows."""
    import gzip

    src = _need(FER2013_CSV)
    out = tmp_path_factory.mktemp("fer2013") / "slice.csv"
    counts = {"Training": 0, "PublicTest": 0, "PrivateTest": 0}
    limits = {"Training": 700, "PublicTest": 150, "PrivateTest": 150}
    with gzip.open(src, "rt", newline="") as fh, open(out, "w", newline="") as dst:
        dst.write(fh.readline())
        for line in fh:
            usage = line.rstrip("\r\n").rsplit(",", 1)[1]
            if counts[usage] < limits[usage]:
                counts[usage] += 1
                dst.write(line)
            if counts == limits:
                break
    return out


def make_synthetic_dataset(per_class: int = 40, seed: int = 0):
    """A made-up, learnable FER-shaped dataset: class k is noise around grey level 10 + 35k.

    Splits Training/PublicTest/PrivateTest with roles train/select/report, like FER2013.
    """
    import torch

    from fer_core import NUM_CLASSES
    from fer_core.data import FerDataset

    g = torch.Generator().manual_seed(seed)
    images, labels, splits = [], [], []
    for split_id, n in enumerate((per_class, per_class // 2, per_class // 2)):
        for k in range(NUM_CLASSES):
            x = torch.randint(0, 20, (n, 1, 48, 48), generator=g, dtype=torch.uint8) + 35 * k
            images.append(x)
            labels += [k] * n
            splits += [split_id] * n
    return FerDataset(
        images=torch.cat(images), labels=torch.tensor(labels),
        split_ids=torch.tensor(splits, dtype=torch.int8),
        split_names=("Training", "PublicTest", "PrivateTest"),
        roles={"train": "Training", "select": "PublicTest", "report": "PrivateTest"},
        source="synthetic",
    )


@pytest.fixture
def synthetic_dataset():
    return make_synthetic_dataset()


@pytest.fixture(scope="session")
def synthetic_dataset_factory():
    """:func:`make_synthetic_dataset` itself, for fixtures of a wider scope."""
    return make_synthetic_dataset


@pytest.fixture
def one_thread():
    """Run torch on one thread: tiny batch-2 model steps are fastest so, and far faster than two
    threads when the cores are busy."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_tiny_run(root: Path, data: Path, *, seed: int = 0, tta: str = "none", steps: int = 3) -> Path:
    """A real run folder: a narrow small_cnn trained for a few steps on ``data``; returns the stage folder."""
    from fer_core import plugins
    from fer_core.config import ExperimentConfig
    from fer_core.training import Trainer

    config = ExperimentConfig.from_dict({
        "name": f"tiny-{seed}", "seed": seed, "device": "cpu",
        "data": {"path": str(data), "cache": False},
        "model": {"backbone": "small_cnn", "options": {"widths": [8, 16]}},
        "train": {"epochs": 1, "max_steps": steps, "batch_size": 32, "lr": 3e-3, "tta": tta},
    })
    trainer = Trainer(config, plugins=plugins.PluginSet.load(allow=["fer_models"]), run_root=root,
                      log=lambda _msg: None)
    trainer.fit()
    return trainer.run.path


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Torch on one CPU thread inside the block (training reproduces bitwise at a fixed count)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


#: the two tiny runs' settings (``tiny_runs``); ``tiny_rerun`` trains the second one again
TINY_RUNS = ({"seed": 0}, {"seed": 1, "tta": "flip"})


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory, fer2013_slice) -> list[Path]:
    """Two tiny trained runs on the real slice (seed 0 without TTA, seed 1 with flip TTA)."""
    with _one_thread():
        root = tmp_path_factory.mktemp("tiny-runs")
        return [train_tiny_run(root, fer2013_slice, **settings) for settings in TINY_RUNS]


@pytest.fixture(scope="session")
def tiny_rerun(tmp_path_factory, fer2013_slice) -> Path:
    """``tiny_runs[1]`` trained again: the same recipe, seed and thread count, in another folder."""
    with _one_thread():
        return train_tiny_run(tmp_path_factory.mktemp("tiny-rerun"), fer2013_slice, **TINY_RUNS[1])


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


@pytest.fixture(scope="session")
def media() -> Path:
    """The real test media folder (../shared/media)."""
    return _need(MEDIA)
