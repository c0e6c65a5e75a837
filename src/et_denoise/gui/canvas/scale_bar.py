"""A scale bar whose length is a round number of nm (or µm, Å) for the current zoom."""

from __future__ import annotations

import pyqtgraph as pg

from et_denoise.engine.scale_bar import format_length, nice_length

__all__ = ["ScaleBar", "format_length", "nice_length"]


class ScaleBar(pg.ScaleBar):
    """Shows about a fifth of the visible image width as a round physical length.

    Parent it to a ViewBox with ``setParentItem``; ``pixel_size`` is in Å per
    pixel.  The bar sits in the bottom-right corner of the part of the image
    in view, never past the image's edge.
    """

    #: Pixels from the bar's right end and its label's bottom to the image's corner.
    MARGIN = (12, 10)

    def __init__(self, pixel_size: float) -> None:
        super().__init__(size=1, width=5, brush=pg.mkBrush("#f5f5f5"), pen=pg.mkPen("#111111"),
                         suffix="")
        self.offset = None  # placed by updateBar, not anchored to the view's corner
        self.pixel_size = float(pixel_size)
        self.image_size = (0.0, 0.0)
        self.text.fill = pg.mkBrush(0, 0, 0, 140)
        self.text.setColor("#f5f5f5")

    def set_pixel_size(self, pixel_size: float) -> None:
        """Change the Å-per-pixel calibration."""
        self.pixel_size = float(pixel_size)
        self.updateBar()

    def set_image_size(self, width: float, height: float) -> None:
        """The image's extent in view units (columns, rows stretched by the voxel aspect)."""
        self.image_size = (float(width), float(height))
        self.updateBar()

    def changeParent(self) -> None:  # pyqtgraph's name
        super().changeParent()
        view = self.parentItem()
        if view is not None:  # the range changes before the view's transform: place the bar after both
            view.sigTransformChanged.connect(self.updateBar)
            view.sigResized.connect(self.updateBar)

    def updateBar(self) -> None:  # pyqtgraph's name
        view = self.parentItem()
        if view is None:
            return
        (x0, x1), (y0, y1) = view.viewRange()
        width, height = self.image_size
        right, bottom = (min(x1, width), min(y1, height)) if width and height else (x1, y1)
        visible = (right - max(x0, 0.0)) * self.pixel_size
        if visible > 0:
            length = nice_length(visible / 5)
            self.size = length / self.pixel_size
            self.text.setText(format_length(length))
        super().updateBar()
        corner = view.mapFromView(pg.Point(right, bottom))
        self.setPos(corner.x() - self.MARGIN[0], corner.y() - self.MARGIN[1] - self._width)
