"""File > Open region…: the dialog shows the part's shape and size, refuses what the engine refuses, returns its choice."""

import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox

from et_denoise.engine.io import LazyImage, open_image_lazily, write_image
from et_denoise.engine.io.subvolume import read_subvolume
from et_denoise.gui.files.region_dialog import RegionDialog


@pytest.fixture
def volume():
    return LazyImage.from_array(np.zeros((100, 512, 300), np.uint16))


def open_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Open)


def test_the_whole_image_unbinned_is_the_default(qtbot, volume):
    dialog = RegionDialog(volume)
    qtbot.addWidget(dialog)
    assert dialog.values() == ("0:100,0:512,0:300", 1)
    assert "Opens 100 × 512 × 300 (Z × Y × X) uint16, 30.7 MB in memory" in dialog.summary.text()
    assert open_button(dialog).isEnabled()


def test_ranges_and_bin_give_the_shape_and_size_the_engine_reads(qtbot, volume):
    dialog = RegionDialog(volume)
    qtbot.addWidget(dialog)
    dialog.starts["Z"].setValue(10)
    dialog.stops["Z"].setValue(61)
    dialog.stops["X"].setValue(256)
    dialog.bin.setCurrentIndex(dialog.bin.findData(2))
    assert dialog.values() == ("10:61,0:512,0:256", 2)
    assert dialog.part().shape == (25, 256, 128)
    text = dialog.summary.text()
    assert "Opens 25 × 256 × 128 (Z × Y × X) float32, 3.3 MB in memory" in text
    assert "--region 10:61,0:512,0:256 --bin 2" in text
    assert open_button(dialog).isEnabled() and dialog.summary.property("error") == "false"


@pytest.mark.parametrize("axis, start, stop, binning, message", [
    ("Z", 50, 20, 1, "region Z 50:20 is outside the image or empty"),
    ("Y", 7, 10, 4, "binning by 4 leaves nothing of the region's 3 pixels along Y"),
])
def test_a_region_the_engine_refuses_says_why_and_cannot_be_opened(qtbot, volume, axis, start, stop, binning,
                                                                     message):
    dialog = RegionDialog(volume)
    qtbot.addWidget(dialog)
    dialog.stops[axis].setValue(stop)
    dialog.starts[axis].setValue(start)
    dialog.bin.setCurrentIndex(dialog.bin.findData(binning))
    assert message in dialog.summary.text() and dialog.summary.property("error") == "true"
    assert not open_button(dialog).isEnabled()
    dialog.starts[axis].setValue(0)
    dialog.bin.setCurrentIndex(0)
    assert open_button(dialog).isEnabled()


def test_a_2d_image_has_y_and_x_only_and_the_spin_boxes_stay_inside_it(qtbot):
    dialog = RegionDialog(LazyImage.from_array(np.zeros((40, 60), np.float32)))
    qtbot.addWidget(dialog)
    assert list(dialog.starts) == ["Y", "X"]
    dialog.stops["X"].setValue(1000)
    assert dialog.values() == ("0:40,0:60", 1)
    assert "Opens 40 × 60 (Y × X) float32" in dialog.summary.text()


def test_the_choice_opens_that_part_of_the_file(qtbot, tmp_path):
    data = np.arange(6 * 8 * 10, dtype=np.float32).reshape(6, 8, 10)
    path = write_image(tmp_path / "v.mrc", data, voxel_size=(3.0, 3.0, 3.0))
    dialog = RegionDialog(open_image_lazily(path))
    qtbot.addWidget(dialog)
    assert "v.mrc · 6 Z × 8 Y × 10 X · float32" in dialog.intro.text()
    dialog.starts["Z"].setValue(2)
    dialog.starts["X"].setValue(4)
    region, binning = dialog.values()
    part = read_subvolume(path, region, binning)
    assert np.array_equal(part.data, data[2:, :, 4:]) and part.origin == pytest.approx((-6.0, 0.0, -12.0))


def test_a_part_larger_than_the_memory_available_says_so_and_cannot_be_opened(qtbot, volume, monkeypatch):
    monkeypatch.setattr("et_denoise.gui.files.region_dialog.available_memory", lambda: 1000)
    dialog = RegionDialog(volume)
    qtbot.addWidget(dialog)
    assert "more than the 1.0 kB available: choose a smaller region or bin it" in dialog.summary.text()
    assert not open_button(dialog).isEnabled()
