"""Temperature scaling of probabilities: fitted on the selection split, applied at inference.

The model's probabilities (averaged over its TTA views) are rescaled as
``softmax(log(p) / T)``: ``T > 1`` softens overconfident outputs, ``T < 1`` sharpens them, and
the top class never changes. ``T`` is the one that minimizes the negative log-likelihood on the
split it is fitted on (PublicTest in the toolkit's protocol).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)``, row by row (float32 in, float32 out)."""
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs, _EPS, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return (out / out.sum(axis=1, keepdims=True)).astype(probs.dtype, copy=False)


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean ``-log p[label]``."""
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], _EPS, None)).mean())


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimizes the NLL of ``probs`` on ``labels``.

    >>> p = np.array([[0.98, 0.02], [0.98, 0.02], [0.98, 0.02], [0.02, 0.98]])
    >>> t = fit_temperature(p, np.array([0, 0, 1, 1]))   # 3 of 4 right, at 98% confidence
    >>> bool(t > 1)
    True
    """
    from scipy.optimize import minimize_scalar

    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)

    def nll(log_t: float) -> float:
        return negative_log_likelihood(apply_temperature(probs, float(np.exp(log_t))), labels)

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded",
                             options={"xatol": 1e-4})
    return float(np.exp(result.x))
