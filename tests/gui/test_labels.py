"""Labels say what is true now: after a rename, a copy, a preview of another slice."""

import numpy as np

from et_denoise.gui.files.reproduce_actions import copy_result_command
from et_denoise.gui.model import Preview, Result


def _result(document):
    result = Result("Median", "median", "Median", None, document.planes().copy(), 0.1)
    document.add_result(result)
    return result


def test_a_renamed_result_is_shown_under_its_new_name(sample_window):
    window, document = sample_window, sample_window.document
    result = _result(document)
    assert "Median" in window.canvas.pane_a.right_title.text()
    document.results.rename(result, "Gentle median")
    assert "Gentle median" in window.canvas.pane_a.right_title.text()


def test_copying_a_command_says_so_in_the_status_bar(sample_window):
    window, document = sample_window, sample_window.document
    result = _result(document)
    result.params = window.tab("median").form.params()
    assert copy_result_command(window.results_panel, document, result)
    assert "Copied the command" in window.statusBar().currentMessage()
    assert "Median" in window.statusBar().currentMessage()


def test_a_preview_of_another_slice_clears_computing_preview(sample_window):
    window, document = sample_window, sample_window.document
    tab = window.select_tab("median")
    tab.preview_status.setText("Computing preview…")
    stale = Preview("Median", tab.form.params(), (document.z + 1) % document.n_slices, np.zeros((2, 2)), 0.01)
    tab._on_preview_succeeded(stale)
    assert tab.preview_status.text() == ""


def test_the_scale_bar_stays_inside_the_image_when_zoomed_out(sample_window):
    from PySide6.QtWidgets import QApplication

    canvas = sample_window.canvas
    assert canvas.scale_bar.isVisible()
    for zoom in (1.0, 3.0):  # 3: the image is a small square in the middle of the view
        canvas.reset_view()
        canvas.pane_a.box.scaleBy((zoom, zoom))
        for _ in range(3):
            QApplication.processEvents()
        image = canvas.item_a.sceneBoundingRect()
        assert image.contains(canvas.scale_bar.bar.sceneBoundingRect()), zoom
        assert image.contains(canvas.scale_bar.text.sceneBoundingRect()), zoom
