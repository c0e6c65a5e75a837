"""The intensity along the comparison grid's line: one curve per image, coloured like its tile's title."""

from __future__ import annotations

import html
from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from et_denoise.gui.theme import BASE, MUTED


@dataclass(frozen=True)
class Profile:
    """One curve: the image's name and colour, and its values along the line."""

    name: str
    colour: str
    distance: np.ndarray
    values: np.ndarray


class LineProfilePlot(QWidget):
    """A plot of intensity against distance along the line, with its legend in one line beneath.

    Curves are made once per set of images and then updated with ``setData``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=BASE)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "distance along the line (px)", color=MUTED)
        self.plot.setLabel("left", "intensity", color=MUTED)
        self.plot.setMinimumHeight(90)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("Intensity along the yellow line drawn on the images: sharp steps are kept edges")
        self._curves: list[pg.PlotDataItem] = []
        self._keys: list[tuple[str, str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)

    def curves(self) -> list[pg.PlotDataItem]:
        """The curves, in the order of the profiles given."""
        return list(self._curves)

    def legend_entries(self) -> list[tuple[str, str]]:
        """(name, colour) of each curve, as the legend shows them."""
        return list(self._keys)

    def set_profiles(self, profiles: Sequence[Profile]) -> None:
        """Show these profiles (replacing the curves only when the images changed)."""
        keys = [(profile.name, profile.colour) for profile in profiles]
        if keys != self._keys:
            for curve in self._curves:
                self.plot.removeItem(curve)
            self._curves = [self.plot.plot(pen=pg.mkPen(colour, width=1.6)) for _name, colour in keys]
            self.legend.setText("&nbsp;&nbsp;&nbsp;".join(
                f"<span style='color:{colour}'>━━ {html.escape(name)}</span>" for name, colour in keys))
            self._keys = keys
        for curve, profile in zip(self._curves, profiles):
            curve.setData(profile.distance, profile.values)
