"""Small conveniences of issue #15 item 10: keys, shortcuts list, names, save folder, Grid from every tab."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from et_denoise.engine.io import write_image
from et_denoise.gui.files.saving import start_folder
from et_denoise.gui.model import Result
from et_denoise.gui.shortcuts_dialog import shortcut_rows


def test_plus_minus_zoom_and_arrow_keys_pan_the_image(sample_window, qtbot):
    canvas = sample_window.canvas
    canvas.reset_view()
    box = canvas.pane_a.box
    (x0, x1), _ = box.viewRange()
    canvas.pane_a.view.setFocus()
    qtbot.waitUntil(canvas.pane_a.view.hasFocus)
    qtbot.keyClick(canvas.pane_a.view, Qt.Key.Key_Plus)
    (a0, a1), _ = box.viewRange()
    assert a1 - a0 == pytest.approx((x1 - x0) / 1.25, rel=0.02)
    qtbot.keyClick(canvas.pane_a.view, Qt.Key.Key_Right)
    (b0, b1), _ = box.viewRange()
    assert b0 > a0 and b1 - b0 == pytest.approx(a1 - a0, rel=0.02)
    qtbot.keyClick(canvas.pane_a.view, Qt.Key.Key_Minus)
    (c0, c1), _ = box.viewRange()
    assert c1 - c0 == pytest.approx(x1 - x0, rel=0.02)


def test_help_lists_every_shortcut(window):
    rows = dict((text, keys) for keys, text in shortcut_rows(window))
    assert rows["Grid"] == "Ctrl+6" and rows["XZ"] == "Ctrl+8"
    assert any("wheel" in keys for keys, _text in shortcut_rows(window))
    help_menu = [action for action in window.menuBar().actions() if action.text() == "&Help"][0].menu()
    assert "&Keyboard shortcuts" in [action.text() for action in help_menu.actions()]


def test_a_second_result_of_a_method_is_named_by_the_parameter_that_differs(sample_window, qtbot):
    window, document = sample_window, sample_window.document
    tab = window.select_tab("median")
    params = tab.form.params()
    for size in (params.size, params.size + 2):
        document.add_result(Result("Median", "median", "Median", params.replace(size=size), document.planes(), 0.1))
    document.add_result(Result("Median", "median", "Median", params.replace(size=params.size + 2),
                               document.planes(), 0.1))
    assert [result.name for result in document.results] == ["Median", f"Median size {params.size + 2}",
                                                             "Median (2)"]


def test_the_save_dialog_starts_in_the_folder_of_the_open_image(window, qtbot, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_image(folder / "tomo.tif", np.zeros((3, 16, 16), np.float32))
    window.open_path(str(folder / "tomo.tif"))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    assert start_folder(window.document, window.settings) == str(folder)


def test_grid_is_available_from_every_tab(sample_window):
    window = sample_window
    window.select_tab("median")
    assert window.grid_action.isEnabled()
    window.grid_action.trigger()
    assert window.tab_keys[window.tabs.currentIndex()] == "compare"
    assert window.central_stack.currentWidget() is window.tab("compare").central_view
