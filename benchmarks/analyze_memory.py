"""``fercli analyze`` end to end, whole process: wall time and peak RSS of each backend and thread
setting, and of an older checkout, side by side.

Each case is a fresh ``python -m fer_cli analyze CLIP --out TMP --no-progress`` (every other
option at its default: the shipped default model, RetinaFace); wall time is a monotonic clock
around it, peak RSS the kernel's ``ru_maxrss`` of the finished child (``os.wait4``, as
``benchmarks/startup.py``). The cases take turns (A B C A B C ...) so that a machine whose load
drifts still compares them fairly; medians of ``--runs`` after one uncounted turn.
``--before-src DIR`` adds the same command run on an older tree's sources (``DIR/packages/*/src``
first on ``PYTHONPATH``, e.g. ``git archive <commit> packages | tar -x -C DIR``), in this venv.

    python benchmarks/analyze_memory.py [--clip ../shared/media/single_face.mp4] [--before-src DIR]
        [--threads 1 2] [--runs 5] [--out section.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, command, cpu_model, emit
from startup import run_once

CLIP = REPO.parent / "shared" / "media" / "single_face.mp4"
DISTS = ("fer-core", "fer-models", "fer-temporal", "fer-cli")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--before-src", type=Path, default=None)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                        help="ONNX runs with --threads N (besides the default)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    base_env = {**os.environ, "FER_LOAD_PLUGINS": "fer_models,fer_temporal"}
    base_env.pop("FER_THREADS", None)
    tmp = Path(tempfile.mkdtemp(prefix="fer-analyze-memory-"))
    analyze = [sys.executable, "-m", "fer_cli", "analyze", str(args.clip), "--no-progress"]

    def run(name: str, *extra: str) -> list[str]:
        return [*analyze, "--out", str(tmp / name), *extra]

    cases: dict[str, tuple[list[str], dict[str, str]]] = {}
    if args.before_src is not None:
        path = os.pathsep.join(str(args.before_src / "packages" / d / "src") for d in DISTS)
        cases["before (older tree, PyTorch)"] = (run("before"),
                                                 {**base_env, "PYTHONPATH": path})
    cases["--backend torch"] = (run("torch", "--backend", "torch"), base_env)
    cases["default (auto: ONNX Runtime, no torch)"] = (run("onnx"), base_env)
    for n in args.threads:
        cases[f"ONNX, --threads {n}"] = (run(f"t{n}", "--threads", str(n)), base_env)

    kept: dict[str, list[tuple[float, float, int]]] = {c: [] for c in cases}
    for i in range(args.runs + 1):
        for case, (cmd, env) in cases.items():
            result = run_once(cmd, env)
            if result[2] != 0:
                raise SystemExit(f"{case}: exit {result[2]} ({' '.join(cmd)})")
            if i:
                kept[case].append(result)
    frames = len((tmp / "onnx" / f"{args.clip.stem}.csv").read_text().splitlines()) - 1
    load = os.getloadavg()
    lines = [f"### `fercli analyze {args.clip.name}`: wall time and peak RSS by backend and threads", "",
             f"Command: `{command(__file__, argv)}`. {frames} timeline rows; the shipped default model "
             f"(flip TTA), RetinaFace, every option at its default; medians of {args.runs} interleaved "
             f"runs; {cpu_model()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at the end.", "",
             "| case | wall s | peak RSS MB |", "|---|---|---|"]
    for case, results in kept.items():
        lines.append(f"| {case} | {statistics.median(r[0] for r in results):.2f} "
                     f"| {statistics.median(r[1] for r in results):.0f} |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
