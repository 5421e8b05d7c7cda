"""What the benchmarks share: the timing loop and how a result section is given out.

No dependencies beyond the standard library: the peer benchmark's worker imports this in an
environment without the toolkit."""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def images_per_second(call: Callable[[], object], batch: int, seconds: float = 1.0, rounds: int = 1) -> float:
    """Median over ``rounds`` of ``batch`` x calls per second, each round calling ``call`` for at
    least ``seconds`` (one untimed call first: first-call allocations)."""
    call()
    samples = []
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds or n == 0:
            call()
            n += 1
        samples.append(n * batch / elapsed)
    return statistics.median(samples)


def emit(lines: list[str], out: Path | None) -> str:
    """The markdown section: printed, and written to ``out`` when given (``--out``)."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        out.write_text(text)
    return text


REPO = Path(__file__).resolve().parents[1]


def command(script: str, argv: list[str] | None) -> str:
    """How this run was invoked (the script's path from the repository root), for the "Command:" line."""
    given = shlex.join(argv if argv is not None else sys.argv[1:])
    path = Path(script).resolve()
    shown = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    return f"python {shown} {given}".strip()


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit status of one fresh process running ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # (reaped here; Popen must not wait again)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def measure(sides: dict[str, list[str]], runs: int, warmup: int,
            env: dict[str, str]) -> dict[str, list[tuple[float, float, int]]]:
    """Every side's runs, the sides taking turns (A B A B ...), after ``warmup`` turns not kept."""
    kept: dict[str, list[tuple[float, float, int]]] = {side: [] for side in sides}
    for i in range(warmup + runs):
        for side, argv in sides.items():
            result = run_once(argv, env)
            if i >= warmup:
                kept[side].append(result)
    return kept
