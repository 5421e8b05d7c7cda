"""Memory over a many-epoch training run: RSS after every epoch, to show it stays flat.

A small slice of the real FER2013 (``--per-class`` Training images of each class, PublicTest
and PrivateTest limited to ``--eval-limit``) trains for ``--epochs`` epochs with the features
that keep state across epochs all on: the adaptive sampler (per-class F1 history), EMA of the
weights, MixUp/CutMix, label smoothing, a checkpoint every epoch (``keep_last`` 2, sha256
manifest), evaluation with flip TTA every epoch, metrics.csv/jsonl appended every epoch, and
the end-of-run report with its plots. A plugin's ``after_epoch`` hook samples the process's RSS
(psutil) and the count of live Python objects (``gc``).

Reported: RSS after the first epoch, at the end of the first and last tenth of the epochs,
peak, and the least-squares slope over the middle 80% of the epochs (MB per 100 epochs); the
same for Python objects. Target (the robustness issue): flat over time.

    python benchmarks/train_memory.py [--epochs 150] [--per-class 100] [--eval-limit 500]
        [--threads 2] [--malloc-trim] [--out section.md]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import torch

import fer_core
from fer_core import hookimpl
from fer_core.config import ExperimentConfig
from fer_core.plugins import PluginSet
from fer_core.training import run_experiment
from fer_core.training._memory import release_free_memory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, emit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


class MemoryProbe:
    """Plugin: RSS (MB) and live Python objects after each epoch.

    With ``trim``, glibc's ``malloc_trim(0)`` (``release_free_memory``, which the Trainer also calls
    at each epoch's end) runs before each sample: it hands freed heap pages back to the system, so
    RSS that it removes was free memory the allocator kept (fragmentation), not memory in use.
    """

    def __init__(self, trim: bool = False) -> None:
        self.proc = psutil.Process()
        self.samples: list[tuple[int, float, int]] = []
        self.trim = trim

    @hookimpl
    def after_epoch(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        gc.collect()
        if self.trim:
            release_free_memory()
        self.samples.append((epoch, self.proc.memory_info().rss / 2**20, len(gc.get_objects())))


def config(args: argparse.Namespace, out: Path) -> ExperimentConfig:
    steps = -(-args.per_class * 7 // 64)  # batches per epoch: a checkpoint at each epoch end
    return ExperimentConfig.model_validate({
        "name": "train-memory", "seed": 0,
        "data": {"path": str(args.data), "subset_per_class": args.per_class, "eval_limit": args.eval_limit},
        "model": {"backbone": "small_cnn"},
        "train": {
            "epochs": args.epochs, "batch_size": 64, "optimizer": "adamw", "lr": 1e-3,
            "scheduler": "cosine", "strategy": "adaptive",
            "strategy_options": {"k": 2, "boost": [3.0, 5.0], "rule": "rank"},
            "loss": "cross_entropy", "loss_options": {"label_smoothing": 0.1}, "ema": 0.99,
            "tta": "flip", "checkpoint_every": steps, "keep_last": 2,
            "augment": {"hflip": True, "mixup": 0.2, "cutmix": 1.0, "mix_prob": 0.5},
        },
        "output": {"dir": str(out)},
    })


def _at(values: np.ndarray, i: int) -> float:
    return float(values[min(max(i, 0), len(values) - 1)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--eval-limit", type=int, default=500)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--malloc-trim", action="store_true",
                        help="glibc malloc_trim(0) before each sample (Linux): tells fragmentation from use")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    probe = MemoryProbe(trim=args.malloc_trim)
    plugins = PluginSet.load(allow=["fer_models"], extra={"memory-probe": probe})
    start_rss = probe.proc.memory_info().rss / 2**20
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run_experiment(config(args, Path(tmp)), plugins=plugins, out_root=Path(tmp), progress=False)
        gc.collect()
        end_rss = probe.proc.memory_info().rss / 2**20
    minutes = (time.perf_counter() - t0) / 60
    epochs = np.array([s[0] for s in probe.samples], dtype=float)
    rss = np.array([s[1] for s in probe.samples])
    objs = np.array([s[2] for s in probe.samples], dtype=float)
    k = len(epochs)
    lo, hi = k // 10, k - k // 10
    rss_slope = np.polyfit(epochs[lo:hi], rss[lo:hi], 1)[0] * 100
    obj_slope = np.polyfit(epochs[lo:hi], objs[lo:hi], 1)[0] * 100
    lines = [
        f"### Memory over {k} epochs of training", "",
        f"Command: `{command(__file__, argv)}`. {'malloc_trim(0) before each sample. ' * args.malloc_trim}"
        f"{args.per_class * 7} training "
        f"images, {args.eval_limit} PublicTest and PrivateTest images each, small_cnn; torch "
        f"{torch.__version__}, fer {fer_core.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}.", "",
        "| | after epoch 1 | end of first tenth | end of last tenth | peak | slope, middle 80% |",
        "|---|---|---|---|---|---|",
        f"| RSS (before the run: {start_rss:.0f} MB; after it: {end_rss:.0f} MB) | {rss[0]:.0f} MB "
        f"| {_at(rss, lo - 1):.0f} MB | {_at(rss, hi - 1):.0f} MB | {rss.max():.0f} MB "
        f"| {rss_slope:+.1f} MB per 100 epochs |",
        f"| live Python objects | {objs[0]:,.0f} | {_at(objs, lo - 1):,.0f} | {_at(objs, hi - 1):,.0f} "
        f"| {objs.max():,.0f} | {obj_slope:+,.0f} per 100 epochs |",
        "", f"Wall time {minutes:.1f} min.",
    ]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
