"""The one thread on which every network is built, trained, applied, saved, loaded and exported.

Every public call of this package that touches TensorFlow (:func:`~engine.n2v.training.train`,
:meth:`~engine.n2v.model.TrainedModel.predict`, ``save`` and ``load``,
:func:`~engine.n2v.export.export_bioimageio`, :func:`~engine.n2v.device.compute_device`)
is decorated with :func:`runs_on_network_thread`, so no caller can break the
rule, whichever thread it calls from.  Two reasons:

- TensorFlow 2.15 corrupts memory when two threads run networks with batch
  normalisation (n2v's U-Net has it) at the same time.
- TensorFlow's pybind11 layer deadlocks on a reused ``QThreadPool`` thread, to
  which PySide gives a new Python thread state for each job (the second
  training on the same pool thread hung while building its network).  One
  long-lived Python thread has one thread state for life.

Calls made on the network thread itself (an export predicting its test
output, a mask sweep's prediction) run directly, so the rule never deadlocks
on itself.  A caller waiting for its turn is released with
:class:`~engine.errors.Cancelled` as soon as its ``cancel`` token is set; once
its work has started, that work honours the token itself, at its next check.
Work without side effects (a prediction) releases its caller at once even
then: the network thread finishes the network call under way and drops the
rest, so Cancel does not wait for a call of the network.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor, TimeoutError
from typing import Any, TypeVar
from collections.abc import Callable

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.jobs import CancelToken

#: While waiting for the network thread, check the caller's cancel token this often (seconds).
WAIT_S = 0.05
_THIS_THREAD = threading.local()

F = TypeVar("F", bound=Callable[..., Any])


def _mark_network_thread() -> None:
    _THIS_THREAD.is_network = True


# Its one worker starts on first use and lives as long as the process.
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="network", initializer=_mark_network_thread)


def on_network_thread() -> bool:
    """Whether the calling thread is the network thread."""
    return getattr(_THIS_THREAD, "is_network", False)


def run_on_network_thread(func: Callable[..., Any], /, *args: Any, waiting: CancelToken | None = None,
                          abandon: bool = False, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)`` on the network thread and return its value (or raise its exception).

    Parameters
    ----------
    func : callable
        The work; called directly when the caller already is the network thread.
    waiting : CancelToken, optional
        Checked while the work waits for its turn: if set before the work
        started, the work is dropped and :class:`~engine.errors.Cancelled` raised.
    abandon : bool, optional
        For work without side effects: once ``waiting`` is set, raise
        :class:`~engine.errors.Cancelled` even when the work has started, and
        leave it to stop at its own next check of the token.

    Raises
    ------
    Cancelled
        ``waiting`` was set before the work started (or, with ``abandon``, at any time).
    """
    if on_network_thread():
        return func(*args, **kwargs)
    future = _EXECUTOR.submit(func, *args, **kwargs)
    while True:
        try:
            return future.result(timeout=WAIT_S)
        except TimeoutError:
            if waiting is not None and waiting.cancelled and (future.cancel() or abandon):
                raise Cancelled("cancelled by the user") from None


def runs_on_network_thread(func: F | None = None, *, abandon: bool = False):
    """Decorate ``func`` so that every call runs on the network thread.

    The call's own ``cancel`` keyword argument, if any, also releases the
    caller while it waits for its turn; with ``abandon=True`` (work without
    side effects) also once the work has started (see :func:`run_on_network_thread`).
    """
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            return run_on_network_thread(function, *args, waiting=kwargs.get("cancel"), abandon=abandon, **kwargs)

        return dispatch  # type: ignore[return-value]

    return decorate if func is None else decorate(func)
