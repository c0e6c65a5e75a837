"""The comparison canvas: the original against a result, split by a line the user drags.

Modes (as silx's CompareImages): a split view (wipe), side by side with linked
zoom and pan, the difference original − result, and either image alone.  One
contrast (levels and colour table) is shared by the original and the result;
the difference has its own, centred on zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPen, QShortcut
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QHBoxLayout, QLabel, QStackedWidget,
                               QVBoxLayout, QWidget)

from superqt import QElidingLabel

from et_denoise.engine.contrast import percentile_levels, symmetric_levels
from et_denoise.gui.model import Document
from et_denoise.gui.canvas.plane_aspect import place_plane
from et_denoise.gui.canvas.scale_bar import ScaleBar
from et_denoise.gui.slice_view import Orientation

pg.setConfigOptions(imageAxisOrder="row-major")


def _skip_matplotlib_leftover_maps() -> None:
    """Keep pyqtgraph's colour-table menu from importing matplotlib.pyplot at startup.

    Every histogram's menu lists matplotlib's "other" colour maps, which imports
    pyplot: half a second before the window can appear.  Only that "Others"
    entry is dropped; the matplotlib categories stay (they load when opened).
    """
    from pyqtgraph.widgets import ColorMapMenu

    if hasattr(ColorMapMenu, "find_mpl_leftovers"):
        ColorMapMenu.find_mpl_leftovers = lambda: []


_skip_matplotlib_leftover_maps()

WIPE_PEN = pg.mkPen("#ffc940", width=2)
WIPE_HOVER_PEN = pg.mkPen("#fff3c4", width=4)
HISTOGRAM_FILL = (120, 150, 190, 170)
LEVELS_BAND = (255, 255, 255, 22)
#: + / − zoom by this factor; an arrow key pans by this fraction of the view.
ZOOM_STEP = 1.25
PAN_STEP = 0.1
CURSOR_PEN = pg.mkPen((120, 220, 255, 150), width=1, style=Qt.PenStyle.DashLine)


class CompareMode(enum.Enum):
    """How the original (A) and the compared image (B) are shown."""

    SPLIT = "Split"
    SIDE_BY_SIDE = "Side by side"
    DIFFERENCE = "Difference"
    ORIGINAL = "Original"
    RESULT = "Result"


@dataclass(frozen=True)
class PixelInfo:
    """The values under the mouse: pixel (x, y) of slice z in both images."""

    x: int
    y: int
    z: int
    original: float
    compared: float | None


class _Pane(QWidget):
    """A title line over a pyqtgraph view box that shows images."""

    def __init__(self) -> None:
        super().__init__()
        # Eliding titles: a long result name never widens the window.
        self.left_title = QElidingLabel()
        self.right_title = QElidingLabel()
        self.right_title.setElideMode(Qt.TextElideMode.ElideLeft)
        self.right_title.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for label in (self.left_title, self.right_title):
            label.setObjectName("paneTitle")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setMinimumWidth(40)
        header = QWidget()
        header.setObjectName("paneHeader")
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(8, 3, 8, 3)
        header_layout.addWidget(self.left_title, 1)
        header_layout.addWidget(self.right_title, 1)
        self.view = pg.GraphicsView()
        self.box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.setDefaultPadding(0.02)
        self.view.setCentralItem(self.box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.view, 1)

    def set_titles(self, left: str, right: str = "") -> None:
        self.left_title.setText(left)
        self.right_title.setText(right)


class CompareCanvas(QWidget):
    """Shows the document's current slice against its comparison.

    Signals
    -------
    hovered(info)
        A :class:`PixelInfo` for the pixel under the mouse, or ``None`` off the image.
    mode_changed(mode)
    """

    hovered = Signal(object)
    mode_changed = Signal(object)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._mode = CompareMode.SPLIT
        self._wipe_fraction = 0.5
        self._shape = (1, 1)
        self._row_scale = 1.0
        self._hover: tuple[int, int] | None = None
        self._build_panes()
        self._build_items()
        self._build_histograms()
        self._build_layout()
        document.image_opened.connect(self._on_document_image_opened)
        document.slice_changed.connect(self._on_document_slice_changed)
        document.comparison_changed.connect(self._on_document_comparison_changed)
        document.view.changed.connect(self._on_view_changed)
        document.voxel_size_changed.connect(self._on_document_voxel_size_changed)
        document.results.changed.connect(self._on_results_changed)
        self._build_keys()

    # ------------------------------------------------------------ builders
    def _build_panes(self) -> None:
        self.pane_a = _Pane()
        self.pane_b = _Pane()
        self.pane_b.box.setXLink(self.pane_a.box)
        self.pane_b.box.setYLink(self.pane_a.box)
        self.pane_b.hide()
        for pane in (self.pane_a, self.pane_b):
            pane.view.scene().sigMouseMoved.connect(
                lambda position, pane=pane: self._on_pane_mouse_moved(pane, position))
            pane.view.scene().sigMouseClicked.connect(
                lambda event, pane=pane: self._on_pane_mouse_clicked(pane, event))
            pane.view.viewport().installEventFilter(self)

    def _build_items(self) -> None:
        box = self.pane_a.box
        self.item_a = pg.ImageItem()
        self.item_diff = pg.ImageItem()
        self.clip = QGraphicsRectItem()
        self.clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.item_b = pg.ImageItem()
        self.item_b.setParentItem(self.clip)
        self.item_b_side = pg.ImageItem()
        self.wipe_line = pg.InfiniteLine(angle=90, movable=True, pen=WIPE_PEN, hoverPen=WIPE_HOVER_PEN)
        self.wipe_line.setToolTip("Drag to move the split between the original and the result")
        self.wipe_line.setZValue(10)
        self.wipe_line.sigPositionChanged.connect(self._on_wipe_line_moved)
        for item in (self.item_a, self.item_diff, self.clip, self.wipe_line):
            box.addItem(item)
        self.pane_b.box.addItem(self.item_b_side)
        # The linked cursor: where the other two planes cut the one shown (XZ and YZ views).
        self.cursor_lines = []
        for pane in (self.pane_a, self.pane_b):
            for angle in (0, 90):
                line = pg.InfiniteLine(angle=angle, movable=False, pen=CURSOR_PEN)
                line.setZValue(9)
                line.hide()
                pane.box.addItem(line)
                self.cursor_lines.append(line)
        self.scale_bar = ScaleBar(1.0)
        self.scale_bar.setParentItem(box)
        self.scale_bar.hide()

    def _build_histograms(self) -> None:
        self.histogram = pg.HistogramLUTWidget(gradientPosition="left")
        self.histogram.setImageItem(self.item_a)
        self.histogram.item.sigLevelsChanged.connect(self._on_histogram_contrast_changed)
        self.histogram.item.sigLevelChangeFinished.connect(self._on_histogram_contrast_changed)
        self.histogram.item.sigLookupTableChanged.connect(self._on_histogram_contrast_changed)
        self.histogram.setToolTip("Contrast shared by the original and the result: drag the edges "
                                  "of the shaded band to set black and white; right-click the "
                                  "colour bar for other colour tables.")
        self.diff_histogram = pg.HistogramLUTWidget(gradientPosition="left")
        self.diff_histogram.setImageItem(self.item_diff)
        self.diff_histogram.setToolTip("Contrast of the difference original − result, centred on zero.")
        for widget in (self.histogram, self.diff_histogram):
            widget.item.fillHistogram(True, color=HISTOGRAM_FILL)
            widget.item.region.setBrush(pg.mkBrush(LEVELS_BAND))
        self.histograms = QStackedWidget()
        self.histograms.addWidget(self.histogram)
        self.histograms.addWidget(self.diff_histogram)
        self.histograms.setFixedWidth(118)

    def _build_layout(self) -> None:
        self.empty_hint = QLabel(
            "<p style='font-size:15pt'>No image open</p>"
            "<p>Open a tomogram or micrograph with <b>File ▸ Open…</b> (TIFF, MRC),<br>"
            "drop a file or folder here, or try <b>File ▸ Open sample</b>.</p>")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setObjectName("emptyHint")
        views = QWidget()
        views_layout = QHBoxLayout(views)
        views_layout.setContentsMargins(0, 0, 0, 0)
        views_layout.setSpacing(2)
        views_layout.addWidget(self.pane_a, 1)
        views_layout.addWidget(self.pane_b, 1)
        views_layout.addWidget(self.histograms)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_hint)
        self.pages.addWidget(views)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    def _build_keys(self) -> None:
        """+ / − zoom, arrow keys pan, while the image has the focus (click it first)."""
        keys = {"+": lambda: self.zoom(ZOOM_STEP), "=": lambda: self.zoom(ZOOM_STEP),
                "-": lambda: self.zoom(1 / ZOOM_STEP),
                "Left": lambda: self.pan(-PAN_STEP, 0), "Right": lambda: self.pan(PAN_STEP, 0),
                "Up": lambda: self.pan(0, -PAN_STEP), "Down": lambda: self.pan(0, PAN_STEP)}
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # ------------------------------------------------------------ public
    def zoom(self, factor: float) -> None:
        """Zoom in (``factor`` > 1) or out around the centre of the view."""
        self.pane_a.box.scaleBy((1 / factor, 1 / factor))

    def pan(self, dx: float, dy: float) -> None:
        """Move the view by these fractions of its width and height (positive: right, down)."""
        (x0, x1), (y0, y1) = self.pane_a.box.viewRange()
        self.pane_a.box.translateBy(x=dx * (x1 - x0), y=dy * (y1 - y0))

    @property
    def mode(self) -> CompareMode:
        """The current comparison mode."""
        return self._mode

    def set_mode(self, mode: CompareMode) -> None:
        """Switch between split, side by side, difference, original and result."""
        if mode is self._mode:
            return
        entering_difference = mode is CompareMode.DIFFERENCE
        self._mode = mode
        self.pane_b.setVisible(mode is CompareMode.SIDE_BY_SIDE)
        self.histograms.setCurrentWidget(self.diff_histogram if entering_difference else self.histogram)
        self.refresh()
        self._update_cursor_lines()
        if entering_difference:
            self.auto_contrast()
        self.mode_changed.emit(mode)

    @property
    def wipe_position(self) -> float:
        """X of the split line, in pixels of the image."""
        return float(self.wipe_line.value())

    def set_wipe_fraction(self, fraction: float) -> None:
        """Put the split line at ``fraction`` (0 = left edge, 1 = right edge) of the image width."""
        self.wipe_line.setValue(float(np.clip(fraction, 0, 1)) * self._shape[1])

    def levels(self) -> tuple[float, float]:
        """Black and white levels of the original and the result."""
        return tuple(self.histogram.item.getLevels())

    def set_levels(self, low: float, high: float) -> None:
        """Set the shared black and white levels."""
        self.histogram.item.setLevels(low, high)

    def auto_contrast(self) -> None:
        """Contrast from the 0.5 and 99.5 percentiles of what is shown (the original, or the difference)."""
        if not self.document.has_image:
            return
        if self._mode is CompareMode.DIFFERENCE:
            if self.item_diff.image is not None:
                self.diff_histogram.item.setLevels(*symmetric_levels(self.item_diff.image))
            return
        shown = self.document.view.original()
        if self._mode is CompareMode.RESULT and self.document.view.compared() is not None:
            shown = self.document.view.compared()
        self.set_levels(*percentile_levels(shown))

    def reset_view(self) -> None:
        """Fit the whole image in the view."""
        height, width = self._shape
        self.pane_a.box.setRange(QRectF(0, 0, width, height * self._row_scale), padding=0.02)

    def refresh(self) -> None:
        """Redraw the current slice of both images for the current mode."""
        if not self.document.has_image:
            return
        mode = self._mode
        original = self.document.view.original()
        compared = self.document.view.compared()
        self.item_a.setVisible(mode is not CompareMode.DIFFERENCE)
        self.item_diff.setVisible(mode is CompareMode.DIFFERENCE and compared is not None)
        self.clip.setVisible(mode in (CompareMode.SPLIT, CompareMode.RESULT) and compared is not None)
        self.wipe_line.setVisible(mode is CompareMode.SPLIT and compared is not None)
        if mode is not CompareMode.DIFFERENCE:
            self._show(self.item_a, original)
        if compared is None:
            self._update_titles()
            self._emit_hover()
            return
        if mode in (CompareMode.SPLIT, CompareMode.RESULT):
            self._show(self.item_b, compared)
            self._update_clip()
        elif mode is CompareMode.SIDE_BY_SIDE:
            self._show(self.item_b_side, compared)
        elif mode is CompareMode.DIFFERENCE:
            difference = np.subtract(original, compared, dtype=np.float32)
            self.item_diff.setImage(difference, autoLevels=False)
            self._place(self.item_diff)
        self._update_titles()
        self._emit_hover()

    # ------------------------------------------------------------ helpers
    def _show(self, item: pg.ImageItem, data: np.ndarray) -> None:
        item.setImage(data, autoLevels=False, levels=self.levels())
        self._place(item)
        if item is not self.item_a:
            item.setLookupTable(self.item_a.lut)

    def _place(self, item: pg.ImageItem) -> None:
        """Stretch the rows by the voxel aspect (Z over X in the XZ and YZ views)."""
        place_plane(item, self._shape, self._row_scale)

    def _update_cursor_lines(self) -> None:
        view = self.document.view
        shown = self.document.is_volume and view.orientation is not Orientation.XY
        row, column = view.cursor_in_plane()
        for index, line in enumerate(self.cursor_lines):
            in_pane = index < 2 or self._mode is CompareMode.SIDE_BY_SIDE
            line.setVisible(shown and in_pane)
            line.setValue((row + 0.5) * self._row_scale if line.angle == 0 else column + 0.5)

    def _plane_label(self) -> str:
        """`` · XZ at Y 49``: which plane is shown, when it is not XY."""
        view = self.document.view
        if view.orientation is Orientation.XY:
            return ""
        return f" · {view.orientation.label} at {view.orientation.axis_name} {view.index + 1}"

    def _update_clip(self) -> None:
        height, width = self._shape
        left = 0.0 if self._mode is CompareMode.RESULT else min(max(self.wipe_position, 0.0), width)
        self.clip.setRect(QRectF(left, 0, width - left, height * self._row_scale))

    def _update_titles(self) -> None:
        comparison = self.document.comparison
        name = comparison.name if comparison is not None else ""
        mode = self._mode
        if comparison is None:
            hint = "" if mode is CompareMode.ORIGINAL else "no result yet: change a parameter or apply a method"
            self.pane_a.set_titles("Original", hint)
        elif mode is CompareMode.SPLIT:
            self.pane_a.set_titles("◀ Original", f"{name} ▶")
        elif mode is CompareMode.SIDE_BY_SIDE:
            self.pane_a.set_titles("Original")
            self.pane_b.set_titles(name)
        elif mode is CompareMode.DIFFERENCE:
            self.pane_a.set_titles(f"Original − {name}")
        elif mode is CompareMode.ORIGINAL:
            self.pane_a.set_titles("Original")
        else:
            self.pane_a.set_titles(name)
        label = self._plane_label()
        if label:
            self.pane_a.left_title.setText(self.pane_a.left_title.text() + label)
            if comparison is not None and self.document.view.compared() is None:
                self.pane_a.right_title.setText(f"the {name} covers slice {self.document.z + 1} only: "
                                                "apply to the volume to see this plane")
        self.pane_a.right_title.setToolTip(comparison.summary() if comparison is not None else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """Ctrl/Shift + mouse wheel over the image steps through slices (plain wheel zooms)."""
        if event.type() == QEvent.Type.Wheel and event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            delta = event.angleDelta().y() or event.angleDelta().x()
            if delta:
                self.document.view.step(1 if delta > 0 else -1)
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ handlers
    def _on_document_image_opened(self, document: Document) -> None:
        self.pages.setCurrentIndex(1 if document.has_image else 0)
        self._hover = None
        if not document.has_image:
            return
        self._update_geometry()
        self._update_scale_bar()
        self.refresh()
        self._update_cursor_lines()
        self.auto_contrast()
        self.reset_view()

    def _update_scale_bar(self) -> None:
        voxel = self.document.voxel_size
        self.scale_bar.setVisible(bool(voxel) and voxel[-1] > 0)
        if self.scale_bar.isVisible():
            self.scale_bar.set_pixel_size(voxel[-1])

    def _on_document_voxel_size_changed(self, _voxel_size) -> None:
        self._update_scale_bar()
        self._on_view_changed(self.document.view)  # the XZ and YZ aspect follows the voxel size

    def _update_geometry(self) -> bool:
        """Size of the plane shown and its row aspect; True if either changed."""
        shape, scale = self.document.view.original().shape, self.document.view.row_scale()
        if (shape, scale) == (self._shape, self._row_scale):
            return False
        self._shape, self._row_scale = shape, scale
        self.scale_bar.set_image_size(shape[1], shape[0] * scale)
        self.wipe_line.setBounds((0, shape[1]))
        self.set_wipe_fraction(self._wipe_fraction)
        return True

    def _on_document_slice_changed(self, _z: int) -> None:
        self.refresh()
        self._update_cursor_lines()

    def _on_view_changed(self, _view) -> None:
        if not self.document.has_image:
            return
        reshaped = self._update_geometry()
        self.refresh()
        self._update_cursor_lines()
        if reshaped:
            self.reset_view()

    def _on_document_comparison_changed(self, _comparison) -> None:
        self.refresh()
        if self._mode is CompareMode.DIFFERENCE:
            self.auto_contrast()

    def _on_results_changed(self, result) -> None:
        if result is self.document.comparison:  # renamed: the titles show the new name
            self._update_titles()

    def _on_wipe_line_moved(self) -> None:
        if self._shape[1]:
            self._wipe_fraction = self.wipe_position / self._shape[1]
        self._update_clip()

    def _on_histogram_contrast_changed(self) -> None:
        levels = self.levels()
        for item in (self.item_b, self.item_b_side):
            item.setLevels(levels)
            item.setLookupTable(self.item_a.lut)

    def _plane_pixel(self, pane: _Pane, position: QPointF) -> tuple[int, int] | None:
        """(row, column) of the plane shown under scene ``position``, or None off the image."""
        if not self.document.has_image or not pane.box.sceneBoundingRect().contains(position):
            return None
        point = pane.box.mapSceneToView(position)
        column, row = int(np.floor(point.x())), int(np.floor(point.y() / self._row_scale))
        height, width = self._shape
        return (row, column) if 0 <= column < width and 0 <= row < height else None

    def _on_pane_mouse_moved(self, pane: _Pane, position: QPointF) -> None:
        self._hover = self._plane_pixel(pane, position)
        self._emit_hover()

    def _on_pane_mouse_clicked(self, pane: _Pane, event) -> None:
        """A click puts the linked cursor there: the other two planes go through that voxel."""
        if event.button() != Qt.MouseButton.LeftButton or not self.document.is_volume:
            return
        pixel = self._plane_pixel(pane, event.scenePos())
        if pixel is not None:
            z, y, x = self.document.view.voxel(*pixel)
            view = self.document.view
            # The plane shown stays; only the other two coordinates move.
            keep = view.orientation.value
            view.set_cursor(z=None if keep == 0 else z, y=None if keep == 1 else y, x=None if keep == 2 else x)

    def _emit_hover(self) -> None:
        """Tell the readout the values under the mouse (again after the slice or the image changed)."""
        if self._hover is None or not self.document.has_image:
            self.hovered.emit(None)
            return
        row, column = self._hover
        height, width = self._shape
        if not (0 <= column < width and 0 <= row < height):
            self.hovered.emit(None)
            return
        z, y, x = self.document.view.voxel(row, column)
        compared = self.document.view.compared()
        self.hovered.emit(PixelInfo(x, y, z, float(self.document.view.original()[row, column]),
                                    None if compared is None else float(compared[row, column])))
