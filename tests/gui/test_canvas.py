"""The comparison canvas: split line, modes, shared contrast, slice changes, readout, scale bar."""

import numpy as np
import pytest
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from et_denoise.engine.io import ImageData
from et_denoise.gui.canvas.canvas import CompareCanvas, CompareMode
from et_denoise.gui.model import Document, Result
from et_denoise.gui.canvas.slice_control import SliceControl

SHAPE = (4, 60, 80)


@pytest.fixture
def document():
    rng = np.random.default_rng(0)
    document = Document()
    document.open_image(ImageData(rng.normal(size=SHAPE).astype(np.float32), voxel_size=(5.0, 5.0, 5.0)), "a.tif")
    return document


@pytest.fixture
def canvas(document, qtbot):
    widget = CompareCanvas(document)
    widget.resize(900, 600)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget._on_document_image_opened(document)
    return widget


def _with_result(document):
    result = Result("Smooth", "test", "Test", None, document.image.data * 0.5, 0.1)
    document.add_result(result)
    return result


def _widget_point(canvas, x, y):
    box = canvas.pane_a.box
    scene = box.mapViewToScene(QPointF(x, y))
    return canvas.pane_a.view.mapFromScene(scene)


def _mouse(viewport, kind, point, buttons):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    local = QPointF(point)
    event = QMouseEvent(kind, local, viewport.mapToGlobal(local), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def test_dragging_the_split_line_moves_it_and_the_clip_follows(canvas, document, monkeypatch):
    from PySide6.QtCore import QEvent

    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)  # events here come faster than a hand moves
    _with_result(document)
    canvas.set_wipe_fraction(0.5)
    viewport = canvas.pane_a.view.viewport()
    start, end = _widget_point(canvas, 40, 30), _widget_point(canvas, 60, 30)
    left = Qt.MouseButton.LeftButton
    _mouse(viewport, QEvent.Type.MouseMove, start, Qt.MouseButton.NoButton)
    _mouse(viewport, QEvent.Type.MouseButtonPress, start, left)
    for step in range(1, 11):
        _mouse(viewport, QEvent.Type.MouseMove, start + (end - start) * step / 10, left)
    _mouse(viewport, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    assert canvas.wipe_position == pytest.approx(60, abs=1.5)
    assert canvas.clip.rect().left() == pytest.approx(canvas.wipe_position)
    assert canvas.wipe_line.isVisible() and canvas.item_b.isVisible()


def test_without_a_result_only_the_original_shows(canvas, document):
    assert document.comparison is None
    assert canvas.item_a.isVisible() and not canvas.clip.isVisible() and not canvas.wipe_line.isVisible()
    assert "no result" in canvas.pane_a.right_title.text()


def test_side_by_side_links_zoom_and_pan(canvas, document, qtbot):
    _with_result(document)
    canvas.set_mode(CompareMode.SIDE_BY_SIDE)
    assert canvas.pane_b.isVisible()
    canvas.pane_a.box.setRange(xRange=(10, 30), yRange=(10, 30), padding=0)

    def same_range():
        return np.allclose(canvas.pane_a.box.viewRange(), canvas.pane_b.box.viewRange(), atol=1e-3)

    qtbot.waitUntil(same_range, timeout=2000)
    (ax0, ax1), _ = canvas.pane_a.box.viewRange()
    assert ax1 - ax0 < 40
    np.testing.assert_allclose(canvas.item_b_side.image, document.comparison_slice())


def test_difference_mode_shows_original_minus_result_centred_on_zero(canvas, document):
    _with_result(document)
    canvas.set_mode(CompareMode.DIFFERENCE)
    expected = document.current_slice() - document.comparison_slice()
    np.testing.assert_allclose(canvas.item_diff.image, expected, rtol=1e-6)
    low, high = canvas.diff_histogram.item.getLevels()
    assert low == pytest.approx(-high) and high > 0
    assert canvas.pane_a.left_title.text() == "Original − Smooth"


def test_contrast_is_shared_and_auto_contrast_uses_percentiles(canvas, document):
    _with_result(document)
    canvas.set_levels(-0.25, 0.75)
    assert tuple(canvas.item_b.levels) == pytest.approx((-0.25, 0.75))
    canvas.auto_contrast()
    expected = np.percentile(document.current_slice(), [0.5, 99.5])
    assert canvas.levels() == pytest.approx(tuple(expected), rel=1e-4)


def test_changing_the_slice_redraws_both_images(canvas, document, qtbot):
    _with_result(document)
    control = SliceControl(document)
    qtbot.addWidget(control)
    control.spin.setValue(1)
    assert document.z == 0
    np.testing.assert_array_equal(canvas.item_a.image, document.image.data[0])
    np.testing.assert_array_equal(canvas.item_b.image, document.image.data[0] * 0.5)
    document.step_z(2)
    assert control.slider.value() == 3


def test_ctrl_wheel_over_the_image_steps_slices(canvas, document):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    viewport = canvas.pane_a.view.viewport()
    z = document.z
    position = QPointF(_widget_point(canvas, 40, 30))
    event = QWheelEvent(position, viewport.mapToGlobal(position), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    assert document.z == z + 1


def test_hovering_reports_both_pixel_values(canvas, document, qtbot):
    _with_result(document)
    seen = []
    canvas.hovered.connect(seen.append)
    QTest.mouseMove(canvas.pane_a.view.viewport(), _widget_point(canvas, 12.5, 7.5))
    info = [item for item in seen if item is not None][-1]
    assert (info.x, info.y, info.z) == (12, 7, document.z)
    assert info.original == pytest.approx(document.current_slice()[7, 12])
    assert info.compared == pytest.approx(info.original * 0.5)


def test_scale_bar_only_with_a_known_voxel_size(canvas, document):
    assert canvas.scale_bar.isVisible()
    assert canvas.scale_bar.text.toPlainText().endswith("nm")
    document.open_image(ImageData(np.zeros((30, 40), np.float32)), "b.tif")
    assert not canvas.scale_bar.isVisible()


def test_a_2d_image_hides_the_slice_control(document, qtbot):
    control = SliceControl(document)
    qtbot.addWidget(control)
    control.show()
    assert control.isVisible()
    document.open_image(ImageData(np.zeros((30, 40), np.float32)), "b.tif")
    assert not control.isVisible()
