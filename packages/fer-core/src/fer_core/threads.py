"""One thread setting for inference: ONNX Runtime, OpenCV and (only when it is loaded) torch.

``fercli analyze --threads N`` / ``fercli predict --threads N``, the environment variable
``FER_THREADS`` and the ``threads`` arguments of the API all end here. Without a setting the
count is the CPUs this process may use, at most :data:`DEFAULT_MAX_THREADS` (2): the face
detector and the classifier run one after the other in one Python thread, so each may use all
of them without the two pools ever competing; a third pool (OpenCV's resizes, torch's when the
PyTorch backend is in use) gets the same count. ONNX Runtime sessions run ``N`` intra-op
threads, 1 inter-op thread, and do not spin between calls.

>>> resolve_threads(3)
3
"""

from __future__ import annotations

import os
import sys
from typing import Any

from fer_core.errors import ConfigError

THREADS_ENV = "FER_THREADS"
#: The default's ceiling: more threads than this gave no speed on a 40x40 CNN and a 640-px
#: detector, and two is what a small machine has (benchmarks/analyze_threads.py, BENCHMARKS.md)
DEFAULT_MAX_THREADS = 2


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask on Linux, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """``FER_THREADS`` when set, else ``min(available CPUs, DEFAULT_MAX_THREADS)``."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigError(f"{THREADS_ENV} must be a whole number >= 1, got {value!r} "
                              f"(environment variable {THREADS_ENV})")
        return n
    return min(available_cpus(), DEFAULT_MAX_THREADS)


_override: int | None = None


def resolve_threads(threads: int | None = None) -> int:
    """``threads`` when given (>= 1), else the count :func:`apply_threads` set for this process,
    else :func:`default_threads`."""
    if threads is None:
        return _override if _override is not None else default_threads()
    if int(threads) < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}")
    return int(threads)


def apply_threads(threads: int | None = None) -> int:
    """Make ``threads`` (or the default) this process's inference thread count: every ONNX
    Runtime session and detector made afterwards without its own count uses it; OpenCV's count
    is set now when OpenCV is loaded (else by the detector that loads it), and torch's only when
    torch is already imported (this never imports it). Returns the count."""
    global _override
    n = resolve_threads(threads)
    _override = n
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and hasattr(cv2, "setNumThreads"):
        cv2.setNumThreads(n)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(n)
    return n


def set_cv2_threads(cv2: Any, threads: int | None = None) -> None:
    """OpenCV's thread count (global to the process) to :func:`resolve_threads` of ``threads``."""
    cv2.setNumThreads(resolve_threads(threads))


def ort_session_options(threads: int | None = None) -> Any:
    """``onnxruntime.SessionOptions`` for one of the toolkit's sessions: ``threads`` intra-op
    (:func:`resolve_threads`), 1 inter-op, no spinning between calls, warnings only."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = resolve_threads(threads)
    options.inter_op_num_threads = 1
    # no busy-waiting between runs: spinning threads would slow what runs between two calls
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


__all__ = ["DEFAULT_MAX_THREADS", "THREADS_ENV", "apply_threads", "available_cpus", "default_threads",
           "ort_session_options", "resolve_threads", "set_cv2_threads"]
