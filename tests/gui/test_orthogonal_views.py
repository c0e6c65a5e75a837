"""XY, XZ and YZ views of the same volume, placed by one linked cursor, in every comparison mode."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from et_denoise.gui.canvas.canvas import CompareMode
from et_denoise.gui.model import Result
from et_denoise.gui.slice_view import Orientation


def _result(document):
    data = document.planes()[..., ::-1].copy() * 2  # differs from the original everywhere it is not flat
    result = Result("Mirror", "mirror", "Mirror", None, data, 0.1)
    document.add_result(result)
    return result


def test_the_xz_view_of_the_sample_shows_plane_y_of_the_volume(sample_window):
    window, document = sample_window, sample_window.document
    volume = document.planes()
    result = _result(document)
    document.view.set_cursor(y=17, x=40)
    window.orientations.actions[Orientation.XZ].trigger()
    assert document.view.orientation is Orientation.XZ
    canvas = window.canvas
    np.testing.assert_array_equal(canvas.item_a.image, volume[:, 17, :])
    for mode, item in ((CompareMode.SPLIT, canvas.item_b), (CompareMode.SIDE_BY_SIDE, canvas.item_b_side)):
        canvas.set_mode(mode)
        np.testing.assert_array_equal(item.image, result.data[:, 17, :])
    canvas.set_mode(CompareMode.DIFFERENCE)
    np.testing.assert_allclose(canvas.item_diff.image, volume[:, 17, :] - result.data[:, 17, :], atol=1e-6)
    # The slice control steps along Y now, and says so.
    assert window.slice_control.axis_label.text() == "Y"
    assert window.slice_control.spin.value() == 18 and window.slice_control.spin.maximum() == volume.shape[1]
    window.slice_control.spin.setValue(30)
    assert document.view.y == 29 and document.z == volume.shape[0] // 2
    canvas.set_mode(CompareMode.SPLIT)
    np.testing.assert_array_equal(canvas.item_a.image, volume[:, 29, :])
    assert "XZ at Y 30" in canvas.pane_a.left_title.text()


def test_the_cursor_is_linked_between_the_views(sample_window, qtbot):
    window, document = sample_window, sample_window.document
    volume = document.planes()
    canvas = window.canvas
    document.view.set_orientation(Orientation.YZ)
    document.view.set_cursor(z=2, y=10, x=50)
    np.testing.assert_array_equal(canvas.item_a.image, volume[:, :, 50])
    horizontal, vertical = canvas.cursor_lines[0], canvas.cursor_lines[1]
    assert horizontal.isVisible() and vertical.isVisible()
    assert horizontal.value() == pytest.approx(2.5) and vertical.value() == pytest.approx(10.5)
    # A click in the YZ view at (row z 5, column y 30) moves z and y; the YZ plane (x) stays.
    canvas.reset_view()
    box = canvas.pane_a.box
    scene = box.mapViewToScene(QPointF(30.5, 5.5))
    view_point = canvas.pane_a.view.mapFromScene(scene)
    qtbot.mouseClick(canvas.pane_a.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point)
    qtbot.waitUntil(lambda: document.view.cursor == (5, 30, 50), timeout=2_000)
    assert document.z == 5 and vertical.value() == pytest.approx(30.5)
    # Back in XY, slice z of the cursor is shown, and the previews follow it.
    window.orientations.actions[Orientation.XY].trigger()
    np.testing.assert_array_equal(canvas.item_a.image, volume[5])
    assert window.slice_control.axis_label.text() == "Z" and window.slice_control.spin.value() == 6
    assert not horizontal.isVisible()


def test_the_readout_names_the_voxel_under_the_mouse_in_xz(sample_window):
    window, document = sample_window, sample_window.document
    document.view.set_cursor(y=12)
    document.view.set_orientation(Orientation.XZ)
    shown = []
    window.canvas.hovered.connect(shown.append)
    window.canvas._hover = (3, 20)  # row z 3, column x 20 of the XZ plane
    window.canvas.refresh()
    info = shown[-1]
    assert (info.x, info.y, info.z) == (20, 12, 3)
    assert info.original == pytest.approx(float(document.planes()[3, 12, 20]))
    document.view.set_cursor(y=13)  # the readout follows the plane shown
    assert (shown[-1].y, shown[-1].original) == (13, pytest.approx(float(document.planes()[3, 13, 20])))


def test_a_slice_preview_says_it_covers_one_slice_in_xz(sample_window):
    window, document = sample_window, sample_window.document
    window.select_tab("median")
    document.view.set_orientation(Orientation.XZ)
    assert "covers slice" in window.canvas.pane_a.right_title.text()
    assert not window.canvas.clip.isVisible()
