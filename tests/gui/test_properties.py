"""Image > Properties sets the voxel size: the scale bar appears and saved files carry it."""

import numpy as np
import pytest

from et_denoise.engine.io import read_image, write_image
from et_denoise.gui.files.properties_dialog import PropertiesDialog


@pytest.fixture
def unscaled_window(window, qtbot, tmp_path):
    path = tmp_path / "slices.tif"
    write_image(path, np.random.default_rng(1).normal(size=(4, 40, 48)).astype(np.float32))
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    return window


def test_the_voxel_size_set_in_properties_is_written_to_tiff_and_mrc(unscaled_window, qtbot, tmp_path):
    window, document = unscaled_window, unscaled_window.document
    assert document.voxel_size is None and not window.canvas.scale_bar.isVisible()
    assert "Image ▸ Properties" in window.image_info.text()
    dialog = PropertiesDialog(document, window)
    dialog.unit.setCurrentText("nm")
    dialog.sizes["X"].setValue(0.68)  # Y and Z follow X
    dialog.sizes["Z"].setValue(1.36)
    dialog.accept()
    assert document.voxel_size == pytest.approx((13.6, 6.8, 6.8))
    assert window.canvas.scale_bar.isVisible() and "6.8 Å/px" in window.image_info.text()
    window.select_tab("median").apply()
    qtbot.waitUntil(lambda: len(document.results) == 1, timeout=30_000)
    for name in ("result.tif", "result.mrc"):
        job = window.save_result(document.results[0], str(tmp_path / name))
        qtbot.waitUntil(lambda: job.state.done, timeout=10_000)
        assert read_image(tmp_path / name).voxel_size == pytest.approx((13.6, 6.8, 6.8), rel=1e-5), name


def test_properties_in_angstrom_and_unknown(unscaled_window):
    document = unscaled_window.document
    dialog = PropertiesDialog(document, unscaled_window)
    dialog.unit.setCurrentText("Å")
    dialog.sizes["X"].setValue(10)
    assert dialog.voxel_size() == (10, 10, 10)
    dialog.accept()
    dialog = PropertiesDialog(document, unscaled_window)
    assert dialog.unit.currentText() == "nm" and dialog.sizes["Y"].value() == pytest.approx(1.0)
    dialog.sizes["X"].setValue(0)
    assert dialog.voxel_size() is None
