"""The methods panel keeps every tab title visible, wrapping onto more rows."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from et_denoise.gui.widgets.method_tabs import MethodTabs


def test_six_titles_wrap_inside_a_narrow_panel_and_switch_pages(qtbot):
    tabs = MethodTabs()
    qtbot.addWidget(tabs)
    titles = ["Median", "Anisotropic diffusion", "Non-local means", "StructN2V", "Noise analysis", "Compare"]
    for title in titles:
        tabs.addTab(QLabel(title), title)
    tabs.resize(400, 500)
    tabs.show()
    qtbot.waitExposed(tabs)
    buttons = [tabs._buttons.button(index) for index in range(len(titles))]
    rows = {button.geometry().top() for button in buttons}
    assert len(rows) >= 2
    assert all(button.geometry().right() <= tabs.width() for button in buttons)
    changed = []
    tabs.currentChanged.connect(changed.append)
    qtbot.mouseClick(buttons[4], Qt.MouseButton.LeftButton)
    assert tabs.currentIndex() == 4 and changed == [4] and tabs.currentWidget().text() == "Noise analysis"
    tabs.setCurrentIndex(1)
    assert buttons[1].isChecked() and not buttons[4].isChecked()


def test_a_wide_page_widens_the_panel_only_while_it_is_shown(qtbot):
    from PySide6.QtWidgets import QWidget

    tabs = MethodTabs()
    qtbot.addWidget(tabs)
    wide = QWidget()
    wide.setMinimumWidth(900)
    tabs.addTab(QLabel("narrow"), "Narrow")
    tabs.addTab(wide, "Wide")
    assert tabs.minimumSizeHint().width() < 900
    tabs.setCurrentIndex(1)
    assert tabs.minimumSizeHint().width() >= 900
