"""Parameter fields change on the mouse wheel only when focused.

Qt's spin boxes and combo boxes take every wheel event that passes over
them: scrolling a panel of parameters changed whatever field slid under the
pointer (U-Net depth went from 2 to 1 unnoticed).  One application-wide event
filter passes the wheel of an unfocused field on to its parent (the scroll
area scrolls on); a field clicked or tabbed into keeps the wheel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

#: The widgets whose value the wheel changes.
GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Event filter: the wheel over an unfocused spin box or combo box scrolls what holds it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        # Every event of the application passes here: its type is read once, and only two are looked at.
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(watched, GUARDED) and not watched.hasFocus():
            scroll = _scroll_area_around(watched)
            if scroll is None:
                event.ignore()  # Qt hands an ignored (real) wheel event on to the parent widget
            else:
                QApplication.sendEvent(scroll.viewport(), event)
                event.accept()
            return True
        if kind == QEvent.Type.Polish and isinstance(watched, GUARDED):
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives them no focus either
        return False


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Guard every spin box and combo box of ``app``, present and future; returns the filter."""
    guard = getattr(app, "_et_wheel_guard", None)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        app._et_wheel_guard = guard
        for widget in app.allWidgets():
            if isinstance(widget, GUARDED):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return guard


__all__ = ["GUARDED", "WheelGuard", "install_wheel_guard"]
