"""Combining members' probabilities: weighted average and reciprocal rank fusion, and the weight search.

Both rules take ``probs`` as a sequence of ``[N, C]`` arrays (one per member) and return
``[N, C]`` scores whose rows sum to 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import numpy as np

METHODS = ("weighted", "rrf")
#: The usual reciprocal-rank-fusion constant (Cormack, Clarke and Buettcher, SIGIR 2009).
RRF_K = 60.0
#: The members' probabilities: one ``[N, C]`` array per member, or all of them stacked ``[M, N, C]``.
MemberProbabilities: TypeAlias = "Sequence[np.ndarray] | np.ndarray"


def _stack(probs: MemberProbabilities) -> np.ndarray:
    arrays = [np.asarray(p, dtype=np.float64) for p in probs]
    if not arrays:
        raise ValueError("an ensemble needs at least one member")
    if any(a.shape != arrays[0].shape or a.ndim != 2 for a in arrays):
        raise ValueError(f"members' probabilities differ in shape: {[a.shape for a in arrays]}")
    return np.stack(arrays)


def _weights(weights: Sequence[float] | None, m: int) -> np.ndarray:
    w = np.full(m, 1.0 / m) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (m,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"need {m} non-negative weights with a positive sum, got {weights!r}")
    return w / w.sum()


def weighted_average(probs: MemberProbabilities, weights: Sequence[float] | None = None) -> np.ndarray:
    """Sum of ``w_m * p_m`` with weights normalised to sum 1 (equal weights by default).

    >>> weighted_average([np.array([[0.8, 0.2]]), np.array([[0.2, 0.8]])], [3, 1]).round(2).tolist()
    [[0.65, 0.35]]
    """
    stacked = _stack(probs)
    return np.tensordot(_weights(weights, len(stacked)), stacked, axes=1)


def reciprocal_rank_fusion(probs: MemberProbabilities, weights: Sequence[float] | None = None,
                           k: float = RRF_K) -> np.ndarray:
    """Per image, class ``c`` scores ``sum_m w_m / (k + rank_m(c))`` (rank 1 = the member's top class).

    Ranks ignore how confident a member is, only its ordering. Scores are normalised per row.

    >>> reciprocal_rank_fusion([np.array([[0.6, 0.3, 0.1]]), np.array([[0.1, 0.5, 0.4]])]).argmax(1).tolist()
    [1]
    """
    stacked = _stack(probs)
    ranks = (-stacked).argsort(axis=2, kind="stable").argsort(axis=2, kind="stable") + 1
    scores = np.tensordot(_weights(weights, len(stacked)), 1.0 / (k + ranks), axes=1)
    return scores / scores.sum(axis=1, keepdims=True)


def fuse(probs: MemberProbabilities, weights: Sequence[float] | None = None, method: str = "weighted",
         k: float = RRF_K) -> np.ndarray:
    """:func:`weighted_average` or :func:`reciprocal_rank_fusion`, by name."""
    if method == "weighted":
        return weighted_average(probs, weights)
    if method == "rrf":
        return reciprocal_rank_fusion(probs, weights, k)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


def weight_grid(members: int, step: float = 0.1) -> Iterator[tuple[float, ...]]:
    """Every weight vector on the simplex with coordinates multiples of ``step`` (summing to 1).

    >>> list(weight_grid(2, 0.5))
    [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    """
    n = round(1.0 / step)
    if n < 1 or abs(n * step - 1.0) > 1e-9:
        raise ValueError(f"step must divide 1 (e.g. 0.1, 0.05), got {step}")
    for head in itertools.product(range(n + 1), repeat=members - 1):
        if sum(head) <= n:
            yield tuple(c / n for c in (*head, n - sum(head)))


def search_weights(probs: MemberProbabilities, labels: np.ndarray, *, method: str = "weighted",
                   step: float = 0.1, k: float = RRF_K) -> tuple[tuple[float, ...], float]:
    """The grid weights with the best accuracy of the fused scores on ``labels``; and that accuracy.

    Ties go to the lower negative log-likelihood, then to the first in grid order (so equal
    weights win only on merit). Use it on the selection split (PublicTest), never the report split.
    """
    labels = np.asarray(labels)
    stacked = _stack(probs)
    best: tuple[float, float, tuple[float, ...]] | None = None
    for w in weight_grid(len(stacked), step):
        fused = fuse(stacked, w, method, k)
        acc = float((fused.argmax(1) == labels).mean())
        nll = float(-np.log(np.clip(fused[np.arange(len(labels)), labels], 1e-12, None)).mean())
        if best is None or (acc, -nll) > (best[0], -best[1]):
            best = (acc, nll, w)
    assert best is not None
    return best[2], best[0]
