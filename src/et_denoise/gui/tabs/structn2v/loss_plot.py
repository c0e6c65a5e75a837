"""Live plot of a Noise2Void training: loss per epoch, validation loss, smoothed batch loss.

The curves are built once and updated with ``setData``.  Batch events arrive
up to ten times a second, so the batch curve is redrawn (throttled) at most every
:data:`REFRESH_MS`; epoch points are drawn as soon as they arrive.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from et_denoise.engine.n2v.batch_loss import SmoothedBatchLoss
from et_denoise.engine.n2v.monitor import EventKind, History, TrainingEvent
from et_denoise.gui.theme import ACCENT, MUTED

#: Redraw the batch curve at most this often while training.
REFRESH_MS = 1000
VALIDATION_COLOUR = "#f0a040"
BATCH_COLOUR = "#7f8896"
#: Preferred and smallest height of the plot, in pixels.
PLOT_HEIGHT = 150


class _PlotWidget(pg.PlotWidget):
    """A plot that asks for little height, so the tab fits a short dock and grows when there is room."""

    def sizeHint(self) -> QSize:  # Qt's name
        return QSize(300, PLOT_HEIGHT)


def _points(curve: pg.PlotDataItem) -> int:
    x, _y = curve.getData()
    return 0 if x is None else len(x)


class LossPlot(QWidget):
    """Loss curves of one training run, with a log-scale switch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._batch_x: list[float] = []
        self._batch_y: list[float] = []
        self._epoch_x: list[float] = []
        self._loss: list[float] = []
        self._val_x: list[float] = []
        self._val_loss: list[float] = []
        self._batch_loss = SmoothedBatchLoss()
        self._draw_batches_soon = qthrottled(self._draw_batches, timeout=REFRESH_MS, leading=False, parent=self)
        self._build_widgets()

    def _build_widgets(self) -> None:
        self.plot = _PlotWidget()
        self.plot.setMinimumHeight(PLOT_HEIGHT)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "Epoch")
        item.setLabel("left", "Loss")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.getViewBox().setMouseEnabled(x=False, y=False)
        legend = item.addLegend(offset=(-6, 6), labelTextColor=MUTED, labelTextSize="8pt")
        legend.setBrush(pg.mkBrush(18, 20, 23, 200))
        legend.setColumnCount(3)
        self.batch_curve = item.plot(pen=pg.mkPen(BATCH_COLOUR, width=1), name="batch, smoothed")
        self.loss_curve = item.plot(pen=pg.mkPen(ACCENT, width=2), symbol="o", symbolSize=6,
                                    symbolBrush=ACCENT, symbolPen=None, name="training")
        self.val_curve = item.plot(pen=pg.mkPen(VALIDATION_COLOUR, width=2), symbol="s", symbolSize=6,
                                   symbolBrush=VALIDATION_COLOUR, symbolPen=None, name="validation")
        self.placeholder = QLabel("The loss appears here while the network trains.")
        self.placeholder.setObjectName("muted")
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis.")
        self.log_scale.toggled.connect(self._on_log_scale_toggled)
        footer = QHBoxLayout()
        footer.setContentsMargins(0, 0, 0, 0)
        footer.addWidget(self.placeholder, 1)
        footer.addWidget(self.log_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addLayout(footer)

    # ------------------------------------------------------------ public
    def start(self, epochs: int) -> None:
        """Forget the curves and get ready for a run of ``epochs`` epochs."""
        for values in (self._batch_x, self._batch_y, self._epoch_x, self._loss, self._val_x, self._val_loss):
            values.clear()
        self._batch_loss = SmoothedBatchLoss()
        self.plot.getPlotItem().setXRange(0, epochs, padding=0.05)
        self.placeholder.setText("Training…")
        self._draw_epochs()
        self._draw_batches()

    def add_event(self, event: TrainingEvent) -> None:
        """Record one training event (batch or epoch)."""
        if event.kind is EventKind.BATCH:
            self._add_batch(event)
        else:
            self._add_epoch(event.epoch, event.loss, event.val_loss)
            self.placeholder.setText(f"Epoch {event.epoch} of {event.epochs}: loss {event.loss:.4g}"
                                     + (f", validation {event.val_loss:.4g}" if event.val_loss is not None else ""))
            self._draw_epochs()
            self._draw_batches()

    def show_history(self, history: History) -> None:
        """Show the per-epoch losses of a finished (or loaded) model."""
        self.start(max(len(history.loss), 1))
        for epoch, (loss, val_loss) in enumerate(zip(history.loss, history.val_loss), start=1):
            self._add_epoch(epoch, loss, val_loss)
        self.placeholder.setText(f"{len(history.loss)} epochs recorded with the model.")
        self._draw_epochs()

    def epoch_points(self) -> tuple[int, int]:
        """Number of (training, validation) points drawn."""
        return _points(self.loss_curve), _points(self.val_curve)

    # ------------------------------------------------------------ helpers
    def _on_log_scale_toggled(self, log: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=log)

    def _add_batch(self, event: TrainingEvent) -> None:
        point = self._batch_loss.add(event)
        if point is None:
            return
        self._batch_x.append(point[0])
        self._batch_y.append(point[1])
        self._draw_batches_soon()

    def _add_epoch(self, epoch: int, loss: float, val_loss: float | None) -> None:
        if math.isfinite(loss):
            self._epoch_x.append(float(epoch))
            self._loss.append(loss)
        if val_loss is not None and math.isfinite(val_loss):
            self._val_x.append(float(epoch))
            self._val_loss.append(val_loss)

    def _draw_batches(self) -> None:
        self._draw_batches_soon.cancel()
        self.batch_curve.setData(np.asarray(self._batch_x), np.asarray(self._batch_y))

    def _draw_epochs(self) -> None:
        self.loss_curve.setData(np.asarray(self._epoch_x), np.asarray(self._loss))
        self.val_curve.setData(np.asarray(self._val_x), np.asarray(self._val_loss))
