"""Status-bar text with the values of both images under the mouse."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from et_denoise.gui.canvas.canvas import PixelInfo


def format_value(value: float) -> str:
    """A pixel value with 4 significant digits."""
    return f"{value:.4g}"


class PixelReadout(QLabel):
    """Shows ``x, y, z  original  result`` for a :class:`~gui.canvas.PixelInfo`."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("readout")
        self.setMinimumWidth(360)

    def show_info(self, info: PixelInfo | None) -> None:
        """Show ``info``; ``None`` clears the text."""
        if info is None:
            self.setText("")
            return
        text = f"x {info.x}  y {info.y}  z {info.z + 1}    original {format_value(info.original)}"
        if info.compared is not None:
            text += f"    result {format_value(info.compared)}"
        self.setText(text)
