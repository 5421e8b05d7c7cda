"""Hand freed heap memory back to the operating system between epochs.

glibc's allocator keeps memory that Python and torch have freed (evaluation batches, checkpoint
buffers) for reuse, in pieces it cannot always reuse: over a many-epoch run the process's RSS
then creeps up although nothing is held (measured: about 1 MB per epoch on a 150-epoch run, flat
with this call; benchmarks/train_memory.py, BENCHMARKS.md). ``malloc_trim(0)`` returns those
free pages. It exists only in glibc; elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # absent from musl and other C libraries
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Return freed heap pages to the OS (glibc ``malloc_trim(0)``); False where unavailable."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
