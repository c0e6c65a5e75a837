"""Progress reporting, cancellation and the thread pool that runs work plane by plane.

Every long engine call takes two optional keyword arguments:

``progress``
    a plain callable ``progress(fraction)`` with ``0 <= fraction <= 1``.  It is
    called from worker threads; it must be cheap and thread-safe (emitting a Qt
    signal is both).  ``1.0`` is reported exactly once, when the work is done.
``cancel``
    a :class:`CancelToken`.  Long loops call :meth:`CancelToken.check` between
    planes, tiles, iterations or batches, which raises :class:`~engine.errors.Cancelled`.

:func:`run_slicewise` is the one mechanism that runs a 2-D function over the
planes of a stack for every filter.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from collections.abc import Callable

import numpy as np

from et_denoise.engine.errors import Cancelled

ProgressFn = Callable[[float], None]


class CancelToken:
    """A thread-safe flag that asks a running computation to stop.

    Examples
    --------
    >>> token = CancelToken()
    >>> token.cancel()
    >>> token.cancelled
    True
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the computation to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`~engine.errors.Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class ProgressCounter:
    """Turns "one more unit done" calls from several threads into fractions.

    Calls ``progress(done / total)`` after each unit and guarantees that ``1.0``
    is reported exactly once, by :meth:`finish`, never before all units are done.
    """

    def __init__(self, total: int, progress: ProgressFn | None) -> None:
        self._total = max(int(total), 1)
        self._progress = progress
        self._done = 0
        self._lock = threading.Lock()

    def step(self, units: int = 1) -> None:
        """Record ``units`` finished units and report the new fraction (below 1)."""
        with self._lock:
            self._done += units
            fraction = min(self._done / self._total, 0.999)
        if self._progress is not None:
            self._progress(fraction)

    def finish(self) -> None:
        """Report completion (1.0)."""
        if self._progress is not None:
            self._progress(1.0)


def default_workers() -> int:
    """Number of worker threads used when a call does not say: one per core."""
    return max(os.cpu_count() or 1, 1)


def run_slicewise(
    func: Callable[[np.ndarray], np.ndarray],
    volume: np.ndarray,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """Apply a 2-D function to every plane of a stack in a thread pool.

    Parameters
    ----------
    func : callable
        Takes one 2-D plane and returns the filtered plane (same shape).  It
        must release the GIL to gain from threads (numpy, scipy, scikit-image
        and numba kernels do).
    volume : ndarray, shape (Y, X) or (Z, Y, X)
        A 2-D image is treated as a stack of one plane.
    progress : callable, optional
        ``progress(fraction)``, called after each plane; 1.0 exactly once at the end.
    cancel : CancelToken, optional
        Checked before each plane; a cancelled run raises
        :class:`~engine.errors.Cancelled` after the planes already running
        finish, so it stops within about one plane's time.
    workers : int, optional
        Threads to use; default :func:`default_workers`.

    Returns
    -------
    ndarray, float32
        A new array with the shape of ``volume``.
    """
    planes = volume[np.newaxis] if volume.ndim == 2 else volume
    out = np.empty(planes.shape, dtype=np.float32)
    counter = ProgressCounter(len(planes), progress)
    stop = threading.Event()

    def work(index: int) -> None:
        if stop.is_set():
            return
        if cancel is not None and cancel.cancelled:
            stop.set()
            return
        out[index] = func(planes[index])
        counter.step()

    n_workers = min(workers or default_workers(), len(planes))
    if n_workers <= 1:
        for index in range(len(planes)):
            work(index)
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(work, index) for index in range(len(planes))]
            wait(futures, return_when=FIRST_EXCEPTION)
            stop.set()
            for future in futures:
                error = future.exception()
                if error is not None:
                    raise error
    if cancel is not None:
        cancel.check()
    counter.finish()
    return out[0] if volume.ndim == 2 else out
