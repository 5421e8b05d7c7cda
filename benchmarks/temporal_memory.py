"""Memory of a long analysis: a made-up 30-minute stream through fer-temporal, RSS sampled as it runs.

The stream is generated frame by frame (nothing is held or read from disk): ``--minutes`` of
``--fps`` frames of ``--size`` x ``--size`` RGB, a bright face-sized square that drifts and
changes brightness, timestamps ``index / fps``. Every frame goes through the whole pipeline of
``fercli analyze``: detection (``full_frame`` by default, so the run measures the toolkit, not
OpenCV; ``--detector haar`` works too), tracking, batched classification by a real PyTorch
classifier (``small_cnn`` built by ``fer_models``, random weights: accuracy is not the point),
rows streamed to CSV with the streaming analysis, then the JSON (rows streamed back from the
CSV) and the PNG plot.

RSS (``psutil``) is sampled every ``--every`` frames. Reported: peak RSS, RSS at the end of the
first and of the last tenth of the stream, and the slope of a least-squares line through the
samples of the middle 80% (MB per 10 minutes of stream). Target (the temporal issue): peak
under 600 MB and flat over time.

``--model NAME`` classifies with that model as ``fer_models.load(NAME)`` gives it instead: for the
shipped ``default``, its ONNX copy on ONNX Runtime and numpy, torch never imported (the row says
whether torch was loaded). ``--minutes 1`` is a short run.

    python benchmarks/temporal_memory.py [--minutes 30] [--fps 30] [--size 96] [--model default]
        [--out section.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil

import fer_core
from fer_core.plugins import PluginSet
from fer_temporal import Smoother, analyze_to_files

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, emit


def stream(minutes: float, fps: float, size: int, samples: list[tuple[int, float]], every: int,
           proc: psutil.Process) -> Iterator[tuple[np.ndarray, float]]:
    n = int(minutes * 60 * fps)
    frame = np.zeros((size, size, 3), np.uint8)
    for i in range(n):
        frame[:] = 30
        side = size // 2
        x = int((size - side) * (0.5 + 0.5 * np.sin(i / 90)))
        frame[size // 4: size // 4 + side, x:x + side] = 120 + int(100 * np.sin(i / 300) ** 2)
        if i % every == 0:
            samples.append((i, proc.memory_info().rss / 2**20))
        yield frame, i / fps


def torch_alone_rss() -> float:
    """RSS (MB) of a fresh Python process that only imports torch: the floor of any torch classifier."""
    import subprocess

    code = "import psutil, torch; print(psutil.Process().memory_info().rss / 2**20)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--every", type=int, default=900, help="sample RSS every N frames")
    parser.add_argument("--detector", default="full_frame")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None,
                        help="a model for fer_models.load (default: small_cnn, random weights, PyTorch)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from fer_core.threads import apply_threads

    apply_threads(args.threads)
    proc = psutil.Process()
    plugins = PluginSet.load(allow=["fer_models", "fer_temporal"])
    if args.model is not None:
        import fer_models

        classifier = fer_models.load(args.model, threads=args.threads, plugins=plugins)
    else:
        import torch

        from fer_models.inference import Classifier

        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        model = plugins.get("backbone", "small_cnn").build(num_classes=7, in_chans=1)
        config = {"backbone": "small_cnn", "preprocessing": {"size": 48}}
        classifier = Classifier(model, config, source="small_cnn (random weights)")
    samples: list[tuple[int, float]] = []
    start_rss = proc.memory_info().rss / 2**20
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = analyze_to_files(stream(args.minutes, args.fps, args.size, samples, args.every, proc),
                                  classifier, tmp, name="made-up-stream", detector=args.detector,
                                  smoother=Smoother("ema"), plugins=plugins, batch_size=64)
        csv_mb = result["paths"]["csv"].stat().st_size / 2**20
        json_mb = result["paths"]["json"].stat().st_size / 2**20
    seconds = time.perf_counter() - t0
    end_rss = proc.memory_info().rss / 2**20
    frames = np.array([s[0] for s in samples], dtype=float)
    rss = np.array([s[1] for s in samples])
    k = len(samples)
    lo, hi = k // 10, k - k // 10
    slope = np.polyfit(frames[lo:hi], rss[lo:hi], 1)[0] * args.fps * 600 if hi - lo >= 2 else float("nan")
    peak = max(rss.max(), end_rss)
    header = result["header"]
    torch = sys.modules.get("torch")
    runtime = (f"classifier {classifier!r}; " + (f"torch {torch.__version__} loaded" if torch is not None
                                                  else "torch never imported"))
    lines = [
        f"### Memory over a made-up {args.minutes:g}-minute stream", "",
        f"Command: `{command(__file__, argv)}`. {runtime}, "
        f"fer {fer_core.__version__}, Python {platform.python_version()}, {platform.machine()}.", "",
        "| frames | faces | wall time | RSS of `import torch` alone | RSS before | RSS end of first tenth "
        "| RSS end of last tenth | peak RSS | slope, middle 80% | CSV | JSON |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {header['frames_read']:,} | {header['faces']:,} | {seconds / 60:.1f} min "
        f"| {torch_alone_rss():.0f} MB "
        f"| {start_rss:.0f} MB "
        f"| {rss[max(lo - 1, 0)]:.0f} MB | {rss[hi - 1]:.0f} MB | {peak:.0f} MB "
        f"| {slope:+.1f} MB per 10 min | {csv_mb:.0f} MB | {json_mb:.0f} MB |",
    ]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
