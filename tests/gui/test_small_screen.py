"""The window fits a laptop screen (1024 × 700) on every tab and never resizes itself."""

import threading

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from et_denoise.gui.tabs.filters.filter_tab import FilterTab
from et_denoise.gui.widgets.status_label import set_status

SMALL = QSize(1024, 700)
LONG_TEXT = "a status line much longer than the panel is wide " * 12


def _settle():
    for _ in range(3):
        QApplication.processEvents()


def _in_sight(widget: QWidget) -> bool:
    """Shown, not clipped away by a scroll area, and inside the window."""
    if not widget.isVisible() or widget.visibleRegion().isEmpty():
        return False
    window = widget.window()
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return window.rect().contains(QRect(top_left, widget.size()))


@pytest.fixture
def small_window(sample_window):
    sample_window.resize(SMALL)
    _settle()
    return sample_window


def test_every_tab_fits_1024_by_700_with_its_action_buttons_in_sight(small_window):
    window = small_window
    for key in window.tab_keys:
        tab = window.select_tab(key)
        _settle()
        assert window.size() == SMALL, f"the {key} tab made the window {window.size().toTuple()}"
        assert window.minimumSizeHint().height() <= SMALL.height(), key
        if isinstance(tab, FilterTab):
            assert _in_sight(tab.apply_button), f"Apply of the {key} tab is out of sight"
        for button in window.results_panel.findChildren(QPushButton):
            assert _in_sight(button), f"Results button {button.text()!r} is out of sight on the {key} tab"


def test_progress_and_cancel_stay_in_sight_and_long_texts_do_not_grow_the_window(small_window, qtbot):
    window = small_window
    release = threading.Event()
    job = window.jobs.submit("A job whose title is long enough to push the status bar wider than the window "
                             "if it were not elided", lambda progress, cancel: release.wait(10))
    try:
        qtbot.waitUntil(lambda: window.job_status.isVisible(), timeout=5_000)
        for key in window.tab_keys:
            tab = window.select_tab(key)
            for label in (getattr(tab, "preview_status", None), getattr(tab, "apply_status", None)):
                if label is not None:
                    set_status(label, LONG_TEXT)
            window.readout.setText(LONG_TEXT)
            window.image_info.setText(LONG_TEXT)
            _settle()
            assert window.size() == SMALL, f"a long text on the {key} tab made the window {window.size().toTuple()}"
            assert _in_sight(window.job_status.bar) and _in_sight(window.job_status.cancel_button), key
    finally:
        release.set()
        qtbot.waitUntil(lambda: job.state.done, timeout=5_000)


def test_a_long_result_name_elides_instead_of_widening_the_window(small_window):
    from et_denoise.gui.canvas.canvas import CompareMode
    from et_denoise.gui.model import Result

    window, document = small_window, small_window.document
    result = Result("Median", "median", "Median", None, document.planes().copy(), 0.1)
    document.add_result(result)
    document.results.rename(result, "A result renamed with a very long name " * 6)
    for mode in (CompareMode.SPLIT, CompareMode.SIDE_BY_SIDE, CompareMode.DIFFERENCE):
        window.canvas.set_mode(mode)
        _settle()
        assert window.size() == SMALL, f"{mode}: the window became {window.size().toTuple()}"
