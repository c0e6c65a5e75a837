"""Acceptance tests of the main window, as a user would drive it."""

import threading
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.jobs import run_slicewise
from et_denoise.engine.methods import Method
from et_denoise.engine.params import MethodParams, param
from et_denoise.gui.model import Preview, Result
from et_denoise.gui.tabs.base import TabContext
from et_denoise.gui.tabs.filters.filter_tab import FilterTab


def _apply(window, qtbot, key="median"):
    """Apply the method of tab ``key`` to the whole image and return the result."""
    tab = window.select_tab(key)
    count = len(window.document.results)
    job = tab.apply()
    assert job is not None
    qtbot.waitUntil(lambda: len(window.document.results) == count + 1, timeout=30_000)
    return window.document.results[count]


def test_preview_follows_parameters_and_apply_adds_a_result(sample_window, qtbot, sample_shape):
    window, document = sample_window, sample_window.document
    tab = window.select_tab("median")
    qtbot.waitUntil(lambda: isinstance(document.comparison, Preview) and document.comparison.method_label == "Median",
                    timeout=10_000)
    first = document.comparison
    tab.form.editor("size").setValue(first.params.size + 4)
    qtbot.waitUntil(lambda: document.comparison is not first and isinstance(document.comparison, Preview),
                    timeout=10_000)
    preview = document.comparison
    assert preview.params.size == first.params.size + 4 and preview.z == document.z
    assert not np.allclose(preview.data, first.data)
    np.testing.assert_array_equal(window.canvas.item_b.image, preview.data)

    result = _apply(window, qtbot)
    assert result.params.size == preview.params.size and result.data.shape == sample_shape
    assert document.comparison is result and window.results_panel.selected() is result
    assert window.results_panel.list.count() == 1
    np.testing.assert_allclose(result.data[document.z], preview.data, atol=1e-6)
    assert window.isWindowModified()

    window.canvas.set_wipe_fraction(0.25)
    assert window.canvas.wipe_position == pytest.approx(sample_shape[2] * 0.25)
    assert window.canvas.clip.rect().left() == pytest.approx(sample_shape[2] * 0.25)


def test_page_up_and_page_down_move_through_slices(sample_window, qtbot):
    document = sample_window.document
    z = document.z
    sample_window.activateWindow()
    qtbot.keyClick(sample_window.canvas, Qt.Key.Key_PageUp)
    assert document.z == z + 1
    qtbot.keyClick(sample_window.canvas, Qt.Key.Key_PageDown)
    qtbot.keyClick(sample_window.canvas, Qt.Key.Key_PageDown)
    assert document.z == z - 1 and sample_window.slice_control.spin.value() == z


def test_a_newer_slice_preview_wins(sample_window, qtbot):
    document = sample_window.document
    sample_window.select_tab("median")
    for z in (1, 2, 5):
        document.set_z(z)
    qtbot.waitUntil(lambda: isinstance(document.comparison, Preview) and document.comparison.z == 5, timeout=10_000)
    np.testing.assert_array_equal(sample_window.canvas.item_b.image, document.comparison.data)


@dataclass(frozen=True)
class _GateParams(MethodParams):
    mode: str = param("2d", label="Mode", help="Planes one by one.", choices=("2d", "3d"))


def _gated_method(gate: threading.Event, planes_done: list):
    """A method whose planes wait for ``gate``: the test decides when it may go on."""

    def one_plane(plane):
        gate.wait(10)
        planes_done.append(1)
        return plane.astype(np.float32)

    def function(image, *, mode, progress=None, cancel=None):
        return run_slicewise(one_plane, np.asarray(image), progress=progress, cancel=cancel, workers=1)

    return Method("gated", "Gated", "Waits for the test.", _GateParams, function)


def test_cancel_stops_a_running_job_and_keeps_no_result(sample_window, qtbot, sample_shape):
    window, document = sample_window, sample_window.document
    gate, planes_done = threading.Event(), []
    tab = FilterTab(_gated_method(gate, planes_done), TabContext(document, window.jobs, window.settings, window.storage))
    qtbot.addWidget(tab)
    tab.live_preview.setChecked(False)
    job = tab.apply()
    qtbot.waitUntil(lambda: window.job_status.isVisible() and window.job_status.current is job, timeout=5000)
    assert not tab.apply_button.isEnabled()
    qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: tab.apply_job is None, timeout=10_000)
    assert len(planes_done) < sample_shape[0]
    assert len(document.results) == 0 and not isinstance(document.comparison, Result)
    assert "Cancelled" in tab.apply_status.text() and tab.apply_button.isEnabled()
    qtbot.waitUntil(lambda: not window.job_status.isVisible(), timeout=5000)


def test_a_corrupt_file_shows_the_engine_message_and_the_window_keeps_working(window, qtbot, dialogs, tmp_path,
                                                                              sample_shape):
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"this is not a TIFF file at all")
    window.open_path(str(bad))
    qtbot.waitUntil(lambda: "critical" in dialogs.kinds(), timeout=10_000)
    assert "broken.tif" in dialogs.texts("critical")[0]
    assert not window.document.has_image
    window.opener.open_sample(sample_shape)
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)


def test_a_failing_apply_shows_a_dialog_and_the_app_goes_on(sample_window, qtbot, dialogs):
    def fail(image, *, mode, progress=None, cancel=None):
        raise ParameterError("this method refuses the image")

    method = Method("failing", "Failing", "Always fails.", _GateParams, fail)
    tab = FilterTab(method, TabContext(sample_window.document, sample_window.jobs, sample_window.settings, sample_window.storage))
    qtbot.addWidget(tab)
    tab.apply()
    qtbot.waitUntil(lambda: "critical" in dialogs.kinds(), timeout=10_000)
    assert dialogs.texts("critical") == ["this method refuses the image"]
    qtbot.waitUntil(lambda: tab.apply_button.isEnabled(), timeout=5000)
    assert len(sample_window.document.results) == 0


@pytest.mark.parametrize("file_filter, suffix", [("TIFF (*.tif *.tiff)", ".tif"), ("MRC (*.mrc *.rec)", ".mrc"),
                                                 ("OME-Zarr (*.zarr)", ".ome.zarr")])
def test_a_saved_result_reloads_equal_to_what_was_shown(sample_window, qtbot, dialogs, tmp_path, file_filter, suffix):
    result = _apply(sample_window, qtbot)
    dialogs.save_path, dialogs.save_filter = str(tmp_path / "smoothed"), file_filter
    qtbot.mouseClick(sample_window.results_panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: result.saved, timeout=10_000)
    assert result.saved_path == str(tmp_path / f"smoothed{suffix}")
    reloaded = read_image(result.saved_path)
    np.testing.assert_array_equal(reloaded.data, result.data)
    assert reloaded.voxel_size == pytest.approx(sample_window.document.voxel_size)
    assert not sample_window.isWindowModified()


def test_saving_over_an_existing_file_asks_first(sample_window, qtbot, dialogs, tmp_path):
    result = _apply(sample_window, qtbot)
    target = tmp_path / "taken.tif"
    target.write_bytes(b"keep me")
    dialogs.save_path = str(target)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert sample_window.save_result(result) is None
    assert "question" in dialogs.kinds() and target.read_bytes() == b"keep me" and not result.saved


def test_closing_with_unsaved_results_asks_first(sample_window, qtbot, dialogs):
    _apply(sample_window, qtbot)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not sample_window.close()
    assert sample_window.isVisible() and "not saved" in dialogs.texts("question")[-1]
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert sample_window.close()


def test_results_can_be_renamed_and_deleted(sample_window, qtbot, dialogs):
    panel, document = sample_window.results_panel, sample_window.document
    result = _apply(sample_window, qtbot)
    panel.item_for(result).setText("smooth 5")
    assert result.name == "smooth 5"
    panel.delete(result)
    assert "question" in dialogs.kinds() and len(document.results) == 0 and panel.list.count() == 0
    assert not isinstance(document.comparison, Result)


def test_dropping_a_file_opens_it_and_remembers_it(window, qtbot, tmp_path):
    path = tmp_path / "dropped.tif"
    write_image(path, np.random.default_rng(1).normal(size=(3, 40, 50)).astype(np.float32),
                voxel_size=(4.0, 4.0, 4.0))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.name == "dropped.tif", timeout=10_000)
    assert window.settings.recent_files() == [str(path)]
    assert "dropped.tif" in window.windowTitle() and "4 Å/px" in window.image_info.text()


def test_a_folder_of_slices_opens_as_a_stack_and_appears_in_open_recent(window, qtbot, tmp_path):
    folder = tmp_path / "slices"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for index in range(3):
        write_image(folder / f"slice_{index:03d}.tif", rng.normal(size=(32, 40)).astype(np.float32))
    window.open_path(str(folder))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    assert window.document.n_slices == 3 and window.slice_control.isVisible()
    window.recent_menu.aboutToShow.emit()
    assert any(action.text().startswith("slices") for action in window.recent_menu.actions())


def test_an_ome_zarr_folder_opens_as_its_image_with_its_voxel_size(window, qtbot, tmp_path):
    volume = np.random.default_rng(4).normal(size=(5, 32, 40)).astype(np.float32)
    path = write_image(tmp_path / "tomogram.ome.zarr", volume, voxel_size=(7.0, 7.0, 7.0))
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    np.testing.assert_array_equal(window.document.image.data, volume)
    assert window.document.voxel_size == (7.0, 7.0, 7.0) and window.document.name == "tomogram.ome.zarr"


def test_a_2d_image_hides_z_and_filters_in_2d(window, qtbot, tmp_path):
    path = tmp_path / "micrograph.tif"
    write_image(path, np.random.default_rng(2).normal(size=(64, 80)).astype(np.float32))
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    tab = window.select_tab("median")
    assert not window.slice_control.isVisible()
    assert tab.apply_button.text() == "Apply to image" and not tab.form.editor("mode").isEnabled()
    result = _apply(window, qtbot)
    assert result.data.shape == (64, 80)


def test_parameters_persist_between_windows(window, qtbot):
    from et_denoise.gui.main_window import MainWindow

    window.tab("median").form.editor("size").setValue(9)
    window.settings.sync()
    other = MainWindow()
    qtbot.addWidget(other)
    assert other.tab("median").form.params().size == 9


def test_the_window_shows_every_tab_in_order_and_only_the_current_one_is_active(window):
    from et_denoise.engine.filters import FILTERS

    titles = [window.tabs.tabText(index) for index in range(window.tabs.count())]
    assert titles == [*(method.label for method in FILTERS.values()), "StructN2V", "Noise analysis", "Compare"]
    compare = window.select_tab("compare")
    assert compare.active and not any(window.tab(key).active for key in window.tab_keys if key != "compare")
    assert window.central_stack.currentWidget() is compare.central_view
    window.select_tab("median")
    assert not compare.active and window.central_stack.currentWidget() is window.canvas
