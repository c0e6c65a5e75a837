"""The live loss plot: batch losses recovered from Keras's running means, one point per epoch, log scale."""

import numpy as np
import pytest

from et_denoise.engine.n2v import EventKind, History, TrainingEvent
from et_denoise.gui.tabs.structn2v.loss_plot import LossPlot


def _event(kind, epoch, batch, steps, loss, val_loss=None):
    return TrainingEvent(kind, epoch, 2, batch, steps, loss, val_loss, 4e-4, 0.0, 0.0, 0.0)


@pytest.fixture
def plot(qtbot):
    widget = LossPlot()
    qtbot.addWidget(widget)
    return widget


def test_batch_points_are_the_mean_loss_since_the_previous_event(plot):
    losses = [4.0, 2.0, 3.0, 1.0, 5.0]  # one epoch of 5 batches; steps < 10 means no smoothing
    plot.start(2)
    running = np.cumsum(losses) / np.arange(1, 6)
    for batch in (1, 3, 5):  # batches 2 and 4 were not reported
        plot.add_event(_event(EventKind.BATCH, 1, batch, 5, running[batch - 1]))
    plot.add_event(_event(EventKind.EPOCH, 1, 5, 5, running[-1], 2.5))
    x, y = plot.batch_curve.getData()
    np.testing.assert_allclose(x, [0.2, 0.6, 1.0])
    np.testing.assert_allclose(y, [4.0, 2.5, 3.0])  # batch 1; mean of 2-3; mean of 4-5
    assert plot.epoch_points() == (1, 1) and "validation 2.5" in plot.placeholder.text()


def test_a_new_epoch_restarts_the_running_mean_and_nan_is_skipped(plot):
    plot.start(2)
    plot.add_event(_event(EventKind.BATCH, 1, 1, 2, 3.0))
    plot.add_event(_event(EventKind.BATCH, 1, 2, 2, 2.0))
    plot.add_event(_event(EventKind.EPOCH, 1, 2, 2, 2.0, 1.5))
    plot.add_event(_event(EventKind.BATCH, 2, 1, 2, 0.5))
    plot.add_event(_event(EventKind.BATCH, 2, 2, 2, float("nan")))
    plot.add_event(_event(EventKind.EPOCH, 2, 2, 2, float("nan"), None))
    np.testing.assert_allclose(plot.batch_curve.getData()[1], [3.0, 1.0, 0.5])
    assert plot.epoch_points() == (1, 1)


def test_history_of_a_loaded_model_and_log_scale(plot):
    plot.show_history(History(loss=[1.0, 0.5, 0.25], val_loss=[0.9, 0.6, 0.3], learning_rate=[4e-4] * 3))
    assert plot.epoch_points() == (3, 3)
    plot.log_scale.setChecked(True)
    assert plot.plot.getPlotItem().ctrl.logYCheck.isChecked()
