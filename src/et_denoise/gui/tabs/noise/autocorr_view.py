"""Plots of a noise autocorrelation: a heat map with the blind-spot mask outlined, and its profiles.

The heat map shows the in-plane correlation coefficient ρ at each shift
(Δx, Δy) in a diverging colour map (blue negative, white zero, red positive)
with a range symmetric about zero; the cells of the suggested blind-spot mask
are outlined.  Below it the profiles along X, Y (and Z for a volume) are
plotted with the ±threshold that decides which neighbours join the mask (and
the fainter ± lobe-tail level down to which a kept lobe is followed).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from et_denoise.engine.analysis.autocorr import Autocorrelation
from et_denoise.engine.analysis.mask_suggestion import TAIL_FRACTION
from et_denoise.engine.n2v.masks import blind_spot_plane

#: Blue–white–red, as matplotlib's RdBu reversed (built here: no colour-map file to bundle).
DIVERGING = pg.ColorMap(np.linspace(0, 1, 7),
                        ["#053061", "#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b", "#67001f"],
                        name="RdBu_r")
#: The heat map shows shifts up to this far from the centre (suggested masks reach at most ±7 px).
HEAT_MAP_RADIUS = 8
HEAT_MAP_HEIGHT = 250
PROFILES_HEIGHT = 185
#: Default colour range ±LEVEL: the centre (ρ = 1) saturates, weak correlations stay visible.
LEVEL = 0.6
PROFILE_PENS = {"X": "#ff9f43", "Y": "#4dabf7", "Z": "#69db7c"}
REFERENCE_PEN = pg.mkPen("#c0c6cf", width=1.5, style=Qt.PenStyle.DashLine)
THRESHOLD_PEN = pg.mkPen("#8b939f", width=1, style=Qt.PenStyle.DotLine)
TAIL_PEN = pg.mkPen("#5f6671", width=1, style=Qt.PenStyle.DotLine)
OUTLINE_DARK = QColor("#101214")
OUTLINE_LIGHT = QColor("#ffd54a")


def outline_path(mask: np.ndarray) -> QPainterPath:
    """The edges between the mask's cells and the others, in shift coordinates (centre at 0, 0).

    Each cell is the square of side 1 around its shift, so a horizontal line
    of 9 gives a 9 × 1 rectangle from x = -4.5 to 4.5.
    """
    padded = np.pad(np.asarray(mask) > 0, 1)
    centre_y, centre_x = (side // 2 for side in padded.shape)
    path = QPainterPath()
    for row, column in np.argwhere(padded[:, 1:] != padded[:, :-1]):  # vertical edges
        x = column + 0.5 - centre_x
        path.moveTo(x, row - 0.5 - centre_y)
        path.lineTo(x, row + 0.5 - centre_y)
    for row, column in np.argwhere(padded[1:, :] != padded[:-1, :]):  # horizontal edges
        y = row + 0.5 - centre_y
        path.moveTo(column - 0.5 - centre_x, y)
        path.lineTo(column + 0.5 - centre_x, y)
    return path


def _outline_item(colour: QColor, width: float) -> QGraphicsPathItem:
    item = QGraphicsPathItem()
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.SquareCap)
    item.setPen(pen)
    return item


class AutocorrView(QWidget):
    """Heat map and profiles of an :class:`~engine.autocorr.Autocorrelation`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.acf: Autocorrelation | None = None
        self.mask: np.ndarray | None = None
        self.heat_plots = pg.GraphicsLayoutWidget()
        self.heat_plots.ci.setContentsMargins(0, 4, 0, 0)
        self.heat_plots.setFixedHeight(HEAT_MAP_HEIGHT)
        self.profile_plots = pg.GraphicsLayoutWidget()
        self.profile_plots.ci.setContentsMargins(0, 4, 4, 0)
        self.profile_plots.setFixedHeight(PROFILES_HEIGHT)
        self._build_heat_map()
        self._build_profiles()
        self.readout = QLabel(" ")
        self.readout.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.heat_plots)
        layout.addWidget(self.readout)
        layout.addWidget(self.profile_plots)

    # ------------------------------------------------------------ builders
    def _build_heat_map(self) -> None:
        self.heat = self.heat_plots.addPlot()
        self.heat.setMenuEnabled(False)
        self.heat.setMouseEnabled(False, False)
        self.heat.hideButtons()
        self.heat.invertY(True)
        self.heat.setAspectLocked(True)
        self.heat.setLabel("bottom", "shift along X (px)")
        self.heat.setLabel("left", "shift along Y (px)")
        self.heat_image = pg.ImageItem()
        self.heat.addItem(self.heat_image)
        self.colour_bar = pg.ColorBarItem(values=(-LEVEL, LEVEL), colorMap=DIVERGING, label="correlation ρ",
                                          width=14, interactive=False, colorMapMenu=False)
        self.colour_bar.setImageItem(self.heat_image, insert_in=self.heat)
        self.outline_under = _outline_item(OUTLINE_DARK, 4.0)
        self.outline = _outline_item(OUTLINE_LIGHT, 2.0)
        for item in (self.outline_under, self.outline):
            item.setZValue(5)
            self.heat.addItem(item)
        self.heat.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.heat.setToolTip("Correlation of the noise with itself shifted by (Δx, Δy); the centre is 1. "
                             "The outlined cells are the suggested blind-spot mask.")

    def _build_profiles(self) -> None:
        self.profiles = self.profile_plots.addPlot()
        self.profiles.setMenuEnabled(False)
        self.profiles.setMouseEnabled(False, False)
        self.profiles.hideButtons()
        self.profiles.showGrid(x=True, y=True, alpha=0.15)
        self.profiles.setLabel("bottom", "shift (px)")
        self.profiles.setLabel("left", "ρ")
        self.threshold_lines = self.profiles.plot(pen=THRESHOLD_PEN, connect="finite", name="± threshold")
        self.tail_lines = self.profiles.plot(pen=TAIL_PEN, connect="finite", name="± lobe tail")
        self.reference_curve = self.profiles.plot(pen=REFERENCE_PEN, name="raw noise, X")
        self.curves = {axis: self.profiles.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                                symbolPen=None, symbolBrush=colour, name=f"along {axis}")
                       for axis, colour in PROFILE_PENS.items()}
        # Below the axes, so it never hides a curve.
        self.legend = pg.LegendItem(colCount=3, labelTextSize="8pt", verSpacing=-8, horSpacing=12)
        self.profile_plots.addItem(self.legend, row=1, col=0)
        for item in (*self.curves.values(), self.threshold_lines, self.tail_lines, self.reference_curve):
            self.legend.addItem(item, item.name())
        self.profiles.addLine(y=0, pen=pg.mkPen("#5b626d", width=1))
        self.profiles.setToolTip("Correlation against a shift along one axis through the centre. "
                                 "Shifts whose |ρ| passes the dotted threshold join the mask; a lobe that does "
                                 "is followed outwards while it stays beyond the fainter lobe-tail line.")

    # ------------------------------------------------------------ public
    def show_autocorrelation(self, acf: Autocorrelation, mask: np.ndarray | None, threshold: float,
                             reference: Autocorrelation | None = None) -> None:
        """Draw ``acf`` with ``mask`` outlined; ``reference`` adds the raw noise's X profile (dashed)."""
        self.acf = acf
        radius = min(acf.radius, HEAT_MAP_RADIUS)
        self.heat_image.setImage(self.central(acf), autoLevels=False)
        self.heat_image.setRect(QRectF(-radius - 0.5, -radius - 0.5, 2 * radius + 1, 2 * radius + 1))
        self.colour_bar.setLevels((-LEVEL, LEVEL))
        self.heat.setRange(xRange=(-radius - 0.5, radius + 0.5), yRange=(-radius - 0.5, radius + 0.5),
                           padding=0)
        ticks = [[(value, f"{value:+d}" if value else "0") for value in range(-(radius // 4) * 4, radius + 1, 4)]]
        for side in ("bottom", "left"):
            self.heat.getAxis(side).setTicks(ticks)
        shifts = acf.shifts
        self.curves["X"].setData(shifts, acf.profile_x)
        self.curves["Y"].setData(shifts, acf.profile_y)
        if acf.z_radius:
            self.curves["Z"].setData(acf.z_shifts, acf.profile_z)
        else:
            self.curves["Z"].setData([], [])
        self._set_legend_visible(self.curves["Z"], bool(acf.z_radius))
        if reference is not None:
            self.reference_curve.setData(reference.shifts, reference.profile_x)
        else:
            self.reference_curve.setData([], [])
        self._set_legend_visible(self.reference_curve, reference is not None)
        self.profiles.setXRange(-acf.radius - 0.5, acf.radius + 0.5, padding=0)
        self.set_mask(mask, threshold)

    @staticmethod
    def central(acf: Autocorrelation) -> np.ndarray:
        """The part of the in-plane autocorrelation shown in the heat map (shifts up to ±HEAT_MAP_RADIUS)."""
        cut = max(acf.radius - HEAT_MAP_RADIUS, 0)
        return acf.plane[cut:acf.plane.shape[0] - cut, cut:acf.plane.shape[1] - cut]

    def set_mask(self, mask: np.ndarray | None, threshold: float) -> None:
        """Outline ``mask`` (``None``: nothing) and draw the ±``threshold`` lines."""
        self.mask = None if mask is None else np.asarray(mask)
        path = QPainterPath()
        if self.mask is not None:
            path = outline_path(blind_spot_plane(self.mask))
        for item in (self.outline_under, self.outline):
            item.setPath(path)
        if self.acf is not None:
            r = self.acf.radius
            for lines, level in ((self.threshold_lines, threshold), (self.tail_lines, TAIL_FRACTION * threshold)):
                lines.setData([-r - 0.5, r + 0.5, np.nan, -r - 0.5, r + 0.5], [level, level, np.nan, -level, -level])

    def clear(self) -> None:
        """Show nothing."""
        self.acf = None
        self.heat_image.clear()
        for item in (self.outline_under, self.outline):
            item.setPath(QPainterPath())
        for curve in (*self.curves.values(), self.reference_curve, self.threshold_lines, self.tail_lines):
            curve.setData([], [])
        self.readout.setText(" ")

    # ------------------------------------------------------------ helpers
    def _set_legend_visible(self, item, visible: bool) -> None:
        listed = any(sample.item is item for sample, _label in self.legend.items)
        if visible and not listed:
            self.legend.addItem(item, item.name())
        elif listed and not visible:
            self.legend.removeItem(item)

    def _on_scene_mouse_moved(self, position: QPointF) -> None:
        acf = self.acf
        if acf is None or not self.heat.vb.sceneBoundingRect().contains(position):
            return
        point = self.heat.vb.mapSceneToView(position)
        dx, dy = int(np.floor(point.x() + 0.5)), int(np.floor(point.y() + 0.5))
        radius = min(acf.radius, HEAT_MAP_RADIUS)
        if abs(dx) <= radius and abs(dy) <= radius:
            value = acf.plane[dy + acf.radius, dx + acf.radius]
            self.readout.setText(f"Shift Δx {dx:+d}, Δy {dy:+d} px: ρ = {value:+.2f}")
