"""The one mechanism that runs work off the GUI thread: jobs in a QThreadPool.

A job is a plain function ``func(progress, cancel) -> value``; it never touches
a widget.  The :class:`Job` object lives on the GUI thread and re-emits what
the worker reports as Qt signals, which Qt delivers on the GUI thread.

:class:`LatestJob` keeps only the newest of a stream of jobs (live previews):
each submission cancels the previous one and a generation number drops any
result that arrives late, as ndv's controller does.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.jobs import CancelToken

log = logging.getLogger(__name__)

JobFunction = Callable[[Callable[[float], None], CancelToken], Any]

#: Progress is re-emitted at most this often (seconds), so a fast loop cannot flood the event loop.
PROGRESS_INTERVAL_S = 0.05
#: Worker threads run this much "nicer" than the GUI thread (Linux), so that on a busy
#: machine the scheduler serves the event loop first; threads they start inherit it.
WORKER_NICENESS = 5


def _lower_thread_priority() -> None:
    """Give the calling worker thread a lower CPU priority where the OS allows it per thread."""
    if not sys.platform.startswith("linux"):
        return
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        if current < WORKER_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread_id, WORKER_NICENESS)
    except OSError:
        pass


class JobState(enum.Enum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def done(self) -> bool:
        """Whether the job has ended, one way or another."""
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def user_message(error: BaseException) -> str:
    """What to tell the user about an exception raised by a job."""
    if isinstance(error, (ImageError, ParameterError)):
        return str(error)
    if isinstance(error, MemoryError):
        return "Not enough memory for this computation. Try 2-D mode, smaller parameters or a smaller image."
    if isinstance(error, (OSError, ValueError)):
        return str(error) or type(error).__name__
    return f"Unexpected {type(error).__name__}: {error}"


class Job(QObject):
    """One piece of background work.

    Signals (all delivered on the GUI thread)
    -----------------------------------------
    started()
    progressed(fraction)
    succeeded(value)
    failed(message)
        ``message`` is meant for the user.
    cancelled()
    finished()
        After any of the three outcomes.  :attr:`state` changes from RUNNING
        to the outcome only then, once every handler of the outcome has run.
    """

    started = Signal()
    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, func: JobFunction, *, visible: bool = True) -> None:
        super().__init__()
        self.title = title
        self.visible = visible
        #: A hidden job (a live preview) is shown in the status bar after all if it runs slow.
        self.show_when_slow = False
        self.state = JobState.QUEUED
        self.progress = 0.0
        self.start_time: float | None = None
        self.elapsed_s = 0.0
        self.token = CancelToken()
        self._func = func
        self._last_progress_time = 0.0
        self._lock = threading.Lock()
        self.started.connect(self._on_self_started)
        #: Set on the worker thread; becomes ``state`` when ``finished`` reaches the GUI thread,
        #: so that a job reads as done only once every handler of its outcome has run.
        self._outcome = JobState.QUEUED
        self.finished.connect(self._on_self_finished)
        self.progressed.connect(self._on_self_progressed)

    def cancel(self) -> None:
        """Ask the job to stop; it ends with ``cancelled`` (unless it already finished)."""
        self.token.cancel()

    def running_time(self) -> float:
        """Seconds since the job started (its final time once finished)."""
        if self.state.done or self.start_time is None:
            return self.elapsed_s
        return time.perf_counter() - self.start_time

    # ------------------------------------------------------------ worker side
    def run(self) -> None:
        """Run the function; called on a worker thread."""
        _lower_thread_priority()
        start = time.perf_counter()
        self.started.emit()
        try:
            self.token.check()
            value = self._func(self._report_progress, self.token)
            self.token.check()
        except Cancelled:
            self.elapsed_s = time.perf_counter() - start
            self._outcome = JobState.CANCELLED
            self.cancelled.emit()
        except Exception as error:  # every failure becomes a message; the app keeps working
            self.elapsed_s = time.perf_counter() - start
            self._outcome = JobState.FAILED
            log.warning("job %r failed:\n%s", self.title, traceback.format_exc())
            self.failed.emit(user_message(error))
        else:
            self.elapsed_s = time.perf_counter() - start
            self._outcome = JobState.SUCCEEDED
            self.succeeded.emit(value)
        self.finished.emit()

    def _report_progress(self, fraction: float) -> None:
        now = time.perf_counter()
        with self._lock:
            if fraction < 1.0 and now - self._last_progress_time < PROGRESS_INTERVAL_S:
                return
            self._last_progress_time = now
        self.progressed.emit(float(fraction))

    # ------------------------------------------------------------ GUI side
    def _on_self_started(self) -> None:
        self.state = JobState.RUNNING
        self.start_time = time.perf_counter()

    def _on_self_progressed(self, fraction: float) -> None:
        self.progress = fraction

    def _on_self_finished(self) -> None:
        self.state = self._outcome


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        try:
            self._job.run()
        except RuntimeError:
            if shiboken6.isValid(self._job):
                raise
            # The app is ending (a signal, a closed window): the job's signals went with it while it
            # ran or waited in the pool, and nobody is left to tell.


class JobRunner(QObject):
    """Runs :class:`Job` objects in its own thread pool and tells who is running.

    Signals
    -------
    job_submitted(job)
        A job was queued; views showing progress connect to its signals.
    """

    job_submitted = Signal(object)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._jobs: list[Job] = []

    def submit(self, title: str, func: JobFunction, *, visible: bool = True) -> Job:
        """Queue ``func(progress, cancel)``; connect to the returned job's signals.

        ``visible`` jobs are shown in the status bar with a Cancel button; short
        ones (previews) pass ``visible=False``.
        """
        job = Job(title, func, visible=visible)
        self._jobs.append(job)
        job.finished.connect(lambda: self._forget(job))
        self.job_submitted.emit(job)
        # Start once control is back in the event loop, so that every signal the
        # caller connects right after submit() is in place before the job can emit.
        QTimer.singleShot(0, self, lambda: self._pool.start(_Runnable(job)))
        return job

    def active_jobs(self) -> list[Job]:
        """Jobs queued or running."""
        return list(self._jobs)

    def cancel_all(self) -> None:
        """Ask every job to stop."""
        for job in self._jobs:
            job.cancel()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the pool is idle (used when quitting); True if it is."""
        return self._pool.waitForDone(timeout_ms)

    def _forget(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)


class LatestJob:
    """Runs a stream of jobs where only the newest counts.

    Each :meth:`submit` cancels the job before it; a result that arrives from an
    older job is dropped (generation numbers), so a slow preview never
    overwrites a newer one.
    """

    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner
        self._generation = 0
        self._job: Job | None = None

    @property
    def generation(self) -> int:
        """Number of the newest submission."""
        return self._generation

    @property
    def running(self) -> bool:
        """Whether the newest job has not ended yet."""
        return self._job is not None and not self._job.state.done

    def submit(
        self,
        title: str,
        func: JobFunction,
        on_succeeded: Callable[[Any], None],
        on_failed: Callable[[str], None],
    ) -> Job:
        """Cancel the previous job and start ``func``; the callbacks fire only if it is still the newest."""
        self.cancel()
        self._generation += 1
        generation = self._generation
        job = self._runner.submit(title, func, visible=False)
        job.show_when_slow = True
        job.succeeded.connect(lambda value: self._deliver(generation, on_succeeded, value))
        job.failed.connect(lambda message: self._deliver(generation, on_failed, message))
        self._job = job
        return job

    def cancel(self) -> None:
        """Cancel the newest job, if any, and forget its result."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self._generation += 1

    def _deliver(self, generation: int, callback: Callable[[Any], None], value: Any) -> None:
        if generation == self._generation:
            self._job = None
            callback(value)
