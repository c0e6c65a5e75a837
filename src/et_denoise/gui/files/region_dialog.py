"""File > Open region…: choose a box of an image and a bin factor, for a quick look at a subvolume.

The dialog only asks; the engine checks the choice
(:meth:`LazyImage.subvolume <engine.io.lazy.LazyImage.subvolume>`, with the
region parser of the command line's ``--region``) and reads the part
(:func:`engine.io.subvolume.read_subvolume`), never the planes outside it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QGridLayout, QLabel, QSpinBox, QVBoxLayout,
                               QWidget)

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.io.lazy import LazyImage
from et_denoise.engine.io.memory import available_memory, format_bytes
from et_denoise.engine.io.subvolume import BINNINGS

#: The axes' names in the form, by axis letter.
AXIS_NAMES = {"Z": "Z (planes)", "Y": "Y (rows)", "X": "X (columns)"}


class RegionDialog(QDialog):
    """Ranges along Z, Y and X (first included, last excluded) and a bin factor, with the part's size.

    Parameters
    ----------
    image : LazyImage
        The image the part is taken from (:func:`engine.io.open_image_lazily`:
        its shape and type, no pixel read).
    parent : QWidget, optional
        The window it belongs to.
    """

    def __init__(self, image: LazyImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = image
        self.setWindowTitle("Open region")
        self.setMinimumWidth(420)
        axes = "ZYX"[-len(image.shape):]
        shape = " × ".join(f"{size} {axis}" for axis, size in zip(axes, image.shape))
        name = f"{image.path.name} · " if image.path is not None else ""
        self.intro = QLabel(f"{name}{shape} · {image.dtype}\nOnly the planes of the region are read. Ranges start "
                            "at 0; the last value is excluded, so 0 to 64 is 64 planes.")
        self.intro.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel("From"), 0, 1)
        grid.addWidget(QLabel("To (excluded)"), 0, 2)
        self.starts: dict[str, QSpinBox] = {}
        self.stops: dict[str, QSpinBox] = {}
        for row, (axis, size) in enumerate(zip(axes, image.shape), start=1):
            start, stop = QSpinBox(), QSpinBox()
            start.setRange(0, size - 1)
            stop.setRange(1, size)
            stop.setValue(size)
            start.setToolTip(f"First {AXIS_NAMES[axis]} of the region, from 0")
            stop.setToolTip(f"Where the region ends along {axis}: this one is not included (at most {size})")
            for spin in (start, stop):
                spin.valueChanged.connect(self._update)
            self.starts[axis], self.stops[axis] = start, stop
            grid.addWidget(QLabel(AXIS_NAMES[axis]), row, 0)
            grid.addWidget(start, row, 1)
            grid.addWidget(stop, row, 2)
        self.bin = QComboBox()
        for factor in BINNINGS:
            self.bin.addItem("1 (none)" if factor == 1 else str(factor), factor)
        self.bin.setToolTip("Average blocks of voxels, for a smaller, less noisy look (float32, the voxel size "
                            "multiplied by the bin; an MRC stack of images is binned in each image only)")
        self.bin.currentIndexChanged.connect(self._update)
        grid.addWidget(QLabel("Bin"), len(axes) + 1, 0)
        grid.addWidget(self.bin, len(axes) + 1, 1, 1, 2)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(grid)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self._update()

    def region_text(self) -> str:
        """The ranges as ``--region`` takes them: ``"Z0:Z1,Y0:Y1,X0:X1"`` (``"Y0:Y1,X0:X1"`` for a 2-D image)."""
        return ",".join(f"{self.starts[axis].value()}:{self.stops[axis].value()}" for axis in self.starts)

    def binning(self) -> int:
        """The bin factor chosen: 1, 2 or 4."""
        return self.bin.currentData()

    def part(self) -> LazyImage:
        """The part chosen, checked by the engine (its shape and type; nothing is read).

        Raises
        ------
        ParameterError
            The ranges are empty or binning leaves nothing of them.
        """
        return self.image.subvolume(self.region_text(), self.binning())

    def values(self) -> tuple[str, int]:
        """``(region, bin)`` for :func:`engine.io.subvolume.read_subvolume` (or ``--region`` and ``--bin``)."""
        return self.region_text(), self.binning()

    def _update(self) -> None:
        """Show the part's shape and size, or why it cannot be opened (then Open is disabled)."""
        try:
            part = self.part()
        except ParameterError as error:
            text, valid = str(error), False
        else:
            nbytes = int(np.prod(part.shape, dtype=np.int64)) * part.dtype.itemsize
            shape = " × ".join(map(str, part.shape))
            axes = " × ".join("ZYX"[-len(part.shape):])
            options = f"--region {self.region_text()}" + (f" --bin {self.binning()}" if self.binning() > 1 else "")
            available = available_memory()
            if nbytes > available:
                text = (f"{shape} ({axes}) {part.dtype} needs {format_bytes(nbytes)} in memory, more than the "
                        f"{format_bytes(available)} available: choose a smaller region or bin it.")
                valid = False
            else:
                text = (f"Opens {shape} ({axes}) {part.dtype}, {format_bytes(nbytes)} in memory. "
                        f"On the command line: {options}")
                valid = True
        self.summary.setText(text)
        self.summary.setProperty("error", "false" if valid else "true")
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(valid)
