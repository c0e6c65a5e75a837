"""Status lines under a control: muted text, red when it reports an error."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy


def status_label() -> QLabel:
    """A word-wrapped, selectable label styled as a status line (``QLabel#status``)."""
    label = QLabel("")
    label.setObjectName("status")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


def set_status(label: QLabel, text: str, *, error: bool = False) -> None:
    """Show ``text`` in ``label``, in the error colour when ``error``."""
    label.setText(text)
    label.setProperty("error", error)
    label.style().unpolish(label)
    label.style().polish(label)
