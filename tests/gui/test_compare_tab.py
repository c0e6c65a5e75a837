"""The Compare tab as a user drives it: linked tiles, line profile, metrics, figure, commands."""

import csv

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMenu

from et_denoise.engine.compare.comparison import line_profile
from et_denoise.engine.compare.figure import FigureSize
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import ImageData, read_image, write_image
from et_denoise.engine.compare.metrics import psnr
from et_denoise.gui.tabs.compare.figure_dialog import FigureDialog, FigureOptions
from et_denoise.gui.model import Result
from et_denoise.gui.slice_view import Orientation
from et_denoise.gui.tabs.compare.compare_grid import ContrastMode
from et_denoise.gui.tabs.compare.compare_tab import MetricsScope


def add_results(document, specs):
    """Add one result per (method name, parameter changes), computed as the filter tabs do."""
    results = []
    for name, changes in specs:
        method = FILTERS[name]
        params = method.params_type(**changes)
        result = Result(method.label, name, method.label, params, method.apply(document.image.data, params), 0.25)
        document.add_result(result)
        results.append(result)
    return results


THREE = [("median", {"size": 3}), ("diffusion", {}), ("nlm", {})]


@pytest.fixture
def compare_tab(sample_window, qtbot):
    results = add_results(sample_window.document, THREE + [("median", {"size": 7})])
    tab = sample_window.select_tab("compare")
    tab.set_checked(results[3], False)  # three of the four results selected
    qtbot.waitUntil(lambda: tab.metrics is not None, timeout=20_000)
    return tab, results[:3]


def test_three_selected_results_give_four_tiles_that_zoom_pan_and_slice_together(compare_tab, sample_window):
    tab, results = compare_tab
    document = sample_window.document
    assert [tile.key for tile in tab.grid.tiles] == [None, *results]
    assert [tile.name for tile in tab.grid.tiles] == ["Original", "Median", "Anisotropic diffusion",
                                                       "Non-local means"]
    assert tab.grid.tiles[1].subtitle == "Size 3"
    boxes = tab.grid.boxes()
    assert len(boxes) == 4
    before = boxes[0].viewRange()
    boxes[2].scaleBy((0.4, 0.4))
    boxes[2].translateBy((7, 3))
    zoomed = boxes[2].viewRange()
    assert zoomed[0][1] - zoomed[0][0] == pytest.approx(0.4 * (before[0][1] - before[0][0]), rel=0.05)
    for box in boxes:  # within a pixel: in a grid of odd width, a column is one screen pixel narrower
        np.testing.assert_allclose(box.viewRange(), zoomed, atol=0.5)
    document.set_z(2)
    for view, tile in zip(tab.grid.views(), tab.grid.tiles):
        np.testing.assert_array_equal(view.item.image, tile.planes[2])


def test_the_grid_shows_the_xz_and_yz_planes_through_the_cursor_with_the_profile_on_them(compare_tab,
                                                                                        sample_window):
    tab, _ = compare_tab
    document = sample_window.document
    sample_window.orientations.actions[Orientation.XZ].trigger()  # View > XZ (Ctrl+8)
    document.view.set_cursor(y=40, x=17)
    for view, tile in zip(tab.grid.views(), tab.grid.tiles):
        np.testing.assert_array_equal(view.item.image, tile.planes[:, 40, :])  # Z rows, X columns
    assert tab.grid.current_planes()[1].shape == (8, 96)
    (left, right), (top, bottom) = tab.grid.boxes()[0].viewRange()
    margin = 0.02 * 96  # the views are fitted to the 8 × 96 plane (one side spans it), not kept at the XY slice's
    assert min(abs(right - left - (96 + 2 * margin)), abs(bottom - top - (8 + 2 * margin))) < 0.5
    assert tab.grid.region_rois() == ([], []) and not tab.regions_box.isEnabled()  # SNR boxes are XY boxes
    start, end = tab.grid.line()
    assert 0 <= start[1] == end[1] < 8  # the line was put across the XZ plane
    np.testing.assert_allclose(tab.profile.curves()[1].yData, line_profile(tab.grid.current_planes()[1], start, end)[1])

    sample_window.orientations.actions[Orientation.YZ].trigger()
    for view, tile in zip(tab.grid.views(), tab.grid.tiles):
        np.testing.assert_array_equal(view.item.image, tile.planes[:, :, 17])
    sample_window.orientations.actions[Orientation.XY].trigger()
    assert tab.grid.current_planes()[0].shape == (96, 96) and len(tab.grid.region_rois()[0]) == 4
    assert tab.grid.regions() is not None and tab.regions_box.isEnabled()


def test_the_xz_tiles_are_drawn_at_the_voxel_aspect_as_the_main_canvas_draws_them(compare_tab, sample_window):
    tab, _ = compare_tab
    document = sample_window.document
    document.set_voxel_size((30.0, 10.0, 10.0))  # Z voxels three times as tall as wide
    sample_window.orientations.actions[Orientation.XZ].trigger()
    document.view.set_cursor(y=40)
    canvas_rect = sample_window.canvas.item_a.mapRectToParent(sample_window.canvas.item_a.boundingRect())
    assert (canvas_rect.width(), canvas_rect.height()) == (96, 24)
    for view in tab.grid.views():
        assert view.item.mapRectToParent(view.item.boundingRect()) == canvas_rect
    (left, right), (top, bottom) = tab.grid.boxes()[0].viewRange()
    assert bottom - top >= 24 and right - left == pytest.approx(96 * 1.04, abs=0.5)  # fitted to 96 × 24
    start, end = tab.grid.line()
    assert 0 <= start[1] == end[1] < 8  # the line is read in pixels of the 8 × 96 plane
    np.testing.assert_allclose(tab.profile.curves()[1].yData, line_profile(tab.grid.current_planes()[1], start, end)[1])
    document.set_voxel_size((10.0, 10.0, 10.0))  # Image > Properties while XZ is shown
    assert tab.grid.views()[0].item.mapRectToParent(tab.grid.views()[0].item.boundingRect()).height() == 8
    np.testing.assert_allclose(tab.grid.line(), (start, end))  # the same pixels
    sample_window.orientations.actions[Orientation.XY].trigger()
    assert tab.grid.views()[0].item.mapRectToParent(tab.grid.views()[0].item.boundingRect()).height() == 96


def test_the_caption_says_the_metrics_are_measured_on_an_xy_slice_while_xz_is_shown(compare_tab, sample_window,
                                                                                  qtbot):
    tab, _ = compare_tab
    document = sample_window.document
    tab.scope_box.setCurrentEnum(MetricsScope.SLICE)
    qtbot.waitUntil(lambda: tab.metrics is not None and tab.metrics.scope.startswith("slice"), timeout=20_000)
    assert tab.status.text().startswith(f"Measured on slice {document.z + 1} ·")
    sample_window.orientations.actions[Orientation.XZ].trigger()
    assert tab.status.text().startswith(f"Measured on XY slice {document.z + 1}, not on the XZ plane shown "
                                        "(SNR and CNR use XY boxes)")
    sample_window.orientations.actions[Orientation.XY].trigger()
    assert tab.status.text().startswith(f"Measured on slice {document.z + 1} ·")


def test_shared_contrast_is_the_originals_and_per_image_contrast_differs(compare_tab):
    tab, _ = compare_tab
    assert [tab.contrast_box.itemText(i) for i in range(tab.contrast_box.count())] == ["Shared contrast",
                                                                                      "Per-image contrast"]
    shared = tab.grid.levels()
    assert all(levels == pytest.approx(shared[0]) for levels in shared)
    tab.contrast_box.setCurrentEnum(ContrastMode.PER_IMAGE)
    own = tab.grid.levels()
    assert own[0] == pytest.approx(shared[0])
    assert own[3][1] - own[3][0] < (shared[3][1] - shared[3][0]) / 2  # non-local means is much smoother


def test_the_line_profile_has_one_curve_per_image_and_follows_the_line_on_any_tile(compare_tab, sample_window):
    tab, _ = compare_tab
    curves = tab.profile.curves()
    assert len(curves) == 4
    assert [curve.opts["pen"].color().name() for curve in curves] == \
           [QColor(tile.colour).name() for tile in tab.grid.tiles]
    assert tab.profile.legend_entries() == [(tile.name, tile.colour) for tile in tab.grid.tiles]
    assert "Anisotropic diffusion" in tab.profile.legend.text()
    moved = tab.grid.line_rois()[2]
    moved.setState({"pos": (0.0, 0.0), "size": (1.0, 1.0), "angle": 0.0, "points": [(10.5, 20.5), (80.5, 60.5)]})
    start, end = tab.grid.line()
    assert (start, end) == ((10.0, 20.0), (80.0, 60.0))
    for roi in tab.grid.line_rois():
        assert [tuple(point) for point in roi.listPoints()] == [(10.5, 20.5), (80.5, 60.5)]
    z = sample_window.document.z
    for curve, tile in zip(curves, tab.grid.tiles):
        _, expected = line_profile(tile.planes[z], start, end)
        np.testing.assert_allclose(curve.yData, expected)


def test_metrics_table_has_psnr_and_ssim_with_ground_truth_and_the_other_metrics_always(
        compare_tab, sample_window, qtbot, tmp_path):
    tab, results = compare_tab
    document = sample_window.document
    headers = tab.table.headers()
    assert headers == ["Image", "PSNR (dB)", "SSIM", "Noise σ", "SNR", "CNR", "ACF X±1", "ACF X±2",
                       "ACF Y±1", "ACF Y±2", "Time (s)"]
    assert tab.table.rowCount() == 4
    z = document.z
    assert tab.table.value("Non-local means", "PSNR (dB)") == pytest.approx(
        psnr(document.reference[z], results[2].data[z]))
    assert tab.table.value("Median", "Time (s)") == 0.25

    tab.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # the user clicks the PSNR header
    column = [tab.table.item(row, 0).text() for row in range(4)]
    assert column[-1] == "Original" and column[0] == "Non-local means"

    tab.scope_box.setCurrentEnum(MetricsScope.VOLUME)
    qtbot.waitUntil(lambda: tab.metrics is not None and tab.metrics.scope == "the whole volume", timeout=20_000)
    assert tab.table.value("Median", "PSNR (dB)") == pytest.approx(psnr(document.reference, results[0].data))

    noisy = document.image.data.copy()
    clean = document.reference.copy()
    document.open_image(ImageData(noisy), "no truth.tif")
    add_results(document, THREE[:1])
    qtbot.waitUntil(lambda: tab.metrics is not None and len(tab.metrics.rows) == 2, timeout=20_000)
    assert tab.table.headers() == ["Image", "Noise σ", "SNR", "CNR", "ACF X±1", "ACF X±2", "ACF Y±1", "ACF Y±2",
                                   "Time (s)"]
    assert tab.table.value("Median", "Noise σ") < tab.table.value("Original", "Noise σ")

    write_image(tmp_path / "clean.tif", clean)
    with qtbot.waitSignal(tab.load_reference(str(tmp_path / "clean.tif")).succeeded, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: tab.metrics is not None and "PSNR (dB)" in tab.table.headers(), timeout=20_000)
    assert tab.reference_label.text() == "clean.tif"


def test_moving_a_region_measures_again(compare_tab, qtbot):
    tab, _ = compare_tab
    before = tab.metrics.row("Median").cnr
    signal_rois, _ = tab.grid.region_rois()
    old = tab.metrics
    signal_rois[1].setState({"pos": (60.0, 60.0), "size": (20.0, 20.0), "angle": 0.0})
    signal_rois[1].sigRegionChangeFinished.emit(signal_rois[1])
    qtbot.waitUntil(lambda: tab.metrics is not None and tab.metrics is not old, timeout=20_000)
    assert (tab.metrics.signal_region.x0, tab.metrics.signal_region.y0) == (60, 60)
    assert tab.metrics.row("Median").cnr != before
    assert all(roi.pos() == signal_rois[1].pos() for roi in signal_rois)


def test_clicking_a_tile_compares_it_in_the_split_view(compare_tab, sample_window, qtbot):
    tab, results = compare_tab
    document = sample_window.document
    document.show(None)
    view = tab.grid.views()[2].view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(view.width() // 2, view.height() // 3))
    assert document.comparison is results[1]
    window = sample_window
    assert window.central_stack.currentWidget() is window.canvas and window.canvas.isVisible()
    assert window.mode_actions[window.canvas.mode].isChecked() and not tab.grid.isVisible()
    window.grid_action.trigger()  # View > Grid: back to the grid
    assert window.central_stack.currentWidget() is tab.central_view and tab.grid.isVisible()


def test_the_grid_fills_the_central_area_while_the_compare_tab_is_current(compare_tab, sample_window):
    tab, _ = compare_tab
    window = sample_window
    assert window.central_stack.currentWidget() is tab.central_view
    assert tab.grid.isVisible() and not window.canvas.isVisible()
    assert tab.grid.width() > tab.width()  # larger than the Methods dock it was in
    assert window.grid_action.isChecked() and window.grid_action.isEnabled()
    assert not window.fit_action.isEnabled()  # the canvas' own tools wait for the canvas
    window.select_tab("median")
    assert window.central_stack.currentWidget() is window.canvas and window.canvas.isVisible()
    assert window.grid_action.isEnabled() and window.fit_action.isEnabled()  # Grid (Ctrl+6) from every tab


def test_figure_csv_and_commands_are_exported(compare_tab, sample_window, qtbot, tmp_path, dialogs):
    tab, results = compare_tab
    size = FigureSize(16, unit="cm", dpi=120)
    job = tab.export_figure(str(tmp_path / "figure.png"), FigureOptions(size, profile=True, metrics=True))
    with qtbot.waitSignal(job.succeeded, timeout=30_000):
        pass
    with Image.open(tmp_path / "figure.png") as png:
        assert png.size[0] == pytest.approx(16 / 2.54 * 120, abs=1)

    dialogs.save_path = str(tmp_path / "metrics.csv")
    tab.csv_button.click()
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open(encoding="utf-8")))
    assert [row["image"] for row in rows] == ["Original", "Median", "Anisotropic diffusion", "Non-local means"]
    assert float(rows[1]["psnr"]) == pytest.approx(tab.metrics.row("Median").psnr)

    tab.grid.views()[1].copy_button.click()
    command = QApplication.clipboard().text()
    assert " sample -o et-denoise-sample --shape 8 96 96 --seed 0" in command
    assert "--method median --size 3 --footprint square --mode 2d" in command

    dialogs.save_path = str(tmp_path / "session.sh")
    tab.script_button.click()
    script = (tmp_path / "session.sh").read_text()
    assert script.count(" denoise ") == 4 and "# Non-local means" in script


def test_figure_dialog_converts_units_and_reads_back():
    dialog = FigureDialog(FigureOptions(FigureSize(25.4, None, "cm", 300), profile=False, metrics=True))
    dialog.unit_box.setCurrentText("in")
    options = dialog.options()
    assert options.size == FigureSize(10.0, None, "in", 300)
    assert (options.profile, options.metrics) == (False, True)


def test_results_panel_menu_copies_a_results_command_and_exports_the_session(sample_window, tmp_path, dialogs):
    document = sample_window.document
    path = tmp_path / "my tomo.tif"
    write_image(path, document.image.data)
    document.open_image(read_image(path), path.name)
    [result] = add_results(document, [("nlm", {"h": 0.5})])
    panel = sample_window.results_panel

    def choose(text):
        """Answer the context menu, once it is open, with the entry ``text``."""
        def pick():
            menu = next(menu for menu in panel.findChildren(QMenu) if menu.isVisible())
            next(action for action in menu.actions() if action.text() == text).trigger()
            menu.close()
        QTimer.singleShot(0, pick)

    position = panel.list.visualItemRect(panel.item_for(result)).center()
    choose("Copy command")
    panel.list.customContextMenuRequested.emit(position)
    command = QApplication.clipboard().text()
    assert f"denoise '{path}' -o my_tomo_Non-local_means.tif --method nlm" in command and "--h 0.5 " in command

    dialogs.save_path = str(tmp_path / "session.sh")
    choose("Export session as script…")
    panel.list.customContextMenuRequested.emit(position)
    assert f"denoise '{path}' -o my_tomo_Non-local_means.tif" in (tmp_path / "session.sh").read_text()
