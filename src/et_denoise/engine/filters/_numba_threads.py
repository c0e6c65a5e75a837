"""How many threads numba's parallel loops use, for one block of code on the calling thread."""

from __future__ import annotations

import contextlib

import numba


@contextlib.contextmanager
def numba_threads(count: int):
    """Run this thread's numba ``prange`` loops on ``count`` threads (at most numba's pool), then restore."""
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(count, numba.config.NUMBA_NUM_THREADS)))  # this thread only
    try:
        yield
    finally:
        numba.set_num_threads(previous)
