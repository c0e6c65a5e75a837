"""A small view of the current slice with a rectangle the user drags over background.

The noise analysis needs "noise only" data: a box of background (resin, ice,
empty space) with little signal.  :func:`~engine.analysis.quiet_region.quietest_box` proposes one, the box
whose smoothed content varies least, and the user moves or resizes it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from et_denoise.engine.region import Region
from et_denoise.engine.analysis.quiet_region import quietest_box
from et_denoise.engine.contrast import percentile_levels

#: The proposed box is this share of the plane's shorter side...
BOX_SHARE = 0.3
#: ...but at least this many pixels (the autocorrelation needs more than its radius).
MIN_BOX = 32
#: Smallest side (pixels) the user can shrink the box to.
MIN_SIDE = 16
ROI_PEN = pg.mkPen("#ffc940", width=2)
ROI_HOVER_PEN = pg.mkPen("#fff3c4", width=3)


class RegionSelector(QWidget):
    """The current slice with a draggable, resizable rectangle.

    Signals
    -------
    region_changed(region)
        The user finished moving or resizing the rectangle (a :class:`~engine.region.Region`).
    """

    region_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shape = (0, 0)
        self.view = pg.GraphicsView()
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.setMouseEnabled(False, False)
        self.box.setDefaultPadding(0.01)
        self.view.setCentralItem(self.box)
        self.image = pg.ImageItem()
        self.box.addItem(self.image)
        self.roi = pg.RectROI((0, 0), (MIN_BOX, MIN_BOX), pen=ROI_PEN, hoverPen=ROI_HOVER_PEN,
                              handlePen=ROI_PEN, handleHoverPen=ROI_HOVER_PEN,
                              translateSnap=True, scaleSnap=True, snapSize=1.0, sideScalers=True)
        self.roi.setZValue(10)
        self.roi.sigRegionChanged.connect(self._update_caption)
        self.roi.sigRegionChangeFinished.connect(self._on_roi_change_finished)
        self.box.addItem(self.roi)
        self.view.setToolTip("Drag the rectangle over background (little structure, only noise); "
                             "drag its handles to resize it.")
        self.caption = QLabel()
        self.caption.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    # ------------------------------------------------------------ public
    def set_plane(self, plane: np.ndarray, *, propose: bool = False) -> None:
        """Show ``plane``; with ``propose`` (or a new size), put the rectangle on its quietest box."""
        shape = plane.shape
        self.image.setImage(plane, autoLevels=False, levels=percentile_levels(plane))
        if shape != self._shape:
            self._shape = shape
            self.roi.maxBounds = QRectF(0, 0, shape[1], shape[0])
            self.box.setRange(QRectF(0, 0, shape[1], shape[0]), padding=0.01)
            propose = True
        if propose:
            side = max(int(min(shape) * BOX_SHARE), MIN_BOX)
            self.set_region(quietest_box(plane, side))

    def region(self) -> Region:
        """The rectangle as a region of the plane (whole pixels, inside the image)."""
        height, width = self._shape
        x, y = (int(round(v)) for v in self.roi.pos())
        w, h = (int(round(v)) for v in self.roi.size())
        x0, y0 = min(max(x, 0), max(width - 1, 0)), min(max(y, 0), max(height - 1, 0))
        return Region(y0, min(y0 + max(h, 1), height), x0, min(x0 + max(w, 1), width))

    def set_region(self, region: Region) -> None:
        """Put the rectangle on ``region`` (emits :attr:`region_changed`)."""
        self.roi.setPos((region.x0, region.y0), update=False, finish=False)
        self.roi.setSize((region.x1 - region.x0, region.y1 - region.y0), finish=False)
        self.region_changed.emit(self.region())

    # ------------------------------------------------------------ handlers
    def _on_roi_change_finished(self) -> None:
        width, height = self.roi.size()
        if min(width, height) < MIN_SIDE:
            self.roi.setSize((max(width, MIN_SIDE), max(height, MIN_SIDE)), finish=False)
        self.region_changed.emit(self.region())

    def _update_caption(self) -> None:
        region = self.region()
        self.caption.setText(f"X {region.x0}–{region.x1}, Y {region.y0}–{region.y1}")
        self.caption.setToolTip(f"The region is {region.x1 - region.x0} × {region.y1 - region.y0} px.")

    def resizeEvent(self, event) -> None:  # Qt's name
        super().resizeEvent(event)
        if self._shape != (0, 0):
            self.box.setRange(QRectF(0, 0, self._shape[1], self._shape[0]), padding=0.01)
