"""Training progress events, cancellation and loss history, independent of the backend.

A backend calls :meth:`TrainingMonitor.start` when its training loop begins,
:meth:`TrainingMonitor.batch_done` after every batch and
:meth:`TrainingMonitor.epoch_done` after every epoch, on its training thread;
both return True when training should stop (the user pressed Stop, or the
loss is no longer a number).  The monitor turns these calls into
:class:`TrainingEvent` objects for the ``progress`` callable and keeps the
per-epoch history that is saved with the model.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from et_denoise.engine.jobs import CancelToken


class EventKind(enum.Enum):
    """What a :class:`TrainingEvent` reports."""

    BATCH = "batch"
    EPOCH = "epoch"


class StopReason(enum.Enum):
    """Why training ended before its last epoch."""

    CANCELLED = "cancelled"
    NOT_A_NUMBER = "nan"
    TIME_BUDGET = "time budget"


@dataclass(frozen=True)
class TrainingEvent:
    """One progress report during training.

    Attributes
    ----------
    kind : EventKind
        BATCH after each batch, EPOCH after each epoch (with its validation loss).
    epoch : int
        1-based epoch number; ``epochs`` in all.
    batch : int
        1-based batch within the epoch; ``steps`` per epoch.
    loss : float
        Mean training loss of the epoch so far.
    val_loss : float or None
        Validation loss at the end of the epoch (None in BATCH events).
    learning_rate : float
        Learning rate of the latest batch.
    elapsed_s, eta_s : float
        Seconds since training started, and estimated seconds left.
    fraction : float
        Share of all batches done, 0 to 1.
    preview : ndarray or None
        In EPOCH events when ``train`` was given a preview image: that image
        denoised with the weights at the end of the epoch.
    """

    kind: EventKind
    epoch: int
    epochs: int
    batch: int
    steps: int
    loss: float
    val_loss: float | None
    learning_rate: float
    elapsed_s: float
    eta_s: float
    fraction: float
    preview: np.ndarray | None = None


@dataclass
class History:
    """Per-epoch record of a training run, saved with the model."""

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    learning_rate: list = field(default_factory=list)
    stopped: StopReason | None = None
    batches: int = 0
    """Batches trained in all (0 in models saved before it was recorded)."""

    def as_dict(self) -> dict:
        """A JSON-ready dictionary."""
        return {"loss": self.loss, "val_loss": self.val_loss, "learning_rate": self.learning_rate,
                "stopped": None if self.stopped is None else self.stopped.value, "batches": self.batches}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Inverse of :meth:`as_dict`."""
        stopped = data.get("stopped")
        return cls([float(v) for v in data["loss"]], [None if v is None else float(v) for v in data["val_loss"]],
                   [float(v) for v in data["learning_rate"]], None if stopped is None else StopReason(stopped),
                   int(data.get("batches", 0)))


class TrainingMonitor:
    """Reports progress, honours the cancel token and records the history.

    Parameters
    ----------
    epochs, steps : int
        Planned epochs and batches per epoch.
    progress : callable, optional
        ``progress(event)`` with a :class:`TrainingEvent`; called on the
        training thread, so it must be quick (emitting a Qt signal is).
    cancel : CancelToken, optional
        When set, training stops after the current batch.
    preview : callable, optional
        ``preview(network) -> ndarray``: denoises the preview image with the
        network's current weights; its result goes with every EPOCH event.
    budget_s : float, optional
        A time budget in seconds: training stops after the batch that reaches
        it, and :meth:`fraction` (progress, ETA, the learning-rate schedule)
        follows the time when that is further along than the steps.
    """

    def __init__(self, epochs: int, steps: int, progress: Callable[[TrainingEvent], None] | None = None,
                 cancel: CancelToken | None = None,
                 preview: Callable[[object], np.ndarray] | None = None, budget_s: float | None = None) -> None:
        self.epochs = epochs
        self.steps = steps
        self.budget_s = budget_s or None
        self.history = History()
        self.where = (0, 0)
        self._progress = progress
        self._cancel = cancel
        self._preview = preview
        self._start = time.perf_counter()

    def start(self) -> None:
        """Start the clock for elapsed time and ETA (the backend calls it when its training loop begins)."""
        self._start = time.perf_counter()

    def fraction(self, batches: int) -> float:
        """How far training is after ``batches`` batches: of the planned steps, or of the time budget if further."""
        by_steps = batches / (self.epochs * self.steps)
        if self.budget_s is None:
            return by_steps
        return min(max(by_steps, (time.perf_counter() - self._start) / self.budget_s), 1.0)

    def _event(self, kind: EventKind, epoch: int, batch: int, loss: float, val_loss: float | None,
               learning_rate: float, preview: np.ndarray | None = None) -> None:
        fraction = self.fraction((epoch - 1) * self.steps + batch)
        elapsed = time.perf_counter() - self._start
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else math.inf
        if self._progress is not None:
            self._progress(TrainingEvent(kind, epoch, self.epochs, batch, self.steps, loss, val_loss,
                                         learning_rate, elapsed, eta, fraction, preview))

    def _should_stop(self, loss: float) -> bool:
        if not math.isfinite(loss):
            self.history.stopped = StopReason.NOT_A_NUMBER
        elif self._cancel is not None and self._cancel.cancelled:
            self.history.stopped = StopReason.CANCELLED
        elif self.budget_s is not None and time.perf_counter() - self._start >= self.budget_s:
            self.history.stopped = StopReason.TIME_BUDGET
        return self.history.stopped is not None

    def batch_done(self, epoch: int, batch: int, loss: float, learning_rate: float) -> bool:
        """Record a finished batch (1-based numbers); True means stop training."""
        self.where = (epoch, batch)
        self.history.batches += 1
        self._event(EventKind.BATCH, epoch, batch, loss, None, learning_rate)
        return self._should_stop(loss)

    def epoch_done(self, epoch: int, loss: float, val_loss: float | None, learning_rate: float,
                   network: object = None) -> bool:
        """Record a finished (or stopped) epoch; True means stop training.

        ``network`` is the backend's model with the current weights, used for the preview.
        """
        self.history.loss.append(float(loss))
        self.history.val_loss.append(None if val_loss is None else float(val_loss))
        self.history.learning_rate.append(float(learning_rate))
        shown = None
        if self._preview is not None and network is not None and math.isfinite(loss):
            shown = self._preview(network)
        self._event(EventKind.EPOCH, epoch, self.where[1], loss, val_loss, learning_rate, shown)
        return self._should_stop(loss)
