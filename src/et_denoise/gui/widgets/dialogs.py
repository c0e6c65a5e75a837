"""Message boxes used across the app (tests patch ``QMessageBox`` so none blocks)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Tell the user that something failed; the app goes on."""
    QMessageBox.critical(parent, title, message)


def confirm(parent: QWidget | None, title: str, question: str) -> bool:
    """Ask a Yes/Cancel question; True if the user answered Yes."""
    answer = QMessageBox.question(
        parent, title, question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def confirm_discard_results(parent: QWidget | None, count: int, action: str) -> bool:
    """Ask before dropping ``count`` unsaved results; True to go on with ``action``."""
    if count == 0:
        return True
    noun = "result is" if count == 1 else "results are"
    return confirm(parent, "Unsaved results",
                   f"{count} {noun} not saved and will be lost.\n\n{action} anyway?")
