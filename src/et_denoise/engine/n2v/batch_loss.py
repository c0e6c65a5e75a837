"""The loss of each training batch, recovered from Keras's running means and smoothed for a live plot.

Keras reports, with each batch, the mean loss of the epoch so far, and a
monitor may skip batches; :class:`SmoothedBatchLoss` turns that stream into
one smoothed point per reported batch (an exponential moving average over
about a tenth of an epoch).
"""

from __future__ import annotations

import math

from et_denoise.engine.n2v.monitor import EventKind, TrainingEvent


def smoothing_weight(steps: int) -> float:
    """Weight of the newest batch in the moving average: a span of a tenth of an epoch (1 to 50 batches).

    Parameters
    ----------
    steps : int
        Batches per epoch.

    Returns
    -------
    float
        ``2 / (span + 1)``, in (0, 1].

    Examples
    --------
    >>> smoothing_weight(100)
    0.18181818181818182
    """
    span = min(max(steps // 10, 1), 50)
    return 2.0 / (span + 1)


class SmoothedBatchLoss:
    """Turns batch events into ``(epoch position, smoothed loss)`` points.

    Examples
    --------
    >>> curve = SmoothedBatchLoss()
    >>> def batch(number, mean_so_far):
    ...     return TrainingEvent(EventKind.BATCH, epoch=1, epochs=2, batch=number, steps=4, loss=mean_so_far,
    ...                          val_loss=None, learning_rate=1e-3, elapsed_s=0.0, eta_s=0.0, fraction=0.0)
    >>> curve.add(batch(1, 2.0))
    (0.25, 2.0)
    >>> x, y = curve.add(batch(3, 1.5))  # batches 2 and 3 had a mean loss of 1.25
    >>> x, round(y, 4)
    (0.75, 1.25)
    """

    def __init__(self) -> None:
        self._last = (0, 0.0)  # (batch, mean loss of its epoch so far) of the latest batch event
        self._smoothed: float | None = None

    def add(self, event: TrainingEvent) -> tuple[float, float] | None:
        """The point of a batch event (None for a non-finite loss or an event that is not a batch)."""
        if event.kind is not EventKind.BATCH:
            return None
        since = (0, 0.0) if event.batch <= self._last[0] else self._last
        count = event.batch - since[0]
        loss = (event.batch * event.loss - since[0] * since[1]) / count
        self._last = (event.batch, event.loss)
        if not math.isfinite(loss):
            return None
        weight = 1 - (1 - smoothing_weight(event.steps)) ** count
        self._smoothed = loss if self._smoothed is None else weight * loss + (1 - weight) * self._smoothed
        return event.epoch - 1 + event.batch / event.steps, self._smoothed
