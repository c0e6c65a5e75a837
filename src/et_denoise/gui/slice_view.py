"""Which plane of the volume is shown: XY (a Z slice), XZ or YZ, through a linked cursor.

Plain Python (no Qt), part of the :class:`~gui.model.Document` as
``document.view``.  ET users judge denoising in XZ and YZ (streaks,
missing-wedge elongation) as much as in XY; as in 3dmod's slicer, one
cursor (z, y, x) places the three planes: the XY view shows slice z, the
XZ view row y of every slice, the YZ view column x.  The cursor's z is the
document's current slice (``document.z``), so the tabs' previews keep
following it.
"""

from __future__ import annotations

import enum

import numpy as np

from et_denoise.gui.signals import Signal


class Orientation(enum.Enum):
    """The plane shown; its value is the axis (0 Z, 1 Y, 2 X) held fixed."""

    XY = 0
    XZ = 1
    YZ = 2

    @property
    def label(self) -> str:
        """``"XZ"``."""
        return self.name

    @property
    def axis_name(self) -> str:
        """The axis the slice control steps along: ``"Z"``, ``"Y"`` or ``"X"``."""
        return "ZYX"[self.value]

    @property
    def plane_axes(self) -> tuple[int, int]:
        """The volume axes shown as (rows, columns): XY (Y, X), XZ (Z, X), YZ (Z, Y)."""
        return {0: (1, 2), 1: (0, 2), 2: (0, 1)}[self.value]


class SliceView:
    """The orientation and the cursor of a document.

    Signals
    -------
    changed(view)
        The orientation, or the cursor's y or x, changed (z changes are the
        document's ``slice_changed``).
    """

    def __init__(self, document) -> None:
        self.document = document
        self.orientation = Orientation.XY
        self.y = 0
        self.x = 0
        self.changed = Signal()
        document.image_opened.connect(self._on_document_image_opened)

    # ------------------------------------------------------------ state
    @property
    def cursor(self) -> tuple[int, int, int]:
        """(z, y, x) of the cursor, in voxels."""
        return self.document.z, self.y, self.x

    @property
    def shape(self) -> tuple[int, int, int]:
        """(Z, Y, X) of the open image (Z = 1 for a 2-D image)."""
        return self.document.planes().shape if self.document.has_image else (0, 0, 0)

    def set_orientation(self, orientation: Orientation) -> None:
        """Show the XY, XZ or YZ plane through the cursor (a 2-D image has XY only)."""
        if not self.document.is_volume:
            orientation = Orientation.XY
        if orientation is not self.orientation:
            self.orientation = orientation
            self.changed.emit(self)

    def set_cursor(self, z: int | None = None, y: int | None = None, x: int | None = None) -> None:
        """Move the cursor (each coordinate clamped to the volume; None keeps it)."""
        if not self.document.has_image:
            return
        _, height, width = self.shape
        moved = False
        if y is not None and int(np.clip(y, 0, height - 1)) != self.y:
            self.y, moved = int(np.clip(y, 0, height - 1)), True
        if x is not None and int(np.clip(x, 0, width - 1)) != self.x:
            self.x, moved = int(np.clip(x, 0, width - 1)), True
        if moved:
            self.changed.emit(self)
        if z is not None:
            self.document.set_z(z)

    @property
    def index(self) -> int:
        """Position of the plane shown along its axis (z, y or x)."""
        return self.cursor[self.orientation.value]

    @property
    def count(self) -> int:
        """Number of planes along the axis stepped through."""
        return self.shape[self.orientation.value]

    @property
    def plane_label(self) -> str:
        """``"slice 17 of 32"`` (XY), ``"XZ plane at Y 49 of 96"``: the plane shown, for captions."""
        if self.orientation is Orientation.XY:
            return f"slice {self.index + 1} of {self.count}"
        return f"{self.orientation.label} plane at {self.orientation.axis_name} {self.index + 1} of {self.count}"

    def set_index(self, index: int) -> None:
        """Show plane ``index`` along the current axis."""
        self.set_cursor(**{"zyx"[self.orientation.value]: index})

    def step(self, steps: int) -> None:
        """Move ``steps`` planes along the current axis."""
        self.set_index(self.index + steps)

    # ------------------------------------------------------------ planes
    def plane(self, data: np.ndarray) -> np.ndarray:
        """The plane of ``data`` (the image's shape, or 2-D) shown through the cursor."""
        if data.ndim == 2:
            return data
        z, y, x = self.cursor
        return (data[z], data[:, y, :], data[:, :, x])[self.orientation.value]

    def original(self) -> np.ndarray:
        """The plane shown of the original image."""
        return self.plane(self.document.planes())

    def compared(self) -> np.ndarray | None:
        """The same plane of what is compared, or None (nothing, or a one-slice preview off this plane)."""
        if self.orientation is Orientation.XY:
            return self.document.comparison_slice()
        data = getattr(self.document.comparison, "data", None)
        return self.plane(data) if data is not None and data.ndim == 3 else None  # a result of the volume

    def voxel(self, row: int, column: int) -> tuple[int, int, int]:
        """(z, y, x) of pixel (row, column) of the plane shown."""
        position = list(self.cursor)
        rows, columns = self.orientation.plane_axes
        position[rows], position[columns] = row, column
        return tuple(position)

    def cursor_in_plane(self) -> tuple[int, int]:
        """(row, column) of the cursor in the plane shown."""
        rows, columns = self.orientation.plane_axes
        return self.cursor[rows], self.cursor[columns]

    def row_scale(self) -> float:
        """Height of a plane pixel over its width (voxel Z / X in XZ and YZ; 1 when unknown or XY)."""
        voxel = self.document.voxel_size
        if self.orientation is Orientation.XY or not voxel or len(voxel) < 3 or not all(voxel):
            return 1.0
        rows, columns = self.orientation.plane_axes
        return float(voxel[rows]) / float(voxel[columns])

    def _on_document_image_opened(self, document) -> None:
        if not document.has_image:
            return
        _, height, width = self.shape
        self.y, self.x = height // 2, width // 2
        if not document.is_volume:
            self.orientation = Orientation.XY
