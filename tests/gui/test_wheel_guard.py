"""The mouse wheel over a parameter field scrolls the panel unless the field is focused."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from et_denoise.gui.widgets.wheel_guard import install_wheel_guard


def _wheel(widget, steps=-1):
    """Turn the wheel over the middle of ``widget`` (negative: down, towards the panel's end)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _panel(qtbot):
    content = QWidget()
    layout = QVBoxLayout(content)
    spin = QSpinBox()
    spin.setRange(0, 10)
    spin.setValue(5)
    combo = QComboBox()
    combo.addItems(["2-D", "3-D", "4-D"])
    combo.setCurrentIndex(1)
    layout.addWidget(spin)
    layout.addWidget(combo)
    layout.addSpacing(3000)
    scroll = QScrollArea()
    scroll.setWidget(content)
    scroll.setWidgetResizable(True)
    scroll.resize(300, 200)
    qtbot.addWidget(scroll)
    scroll.show()
    qtbot.waitExposed(scroll)
    return scroll, spin, combo


def test_the_wheel_over_an_unfocused_field_scrolls_the_panel_and_keeps_the_value(qapp, qtbot):
    install_wheel_guard(qapp)
    scroll, spin, combo = _panel(qtbot)
    for field in (spin, combo):
        before = scroll.verticalScrollBar().value()
        _wheel(field)
        assert spin.value() == 5 and combo.currentIndex() == 1
        assert scroll.verticalScrollBar().value() > before, "the panel did not scroll"
        scroll.verticalScrollBar().setValue(0)
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel does not focus a field either


def test_a_focused_field_changes_on_the_wheel(qapp, qtbot):
    install_wheel_guard(qapp)
    scroll, spin, combo = _panel(qtbot)
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    _wheel(spin)
    assert spin.value() == 4
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    _wheel(combo)
    assert combo.currentIndex() == 2


def test_the_app_guards_its_parameter_fields(window):
    field = window.tab("median").form.editor("size")
    value = field.value()
    window.activateWindow()
    _wheel(field, steps=1)
    assert field.value() == value and field.focusPolicy() == Qt.FocusPolicy.StrongFocus
