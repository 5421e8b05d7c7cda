"""Images/second of a call, the one timing loop of the benchmarks (no dependencies: the peer
benchmark's worker imports it in an environment without the toolkit)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
