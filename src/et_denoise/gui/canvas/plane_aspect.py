"""Planes drawn at their true aspect: XZ and YZ rows stretched by the voxel's Z size over its X (or Y) size.

One mechanism for every view of a plane (the main canvas, the Compare grid):
the image keeps its pixels and is drawn into a rectangle whose height is the
rows times :meth:`~gui.slice_view.SliceView.row_scale`, so that items drawn
on it (lines, cursors) use view units: columns, and rows × the row scale.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF


def plane_rect(shape: tuple[int, int], row_scale: float) -> QRectF:
    """The rectangle, in view units, that a plane of ``shape`` (rows, columns) covers."""
    height, width = shape
    return QRectF(0, 0, width, height * row_scale)


def place_plane(item: pg.ImageItem, shape: tuple[int, int], row_scale: float) -> None:
    """Draw ``item``, showing a plane of ``shape``, with its rows stretched by ``row_scale``."""
    item.setRect(plane_rect(shape, row_scale))
