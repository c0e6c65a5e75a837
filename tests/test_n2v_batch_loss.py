"""The live loss plot's batch curve: each batch's own loss, recovered from Keras's running means, smoothed."""

import math

from et_denoise.engine.n2v.batch_loss import SmoothedBatchLoss, smoothing_weight
from et_denoise.engine.n2v.monitor import EventKind, TrainingEvent


def _batch(epoch, batch, mean_so_far, steps=10):
    return TrainingEvent(EventKind.BATCH, epoch=epoch, epochs=3, batch=batch, steps=steps, loss=mean_so_far,
                         val_loss=None, learning_rate=1e-3, elapsed_s=0.0, eta_s=0.0, fraction=0.0)


def test_skipped_batches_are_recovered_from_the_running_mean_and_a_new_epoch_starts_afresh():
    curve = SmoothedBatchLoss()
    weight = smoothing_weight(10)
    assert curve.add(_batch(1, 1, 4.0)) == (0.1, 4.0)
    x, y = curve.add(_batch(1, 4, 2.5))  # batches 2 to 4 had a mean loss of 2.0
    mixed = 1 - (1 - weight) ** 3
    assert x == 0.4 and math.isclose(y, mixed * 2.0 + (1 - mixed) * 4.0)
    x, y_next = curve.add(_batch(2, 1, 1.0))  # the running mean restarts with the epoch
    assert math.isclose(x, 1.1) and math.isclose(y_next, weight * 1.0 + (1 - weight) * y)


def test_a_non_finite_loss_and_epoch_events_add_no_point():
    curve = SmoothedBatchLoss()
    assert curve.add(_batch(1, 1, float("nan"))) is None
    epoch = TrainingEvent(EventKind.EPOCH, epoch=1, epochs=3, batch=10, steps=10, loss=1.0, val_loss=1.1,
                          learning_rate=1e-3, elapsed_s=1.0, eta_s=2.0, fraction=1 / 3)
    assert curve.add(epoch) is None
    assert curve.add(_batch(2, 1, 3.0)) == (1.1, 3.0)  # the next epoch plots again


def test_the_smoothing_spans_a_tenth_of_an_epoch_within_1_to_50_batches():
    assert smoothing_weight(5) == 1.0
    assert smoothing_weight(100) == 2 / 11
    assert smoothing_weight(10_000) == 2 / 51
