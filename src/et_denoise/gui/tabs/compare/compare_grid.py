"""A grid of linked image views: the original and chosen results, zoomed, panned and sliced together.

Every tile shows the same slice; their view boxes are linked (``setXLink`` /
``setYLink``), so zooming or panning one moves all.  A line (for the
intensity profile) and two rectangles (signal and background regions of the
metrics) are drawn on every tile and mirrored: moving one on any tile moves
it on all.  XZ and YZ planes are drawn at the voxel aspect, as in the main
canvas (:mod:`gui.canvas.plane_aspect`); the line is given and read in pixels.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QToolButton, QVBoxLayout, QWidget
from superqt import QElidingLabel

from et_denoise.engine.region import Region
from et_denoise.engine.compare.figure import BACKGROUND_COLOUR, LINE_COLOUR, SIGNAL_COLOUR
from et_denoise.engine.contrast import percentile_levels
from et_denoise.gui.canvas.plane_aspect import place_plane, plane_rect

pg.setConfigOptions(imageAxisOrder="row-major")

#: Height of a tile's title bar, in pixels (used to choose the number of columns).
HEADER_HEIGHT = 40


class ContrastMode(enum.Enum):
    """How black and white are chosen for the tiles."""

    SHARED = "Shared contrast"
    PER_IMAGE = "Per-image contrast"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Tile:
    """What one tile shows.

    Attributes
    ----------
    key : object
        Handed back by :attr:`CompareGrid.tile_clicked`: a result, or ``None`` for the original.
    name : str
        Title (the result's name).
    subtitle : str
        Second title line: the key parameters.
    tooltip : str
        Everything about it (the full parameters and time).
    colour : str
        Title colour, also the colour of its line-profile curve.
    planes : ndarray, shape (Z, Y, X)
        The image as a stack (a 2-D image is one plane).
    """

    key: Any
    name: str
    subtitle: str
    tooltip: str
    colour: str
    planes: np.ndarray


class _TileView(QWidget):
    """A coloured title bar over a view box showing one image."""

    def __init__(self, tile: Tile, on_copy: Callable[..., None] | None) -> None:
        super().__init__()
        self.tile = tile
        self.title = QElidingLabel(tile.name)
        self.title.setObjectName("paneTitle")
        self.title.setStyleSheet(f"color: {tile.colour};")
        self.subtitle = QElidingLabel(tile.subtitle)
        self.subtitle.setObjectName("muted")
        for label in (self.title, self.subtitle):
            label.setToolTip(tile.tooltip)
        header = QWidget()
        header.setObjectName("paneHeader")
        header.setFixedHeight(HEADER_HEIGHT)
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.setSpacing(0)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(6, 2, 4, 2)
        header_layout.addLayout(text, 1)
        self.copy_button = None
        if on_copy is not None:
            self.copy_button = QToolButton()
            self.copy_button.setText(">_")
            self.copy_button.setAutoRaise(True)
            self.copy_button.setToolTip("Copy the command line that computes this result again")
            self.copy_button.clicked.connect(on_copy)
            header_layout.addWidget(self.copy_button)
        self.view = pg.GraphicsView()
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.disableAutoRange()  # the grid sets the range; a tile's own fit would override its links
        self.view.setCentralItem(self.box)
        self.view.setToolTip("Click to show this image against the original in the main view; "
                             "scroll to zoom, drag to pan (all tiles follow)")
        self.item = pg.ImageItem()
        self.box.addItem(self.item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.view, 1)


class _MirroredRoi(QObject):
    """One ROI per tile, kept identical: moving any of them moves the others.

    Signals
    -------
    moved()
        While any copy is dragged.
    finished()
        When a drag ends.
    """

    moved = Signal()
    finished = Signal()

    def __init__(self, make: Callable[[], pg.ROI]) -> None:
        super().__init__()
        self._make = make
        self._rois: list[pg.ROI] = []
        self._state: dict | None = None
        self._visible = True
        self._syncing = False

    @property
    def rois(self) -> list[pg.ROI]:
        """The copies, one per tile."""
        return list(self._rois)

    def state(self) -> dict | None:
        """pyqtgraph's saved state of the ROI."""
        return self._state

    def attach(self, box: pg.ViewBox, bounds: QRectF) -> None:
        """Add a copy to ``box``, kept within ``bounds``."""
        roi = self._make()
        roi.maxBounds = bounds
        if self._state is not None:
            roi.setState(self._state)
        roi.setVisible(self._visible)
        roi.sigRegionChanged.connect(self._on_roi_region_changed)
        roi.sigRegionChangeFinished.connect(lambda _roi: self.finished.emit() if not self._syncing else None)
        box.addItem(roi)
        self._rois.append(roi)

    def detach_all(self) -> None:
        """Forget every copy (their tiles are being removed)."""
        self._rois = []

    def set_state(self, state: dict) -> None:
        """Move every copy to ``state``."""
        self._state = state
        self._syncing = True
        try:
            for roi in self._rois:
                roi.setState(state)
        finally:
            self._syncing = False

    def set_visible(self, visible: bool) -> None:
        """Show or hide every copy."""
        self._visible = visible
        for roi in self._rois:
            roi.setVisible(visible)

    def _on_roi_region_changed(self, roi: pg.ROI) -> None:
        if self._syncing:
            return
        self._state = roi.saveState()
        self._syncing = True
        try:
            for other in self._rois:
                if other is not roi:
                    other.setState(self._state)
        finally:
            self._syncing = False
        self.moved.emit()


def _rect_roi(colour: str, dashed: bool, tip: str) -> Callable[[], pg.ROI]:
    def make() -> pg.ROI:
        pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        roi = pg.RectROI((0, 0), (1, 1), pen=pen, hoverPen=pg.mkPen(colour, width=3),
                         snapSize=1, translateSnap=True, scaleSnap=True, movable=True)
        roi.setToolTip(tip)
        roi.setZValue(8)
        return roi
    return make


def _line_roi() -> pg.ROI:
    roi = pg.LineSegmentROI([(0, 0), (1, 1)], pen=pg.mkPen(LINE_COLOUR, width=2),
                            hoverPen=pg.mkPen("#fff3a0", width=3))
    roi.setToolTip("Line profile: drag the ends or the line; every tile follows")
    roi.setZValue(9)
    return roi


class CompareGrid(QWidget):
    """The tiles, their linked views and the mirrored line and regions.

    Signals
    -------
    tile_clicked(key)
        A tile was clicked: its :attr:`Tile.key`.
    copy_requested(key)
        The copy button of a tile was clicked.
    line_moved()
        The profile line moved (while dragging).
    regions_changed()
        A region was moved or resized (when the drag ends).
    """

    tile_clicked = Signal(object)
    copy_requested = Signal(object)
    line_moved = Signal()
    regions_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: list[Tile] = []
        self._views: list[_TileView] = []
        self._plane: Callable[[np.ndarray], np.ndarray] = _first_plane
        self._shown_shape: tuple[int, int] | None = None  # of the planes shown (plane() may already differ)
        self._row_scale = 1.0  # height of a plane pixel over its width (view units per row)
        self._contrast = ContrastMode.SHARED
        self._columns = 0
        self._line = _MirroredRoi(_line_roi)
        self._signal = _MirroredRoi(_rect_roi(SIGNAL_COLOUR, False, "Signal region of SNR and CNR: "
                                              "put it on structure; drag to move, corner to resize"))
        self._background = _MirroredRoi(_rect_roi(BACKGROUND_COLOUR, True, "Background region of SNR and CNR: "
                                                  "put it where there is no structure"))
        self._line.moved.connect(self.line_moved)
        for roi in (self._signal, self._background):
            roi.finished.connect(self.regions_changed)
        self._target: QRectF | None = None  # what the user wants in view: kept while tiles resize
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._apply_target)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)

    # ------------------------------------------------------------ public
    @property
    def tiles(self) -> list[Tile]:
        """The tiles shown, in order."""
        return list(self._tiles)

    def boxes(self) -> list[pg.ViewBox]:
        """The tiles' view boxes (all linked to the first)."""
        return [view.box for view in self._views]

    def views(self) -> list[_TileView]:
        """The tile widgets."""
        return list(self._views)

    def line_rois(self) -> list[pg.ROI]:
        """The profile line on each tile."""
        return self._line.rois

    def region_rois(self) -> tuple[list[pg.ROI], list[pg.ROI]]:
        """The signal and the background rectangles on each tile."""
        return self._signal.rois, self._background.rois

    def set_tiles(self, tiles: Sequence[Tile], plane: Callable[[np.ndarray], np.ndarray] | None = None, *,
                  regions: bool = True, row_scale: float = 1.0) -> None:
        """Show ``plane(tile.planes)`` of each tile, keeping the zoom when the plane's size is unchanged.

        ``plane`` picks the 2-D plane shown from a (Z, Y, X) stack (default its
        first slice): an XY slice, or an XZ or YZ plane.  ``regions`` False
        leaves the signal and background rectangles off (they are XY boxes).
        ``row_scale`` stretches the rows (the voxel aspect of an XZ or YZ plane,
        :meth:`~gui.slice_view.SliceView.row_scale`); the line keeps its pixels.
        """
        old_shape, old_scale, line = self._shown_shape, self._row_scale, self.line()
        self._row_scale = row_scale
        for view in self._views:
            self._grid.removeWidget(view)
            view.hide()  # at once: the deletion waits for the event loop
            view.deleteLater()
        for roi in (self._line, self._signal, self._background):
            roi.detach_all()
        self._tiles, self._views, self._plane, self._columns = list(tiles), [], plane or _first_plane, 0
        if not self._tiles:
            self._shown_shape = None
            return
        self._shown_shape = self._plane_shape()
        bounds = plane_rect(self._shown_shape, row_scale)
        for tile in self._tiles:
            copy = None if tile.key is None else (lambda _checked=False, key=tile.key: self.copy_requested.emit(key))
            view = _TileView(tile, copy)
            if self._views:
                view.box.setXLink(self._views[0].box)
                view.box.setYLink(self._views[0].box)
            for roi in (self._background, self._signal, self._line) if regions else (self._line,):
                roi.attach(view.box, bounds)
            view.view.scene().sigMouseClicked.connect(lambda event, key=tile.key: self._on_scene_clicked(event, key))
            view.box.sigRangeChangedManually.connect(lambda _mask, box=view.box: self._on_box_range_changed(box))
            view.box.sigResized.connect(self._fit_timer.start)
            self._views.append(view)
        if line is not None and row_scale != old_scale:
            self.set_line(*line)
        self._arrange()
        self._show_slice()
        if self._target is None or (old_shape, old_scale) != (self._shown_shape, row_scale):
            self.reset_view()
        else:
            self._apply_target()

    def set_plane(self, plane: Callable[[np.ndarray], np.ndarray]) -> None:
        """Show ``plane(tile.planes)`` on every tile: another plane of the same size (the next slice)."""
        self._plane = plane
        self._show_slice()

    def contrast_mode(self) -> ContrastMode:
        """Shared or per-image contrast."""
        return self._contrast

    def set_contrast_mode(self, mode: ContrastMode) -> None:
        """Use one contrast for all tiles (the original's) or each tile's own."""
        self._contrast = mode
        self._show_slice()

    def levels(self) -> list[tuple[float, float]]:
        """Black and white of each tile."""
        return [tuple(float(v) for v in view.item.getLevels()) for view in self._views]

    def current_planes(self) -> list[np.ndarray]:
        """The plane each tile shows."""
        return [self._plane(tile.planes) for tile in self._tiles]

    def reset_view(self) -> None:
        """Fit the whole image in the views."""
        if self._tiles:
            rect = plane_rect(self._plane_shape(), self._row_scale)
            margin = 0.02 * max(rect.width(), rect.height())
            self._target = rect.adjusted(-margin, -margin, margin, margin)
            self._apply_target()

    def line(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The profile line's ends ``(x, y)`` in pixel coordinates (pixel centres at whole numbers)."""
        state = self._line.state()
        if state is None:
            return None
        x, y = state["pos"]
        (x0, y0), (x1, y1) = state["points"]
        scale = self._row_scale
        return (x + x0 - 0.5, (y + y0) / scale - 0.5), (x + x1 - 0.5, (y + y1) / scale - 0.5)

    def set_line(self, start: Sequence[float], end: Sequence[float]) -> None:
        """Put the profile line from ``start`` to ``end`` ``(x, y)``, pixel centres at whole numbers."""
        scale = self._row_scale
        points = [(float(start[0]) + 0.5, (float(start[1]) + 0.5) * scale),
                  (float(end[0]) + 0.5, (float(end[1]) + 0.5) * scale)]
        self._line.set_state({"pos": (0.0, 0.0), "size": (1.0, 1.0), "angle": 0.0, "points": points})
        self.line_moved.emit()

    def regions(self) -> tuple[Region, Region] | None:
        """The signal and background regions as pixel boxes."""
        states = (self._signal.state(), self._background.state())
        if None in states:
            return None
        return tuple(_region(state) for state in states)

    def set_regions(self, signal: Region, background: Region) -> None:
        """Place the signal and background rectangles."""
        for roi, region in ((self._signal, signal), (self._background, background)):
            roi.set_state({"pos": (float(region.x0), float(region.y0)),
                           "size": (float(region.x1 - region.x0), float(region.y1 - region.y0)), "angle": 0.0})
        self.regions_changed.emit()

    def set_regions_visible(self, visible: bool) -> None:
        """Show or hide the region rectangles (they are measured either way)."""
        self._signal.set_visible(visible)
        self._background.set_visible(visible)

    # ------------------------------------------------------------ helpers
    def _plane_shape(self) -> tuple[int, int]:
        return self._plane(self._tiles[0].planes).shape

    def _show_slice(self) -> None:
        if not self._tiles:
            return
        planes = self.current_planes()
        shared = percentile_levels(planes[0])
        for view, plane in zip(self._views, planes):
            levels = shared if self._contrast is ContrastMode.SHARED else percentile_levels(plane)
            view.item.setImage(plane, autoLevels=False, levels=levels)
            place_plane(view.item, plane.shape, self._row_scale)

    def _apply_target(self) -> None:
        """Show the wanted rectangle again.

        Linked views that lock their aspect ratio widen their range to fit
        whenever one is resized on its own (as happens while the layout
        settles); re-applying the wanted rectangle undoes that growth.
        """
        if self._views and self._target is not None:
            self._views[0].box.setRange(self._target, padding=0)

    def _on_box_range_changed(self, box: pg.ViewBox) -> None:
        self._target = box.viewRect()

    def _best_columns(self) -> int:
        """The number of columns that makes the tiles largest in the widget's current size."""
        count = len(self._tiles)
        height, width = self._plane_shape()
        height *= self._row_scale
        room_w, room_h = max(self.width(), 1), max(self.height(), 1)

        def scale(columns: int) -> float:
            rows = math.ceil(count / columns)
            return min(room_w / columns / width, (room_h / rows - HEADER_HEIGHT) / height)

        return max(range(1, count + 1), key=scale)

    def _arrange(self) -> None:
        columns = self._best_columns()
        if columns == self._columns:
            return
        self._columns = columns
        for view in self._views:
            self._grid.removeWidget(view)
        for index, view in enumerate(self._views):
            self._grid.addWidget(view, *divmod(index, columns))
        for column in range(self._grid.columnCount()):
            self._grid.setColumnStretch(column, 1 if column < columns else 0)
        for row in range(self._grid.rowCount()):
            self._grid.setRowStretch(row, 1 if row < math.ceil(len(self._views) / columns) else 0)

    def resizeEvent(self, event) -> None:  # Qt's name
        super().resizeEvent(event)
        if self._tiles:
            self._arrange()

    def _on_scene_clicked(self, event, key) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not event.isAccepted() and not event.double():
            self.tile_clicked.emit(key)


def _first_plane(planes: np.ndarray) -> np.ndarray:
    return planes[0]


def _region(state: dict) -> Region:
    x, y = (int(round(v)) for v in state["pos"])
    width, height = (max(int(round(v)), 1) for v in state["size"])
    return Region(y, y + height, x, x + width)
