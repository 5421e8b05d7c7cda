"""Training step speed on the CPU by numeric format: float32 against bfloat16 autocast, with and
without channels_last, side by side in one run.

Why the shipped recipes set ``amp = "bf16"`` and ``channels_last = true``: on CPUs with AMX or
AVX-512 BF16 (``lscpu`` flags ``amx_bf16`` / ``avx512_bf16``), oneDNN runs bfloat16 convolutions
much faster than float32. The step is what the Trainer runs (``torch.autocast("cpu",
bfloat16)`` around the forward pass, loss in float32, SGD with Nesterov momentum and weight decay);
the weights and the optimizer stay float32. The four variants are built once each and timed in
interleaved rounds (median images/second), so machine noise hits all alike.

    python benchmarks/train_precision.py [--recipes default-model,fast-model] [--batch-size 128]
        [--seconds 2] [--rounds 5] [--threads 2] [--out section.md]

Each recipe is an experiment in examples/experiments/: its ``[model]`` backbone and options
(built through the plugin registry, as the Trainer does) at its training crop size.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from fer_core.classes import NUM_CLASSES
from fer_core.config import ExperimentConfig
from fer_core.plugins import PluginSet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, emit, images_per_second

RECIPES = Path(__file__).resolve().parents[1] / "examples" / "experiments"
VARIANTS = {"float32": (False, False), "float32 + channels_last": (False, True),
            "bf16 autocast": (True, False), "bf16 autocast + channels_last": (True, True)}


def recipe_model(name: str, plugins: PluginSet) -> tuple[Callable[[], torch.nn.Module], str, int]:
    """A builder of the recipe's network, its backbone name and its training input side."""
    cfg = ExperimentConfig.from_toml(RECIPES / f"{name}.toml")
    backbone = plugins.get("backbone", cfg.model.backbone)
    side = cfg.train.augment.crop_size or 48
    return (lambda: backbone.build(num_classes=NUM_CLASSES, in_chans=1, **cfg.model.options),
            cfg.model.backbone, side)


def train_step(build: Callable[[], torch.nn.Module], side: int, batch: int, bf16: bool,
               channels_last: bool) -> Callable[[], None]:
    """One Trainer-shaped optimizer step on a fixed random batch."""
    torch.manual_seed(0)
    model = build().train()
    x = torch.randn(batch, 1, side, side)
    y = torch.randint(0, 7, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def cpu_flags() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        flags = next(line for line in lines if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    wanted = ("amx_bf16", "avx512_bf16", "avx512f")
    return ", ".join(f for f in wanted if f in flags.split()) or "none of amx_bf16, avx512_bf16, avx512f"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="default-model,fast-model")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=2.0, help="per variant per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    plugins = PluginSet.load(allow=["fer_models"])
    lines = [
        "### Training step speed by numeric format (images/second)", "",
        f"Command: `{command(__file__, argv)}`. Batch {args.batch_size}, {args.threads} threads, median of "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per variant. torch {torch.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}; CPU flags: {cpu_flags()}.", "",
        "| recipe (backbone, input) | " + " | ".join(VARIANTS) + " | bf16 + channels_last vs float32 |",
        "|---|" + "---|" * (len(VARIANTS) + 1),
    ]
    for name in args.recipes.split(","):
        build, backbone, side = recipe_model(name, plugins)
        steps = {v: train_step(build, side, args.batch_size, *flags) for v, flags in VARIANTS.items()}
        samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for r in range(args.rounds):
            order = list(VARIANTS)[r % len(VARIANTS):] + list(VARIANTS)[:r % len(VARIANTS)]
            for v in order:
                samples[v].append(images_per_second(steps[v], args.batch_size, args.seconds))
        med = {v: statistics.median(s) for v, s in samples.items()}
        ratio = med["bf16 autocast + channels_last"] / med["float32"]
        cells = " | ".join(f"{med[v]:.0f}" for v in VARIANTS)
        lines.append(f"| {name} ({backbone}, {side}x{side}) | {cells} | {ratio:.2f}x |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
