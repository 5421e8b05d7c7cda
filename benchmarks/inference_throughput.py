"""Inference throughput of every registered backbone: PyTorch eager against ONNX Runtime, batch 1 and 64.

For each backbone (random init, 1x48x48 input, 7 classes, eval mode) the model is exported with
``fer_models.inference.export_onnx`` (the exporter ``fercli export`` uses) and run by
``fer_models.inference.OnnxModel`` (ONNX Runtime, CPU provider). Both backends get the same
normalised float batch and the same thread count (``--threads``, default 2: intra-op threads for
both). Timed is the model call only (``model(x)`` under ``torch.inference_mode`` for eager,
``session.run`` for ONNX Runtime): face preprocessing is the same for both and not included.

The four configurations (eager/ONNX x batch 1/64) of a backbone are timed in interleaved rounds,
the order rotated each round; each timing runs the call repeatedly for ``--seconds`` after one
untimed call, and the table shows the median images/second over ``--rounds`` rounds. The largest
absolute difference between the two backends' logits on the batch of 64 is shown as a check.

Backbones that need an option to be built at all (``timm``: a model name; ``hf_vit``: a saved
model) are skipped.

    python benchmarks/inference_throughput.py [--models a,b] [--rounds 3] [--seconds 1.0]
        [--threads 2] [--out section.md]
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import fer_core
from fer_core.plugins import PluginSet
from fer_models.flops import count_flops
from fer_models.inference import OnnxModel, export_onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import images_per_second

NEEDS_OPTIONS = {"timm", "hf_vit"}
BATCHES = (1, 64)


def bench_backbone(name: str, plugins: PluginSet, rounds: int, seconds: float, tmp: Path) -> dict:
    torch.manual_seed(0)
    model = plugins.get("backbone", name).build(num_classes=7, in_chans=1).eval()
    cost = count_flops(model)
    path = export_onnx(model, tmp / f"{name}.onnx", {"backbone": name})
    onnx = OnnxModel(path, threads=torch.get_num_threads())
    inputs = {b: torch.randn(b, 1, 48, 48) for b in BATCHES}

    def eager(b: int) -> Callable[[], object]:
        def call() -> object:
            with torch.inference_mode():
                return model(inputs[b])
        return call

    def ort(b: int) -> Callable[[], object]:
        return lambda: onnx(inputs[b])

    configs = {(backend, b): (eager(b) if backend == "eager" else ort(b))
               for backend in ("eager", "onnx") for b in BATCHES}
    samples: dict[tuple[str, int], list[float]] = {k: [] for k in configs}
    keys = list(configs)
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            samples[key].append(images_per_second(configs[key], key[1], seconds))
    with torch.inference_mode():
        diff = float((model(inputs[64]) - onnx(inputs[64])).abs().max())
    return {"name": name, "params": cost["params"], "gmacs": cost["macs"] / 1e9, "diff": diff,
            **{f"{backend}_{b}": statistics.median(v) for (backend, b), v in samples.items()}}


def markdown(rows: list[dict], args: argparse.Namespace, command: str) -> str:
    lines = [
        "### Inference throughput (images/second, median of "
        f"{args.rounds} rounds of {args.seconds:g} s, {args.threads} threads)", "",
        f"Command: `{command}`. torch {torch.__version__}, onnxruntime {_ort_version()}, "
        f"fer {fer_core.__version__}, Python {platform.python_version()}, {platform.machine()}.", "",
        "| backbone | params (M) | GMACs | eager b=1 | ONNX b=1 | ONNX/eager b=1 | eager b=64 | ONNX b=64 "
        "| ONNX/eager b=64 | max abs logit diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params'] / 1e6:.2f} | {r['gmacs']:.4f} "
            f"| {r['eager_1']:.0f} | {r['onnx_1']:.0f} "
            f"| {r['onnx_1'] / r['eager_1']:.2f} | {r['eager_64']:.0f} | {r['onnx_64']:.0f} "
            f"| {r['onnx_64'] / r['eager_64']:.2f} | {r['diff']:.1e} |")
    return "\n".join(lines) + "\n"


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None, help="comma-separated backbones (default: all registered)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown section here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    plugins = PluginSet.load(allow=["fer_models"])
    names = (args.models.split(",") if args.models
             else [n for n in plugins.backbones() if n not in NEEDS_OPTIONS])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"{name} ...", file=sys.stderr, flush=True)
            rows.append(bench_backbone(name, plugins, args.rounds, args.seconds, Path(tmp)))
    given = shlex.join(argv if argv is not None else sys.argv[1:])
    text = markdown(rows, args, f"python benchmarks/inference_throughput.py {given}".strip())
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
