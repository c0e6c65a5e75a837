"""The StructN2V blind-spot mask editor: presets, a grid of cells to click, and the mask's size.

A mask is a boolean array with odd sides whose centre is the blind spot; its
other true cells are the neighbours hidden with it (see :mod:`engine.n2v.masks`).
The editor always shows the mask in use.  It is also the editor of the
``mask`` field of :class:`~engine.n2v.config.N2VParams`, whose value is text:
a preset (``"horizontal:9"``) or, for a mask drawn by hand, the path of a
mask file written next to the app's settings (one file per distinct mask).
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSettings, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout,
                               QWidget)

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v.masks import mask_to_text, parse_mask, preset_mask, preset_of, trim_mask
from et_denoise.gui.settings import APPLICATION, ORGANIZATION
from et_denoise.gui.widgets.status_label import set_status
from et_denoise.gui.theme import ACCENT, MUTED, PANEL

#: The grid shows at least this many cells along Y and X, so there is room to draw.
MIN_GRID = 3
#: Largest side of a mask, in pixels.
MAX_SIDE = 31
#: Width of the column of preset and size controls beside the grid, in pixels.
CONTROLS_WIDTH = 170
#: Largest cell drawn, in pixels.
MAX_CELL = 20

HIDDEN_COLOUR = "#f0a040"
EMPTY_COLOUR = PANEL
LINE_COLOUR = "#3a404a"

_PRESETS = (("none", "None (N2V)", "Plain Noise2Void: only the blind spot is hidden."),
            ("horizontal", "Horizontal", "A row along X: for noise correlated along X, as in tomograms."),
            ("vertical", "Vertical", "A column along Y."),
            ("cross", "Cross", "A row and a column through the blind spot."),
            ("square", "Square", "Every pixel of a square around the blind spot."),
            ("custom", "Custom", "Click cells on the grid to hide or show them."))
_LINE_PRESETS = ("horizontal", "vertical", "cross", "square")


# ------------------------------------------------------------ mask helpers
def custom_mask_folder() -> Path:
    """Where masks drawn by hand are written: a ``masks`` folder beside the app's settings file."""
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
    return Path(settings.fileName()).parent / "masks"


def mask_spec(mask: np.ndarray | None) -> str:
    """The text form of a mask for :class:`~engine.n2v.config.N2VParams`.

    ``"none"``, a preset such as ``"horizontal:9"``, or the path of a mask file
    in :func:`custom_mask_folder` (named after its content, written once).
    """
    preset = preset_of(mask)
    if preset is not None:
        kind, length = preset
        return kind if kind == "none" else f"{kind}:{length}"
    text = mask_to_text(trim_mask(mask).astype(np.uint8))
    path = custom_mask_folder() / f"mask-{hashlib.sha1(text.encode()).hexdigest()[:12]}.txt"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(path)


def _fit(mask: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """``mask`` (3-D) cropped or padded around its centre to ``shape``."""
    out = np.zeros(shape, dtype=bool)
    source, target = [], []
    for have, want in zip(mask.shape, shape):
        keep = min(have, want)
        source.append(slice((have - keep) // 2, (have - keep) // 2 + keep))
        target.append(slice((want - keep) // 2, (want - keep) // 2 + keep))
    out[tuple(target)] = mask[tuple(source)]
    out[tuple(side // 2 for side in shape)] = True
    return out


# ------------------------------------------------------------ widgets
class MaskGrid(QWidget):
    """One Y-X plane of a mask as cells; click or drag to hide or show neighbours.

    Signals
    -------
    cell_painted(row, column, hidden)
        The user set the cell at (row, column) to ``hidden``.
    """

    cell_painted = Signal(int, int, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plane = np.zeros((1, 1), dtype=bool)
        self._centre_plane = True
        self._paint_value: bool | None = None
        self.setMinimumSize(110, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click or drag over cells to hide (orange) or show neighbours of the blind spot (blue).")

    def set_plane(self, plane: np.ndarray, centre_plane: bool) -> None:
        """Show ``plane`` (2-D bool); ``centre_plane`` marks the blind spot at its centre."""
        resized = plane.shape != self._plane.shape
        self._plane = plane.copy()
        self._centre_plane = centre_plane
        if resized:
            self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # Qt's name
        rows, columns = self._plane.shape
        return QSize(min(columns, 9) * MAX_CELL + 8, min(rows, 7) * MAX_CELL + 22)

    def _geometry(self) -> tuple[float, QPointF]:
        rows, columns = self._plane.shape
        cell = min((self.width() - 8) / columns, (self.height() - 22) / rows, MAX_CELL)
        origin = QPointF((self.width() - cell * columns) / 2, (self.height() - 14 - cell * rows) / 2)
        return cell, origin

    def cell_at(self, position: QPointF) -> tuple[int, int] | None:
        """The (row, column) under a point in widget coordinates, or None."""
        cell, origin = self._geometry()
        row = int((position.y() - origin.y()) // cell)
        column = int((position.x() - origin.x()) // cell)
        rows, columns = self._plane.shape
        return (row, column) if 0 <= row < rows and 0 <= column < columns else None

    def cell_centre(self, row: int, column: int) -> QPointF:
        """Widget coordinates of a cell's centre (tests click there)."""
        cell, origin = self._geometry()
        return QPointF(origin.x() + (column + 0.5) * cell, origin.y() + (row + 0.5) * cell)

    def _is_blind_spot(self, row: int, column: int) -> bool:
        rows, columns = self._plane.shape
        return self._centre_plane and (row, column) == (rows // 2, columns // 2)

    def paintEvent(self, _event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell, origin = self._geometry()
        rows, columns = self._plane.shape
        enabled = self.isEnabled()
        painter.setPen(QPen(QColor(LINE_COLOUR), 1))
        for row in range(rows):
            for column in range(columns):
                rect = QRectF(origin.x() + column * cell, origin.y() + row * cell, cell, cell).adjusted(1, 1, -1, -1)
                if self._is_blind_spot(row, column):
                    colour = ACCENT
                elif self._plane[row, column]:
                    colour = HIDDEN_COLOUR
                else:
                    colour = EMPTY_COLOUR
                fill = QColor(colour)
                if not enabled:
                    fill.setAlpha(110)
                painter.setBrush(fill)
                painter.drawRoundedRect(rect, 2, 2)
                if self._is_blind_spot(row, column):
                    painter.setBrush(QColor("white"))
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.drawEllipse(rect.center(), cell * 0.16, cell * 0.16)
                    painter.setPen(QPen(QColor(LINE_COLOUR), 1))
        painter.setPen(QColor(MUTED))
        bottom = origin.y() + rows * cell + 13
        painter.drawText(QPointF(origin.x() + columns * cell - 24, bottom), "X →")
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        where = self.cell_at(event.position())
        if event.button() != Qt.MouseButton.LeftButton or where is None or self._is_blind_spot(*where):
            self._paint_value = None
            return
        self._paint_value = not bool(self._plane[where])
        self._paint(where)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # Qt's name
        where = self.cell_at(event.position())
        if self._paint_value is not None and where is not None and not self._is_blind_spot(*where):
            self._paint(where)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:  # Qt's name
        self._paint_value = None

    def _paint(self, where: tuple[int, int]) -> None:
        if bool(self._plane[where]) != self._paint_value:
            self._plane[where] = self._paint_value
            self.update()
            self.cell_painted.emit(where[0], where[1], self._paint_value)


def _odd_spin(minimum: int, maximum: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(2)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tooltip)
    return spin


class MaskEditor(QWidget):
    """Edits a blind-spot mask: a preset with a length, or cells clicked on a grid of a chosen size.

    Signals
    -------
    mask_changed(mask)
        The user changed the mask: a trimmed bool array, or None for plain N2V.
        Not emitted by :meth:`set_mask`.
    """

    mask_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mask: np.ndarray | None = None  # (Z, Y, X) bool, the grid's size; None = plain N2V
        self._shape = (1, MIN_GRID, 3 * MIN_GRID)
        self._build_widgets()
        self._show()

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        self.preset = QComboBox()
        for index, (kind, text, tip) in enumerate(_PRESETS):
            self.preset.addItem(text, kind)
            self.preset.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("The neighbours hidden with each blind spot. Tomogram noise is correlated "
                               "along X: a horizontal mask a bit longer than the correlation removes it.")
        self.length = _odd_spin(3, MAX_SIDE, "Length of the preset in pixels (odd).")
        self.length.setValue(9)
        self.length.setPrefix("L = ")
        self.width_spin = _odd_spin(1, MAX_SIDE, "Size of the grid along X (odd).")
        self.height_spin = _odd_spin(1, MAX_SIDE, "Size of the grid along Y (odd).")
        self.depth_spin = _odd_spin(1, MAX_SIDE, "Size of the mask along Z (odd); more than 1 needs Mode 3-D.")
        self.plane_spin = QSpinBox()
        self.plane_spin.setToolTip("Which Z plane of the mask the grid shows (0 holds the blind spot).")
        self.plane_spin.setPrefix("Z ")
        self.grid = MaskGrid()
        self.summary = QLabel()
        self.summary.setObjectName("status")
        self.summary.setWordWrap(True)

        for spin, axis in ((self.width_spin, "X"), (self.height_spin, "Y"), (self.depth_spin, "Z")):
            spin.setPrefix(f"{axis} ")
        size = QHBoxLayout()
        size.setSpacing(4)
        for spin in (self.width_spin, self.height_spin, self.depth_spin):
            size.addWidget(spin)
        column = QWidget()
        column.setMaximumWidth(CONTROLS_WIDTH)
        controls = QVBoxLayout(column)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(6)
        controls.addWidget(self.preset)
        controls.addWidget(self.length)
        controls.addLayout(size)
        controls.addWidget(self.plane_spin)
        controls.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(column)
        row.addWidget(self.grid, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.summary)

        self.preset.currentIndexChanged.connect(self._on_preset_changed)
        self.length.valueChanged.connect(self._on_length_changed)
        for spin in (self.width_spin, self.height_spin, self.depth_spin):
            spin.valueChanged.connect(self._on_size_changed)
        self.plane_spin.valueChanged.connect(self._on_plane_changed)
        self.grid.cell_painted.connect(self._on_grid_cell_painted)

    # ------------------------------------------------------------ public
    def mask(self) -> np.ndarray | None:
        """The mask in use, trimmed (2-D unless it has depth), or None for plain N2V.

        A mask drawn empty is the blind spot alone (shape 1 × 1): training refuses it.
        """
        if self._mask is None:
            return None
        mask = trim_mask(self._mask)
        return mask[0] if mask.shape[0] == 1 else mask

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (2-D or 3-D bool, or None) without emitting :attr:`mask_changed`."""
        if mask is None:
            self._mask = None
        else:
            mask = np.asarray(mask, dtype=bool)
            mask = mask[np.newaxis] if mask.ndim == 2 else mask
            shape = (mask.shape[0], max(mask.shape[1], MIN_GRID), max(mask.shape[2], MIN_GRID))
            self._shape = shape
            self._mask = _fit(mask, shape)
        self._show()

    def value(self) -> str:
        """The mask as :class:`~engine.n2v.config.N2VParams` text (ParamForm reads editors with ``value()``)."""
        return mask_spec(self.mask())

    def setValue(self, spec: str) -> None:  # noqa: N802  (ParamForm writes editors with setValue)
        """Show the mask that ``spec`` describes; an unreadable one leaves the editor as it is."""
        try:
            self.set_mask(parse_mask(spec))
        except ParameterError:
            pass

    def has_hidden_neighbours(self) -> bool:
        """Whether the mask is plain N2V or hides at least one neighbour (else training refuses it)."""
        mask = self.mask()
        return mask is None or mask.sum() > 1

    # ------------------------------------------------------------ display
    def _show(self) -> None:
        """Bring every control in line with the mask, without emitting anything."""
        depth, rows, columns = self._shape
        preset = preset_of(self._mask)
        kind = "custom" if preset is None else preset[0]
        widgets = (self.preset, self.length, self.width_spin, self.height_spin, self.depth_spin, self.plane_spin)
        with ExitStack() as blocked:
            for widget in widgets:
                blocked.enter_context(QSignalBlocker(widget))
            self.preset.setCurrentIndex(self.preset.findData(kind))
            if kind in _LINE_PRESETS:
                self.length.setValue(preset[1])
            self.length.setEnabled(kind in _LINE_PRESETS)
            self.width_spin.setValue(columns)
            self.height_spin.setValue(rows)
            self.depth_spin.setValue(depth)
            self.plane_spin.setRange(-(depth // 2), depth // 2)
            self.plane_spin.setVisible(depth > 1)
        plane = self.plane_spin.value() + depth // 2
        shown = self._mask if self._mask is not None else _fit(np.ones((1, 1, 1), bool), self._shape)
        self.grid.set_plane(shown[plane], plane == depth // 2)
        self._describe()

    def _describe(self) -> None:
        mask = self.mask()
        error = False
        if mask is None:
            text = "Plain Noise2Void: only the blind spot is hidden. Fits noise that is independent between pixels."
        elif mask.sum() <= 1:
            text = "The mask hides nothing besides the blind spot: click cells to hide, or choose None."
            error = True
        else:
            axes = "Z × Y × X" if mask.ndim == 3 else "Y × X"
            hidden = int(mask.sum()) - 1
            text = (f"Hides {hidden} neighbour{'s' if hidden != 1 else ''} with each blind spot · "
                    f"{' × '.join(map(str, mask.shape))} ({axes})")
            if mask.ndim == 3:
                text += " · needs Mode 3-D"
        set_status(self.summary, text, error=error)

    def _changed(self) -> None:
        self._show()
        self.mask_changed.emit(self.mask())

    # ------------------------------------------------------------ handlers
    def _on_preset_changed(self, _index: int) -> None:
        kind = self.preset.currentData()
        if kind == "none":
            self._mask = None
        elif kind == "custom":
            if self._mask is None:
                self._mask = _fit(np.ones((1, 1, 1), bool), self._shape)
        else:
            self._apply_preset(kind)
        self._changed()

    def _on_length_changed(self, _length: int) -> None:
        if self.preset.currentData() in _LINE_PRESETS:
            self._apply_preset(self.preset.currentData())
            self._changed()

    def _apply_preset(self, kind: str) -> None:
        length = self.length.value() | 1
        preset = preset_mask(kind, length).astype(bool)[np.newaxis]
        self._shape = (1, max(preset.shape[1], MIN_GRID), max(preset.shape[2], MIN_GRID))
        self._mask = _fit(preset, self._shape)

    def _on_size_changed(self, _value: int) -> None:
        self._shape = tuple(spin.value() | 1 for spin in (self.depth_spin, self.height_spin, self.width_spin))
        if self._mask is None:
            self._show()
            return
        self._mask = _fit(self._mask, self._shape)
        self._changed()

    def _on_plane_changed(self, _plane: int) -> None:
        self._show()

    def _on_grid_cell_painted(self, row: int, column: int, hidden: bool) -> None:
        if self._mask is None:
            self._mask = _fit(np.ones((1, 1, 1), bool), self._shape)
        plane = self.plane_spin.value() + self._shape[0] // 2
        self._mask[plane, row, column] = hidden
        self._changed()
