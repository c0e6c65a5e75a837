"""The "Export figure" dialog: printed size, resolution and what the figure includes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QSpinBox, QWidget)

from et_denoise.engine.compare.figure import UNITS, FigureSize
from et_denoise.gui.settings import AppSettings

_SETTINGS_KEY = "compare/figure"


@dataclass(frozen=True)
class FigureOptions:
    """What the user chose: the size and whether to add the line profile and the metrics table."""

    size: FigureSize = FigureSize()
    profile: bool = True
    metrics: bool = True


class FigureDialog(QDialog):
    """Asks for width × height (cm or inches; height 0 = as tall as needed), dpi and the parts to include."""

    def __init__(self, options: FigureOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self.width_box = QDoubleSpinBox()
        self.height_box = QDoubleSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(0.0, 200.0)
            box.setDecimals(1)
            box.setSingleStep(0.5)
        self.width_box.setMinimum(1.0)
        self.height_box.setSpecialValueText("automatic")
        self.height_box.setToolTip("0 (automatic): as tall as the grid, profile and table need at this width")
        self.unit_box = QComboBox()
        self.unit_box.addItems(list(UNITS))
        self.dpi_box = QSpinBox()
        self.dpi_box.setRange(30, 2400)
        self.dpi_box.setSingleStep(50)
        self.dpi_box.setSuffix(" dpi")
        self.profile_box = QCheckBox("Line profile")
        self.metrics_box = QCheckBox("Metrics table")
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(self.height_box)
        size_row.addWidget(self.unit_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Width × height", size_row)
        form.addRow("Resolution", self.dpi_box)
        form.addRow("Include", self.profile_box)
        form.addRow("", self.metrics_box)
        form.addRow(buttons)
        self.set_options(options)
        self._unit = self.unit_box.currentText()
        self.unit_box.currentTextChanged.connect(self._on_unit_box_changed)

    def set_options(self, options: FigureOptions) -> None:
        """Show ``options``."""
        size = options.size
        self.unit_box.setCurrentText(size.unit)
        self.width_box.setValue(size.width)
        self.height_box.setValue(size.height or 0.0)
        self.dpi_box.setValue(size.dpi)
        self.profile_box.setChecked(options.profile)
        self.metrics_box.setChecked(options.metrics)

    def options(self) -> FigureOptions:
        """The options as chosen."""
        height = self.height_box.value() or None
        size = FigureSize(self.width_box.value(), height, self.unit_box.currentText(), self.dpi_box.value())
        return FigureOptions(size, self.profile_box.isChecked(), self.metrics_box.isChecked())

    def _on_unit_box_changed(self, unit: str) -> None:
        factor = UNITS[self._unit] / UNITS[unit]
        for box in (self.width_box, self.height_box):
            box.setValue(box.value() * factor)
        self._unit = unit


def load_options(settings: AppSettings) -> FigureOptions:
    """The options used last time (defaults the first time, or if the stored ones are unusable)."""
    try:
        stored = json.loads(settings.value(_SETTINGS_KEY, ""))
        size = FigureSize(float(stored["width"]), stored["height"] and float(stored["height"]),
                          str(stored["unit"]), int(stored["dpi"]))
        return FigureOptions(size, bool(stored["profile"]), bool(stored["metrics"]))
    except (TypeError, ValueError, KeyError, ArithmeticError):
        return FigureOptions()


def save_options(settings: AppSettings, options: FigureOptions) -> None:
    """Remember ``options`` for next time."""
    size = options.size
    settings.set_value(_SETTINGS_KEY, json.dumps({"width": size.width, "height": size.height, "unit": size.unit,
                                                  "dpi": size.dpi, "profile": options.profile,
                                                  "metrics": options.metrics}))
