"""One Noise2Void training in the background, reporting every training event on the GUI thread.

The training runs as a visible job of the app's :class:`~gui.jobs.job_runner.JobRunner`
(status bar, progress, Cancel); the network itself runs on the engine's one
network thread (:mod:`engine.n2v.network_thread`).  Two ways to end it early:

- :meth:`TrainingRun.stop` (the tab's Stop button) ends training after the
  current batch; the model with the best weights so far is the job's value.
- Cancelling the job (the status bar's Cancel, closing the window) also stops
  training, and the job ends ``cancelled``: nothing is kept, as for any job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.monitor import EventKind
from et_denoise.gui.jobs.job_runner import JobRunner


#: Batch events reach the GUI thread at most this often (seconds); epoch events always do.
REPORT_INTERVAL_S = 0.1


class _StopOrCancel(CancelToken):
    """Set when the user presses Stop or when the job itself is cancelled."""

    def __init__(self, stop: CancelToken, job: CancelToken) -> None:
        super().__init__()
        self._stop = stop
        self._job = job

    def cancel(self) -> None:
        self._stop.cancel()

    @property
    def cancelled(self) -> bool:
        return self._stop.cancelled or self._job.cancelled

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled("cancelled by the user")


class TrainingRun(QObject):
    """Trains a model on ``images`` with ``params`` in a job submitted at construction.

    Signals
    -------
    event_reported(event)
        :class:`~engine.n2v.monitor.TrainingEvent` objects, emitted on the
        training thread and delivered on the GUI thread: every epoch event, the
        last batch of each epoch, and other batches at most every
        :data:`REPORT_INTERVAL_S` (each wakes the GUI thread, which then
        competes with training for the interpreter).

    Attributes
    ----------
    job : Job
        ``succeeded(model)`` with the :class:`~engine.n2v.model.TrainedModel`
        (also after Stop), ``failed(message)``, ``cancelled()``, ``finished()``.
    params : N2VParams
        The parameters it trains with.
    """

    event_reported = Signal(object)

    def __init__(self, jobs: JobRunner, images: Sequence[np.ndarray], params: N2VParams,
                 parent: QObject | None = None, *, preview: np.ndarray | None = None) -> None:
        super().__init__(parent)
        self.params = params
        self._images = list(images)
        self._preview = preview
        self._stop = CancelToken()
        method = "StructN2V" if params.blind_spot_mask is not None else "Noise2Void"
        self.job = jobs.submit(f"Training {method}", self._train)

    @property
    def stopping(self) -> bool:
        """Whether Stop was pressed."""
        return self._stop.cancelled

    def stop(self) -> None:
        """End training after the current batch, keeping the best weights so far."""
        self._stop.cancel()

    def _train(self, progress, cancel: CancelToken):
        """The job's function (training runs on the network thread): it never touches a widget."""
        from et_denoise.engine.n2v.training import train

        last_report = 0.0

        def report(event) -> None:
            nonlocal last_report
            now = time.perf_counter()
            if event.kind is EventKind.BATCH and event.batch < event.steps and now - last_report < REPORT_INTERVAL_S:
                return
            last_report = now
            self.event_reported.emit(event)
            progress(event.fraction)

        token = _StopOrCancel(self._stop, cancel)
        return train(self._images, self.params, progress=report, cancel=token, preview=self._preview)
