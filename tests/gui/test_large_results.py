"""Results larger than the memory budget: kept on disk in the scratch folder, shown, saved by copy, removed at the end."""

import numpy as np
import pytest

from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.volume import storage as storage_module
from et_denoise.engine.volume.storage import scratch_file_of
from et_denoise.gui.files.preferences_dialog import PreferencesDialog

IN_USE = 10**9


@pytest.fixture
def held(monkeypatch):
    """The app holds exactly IN_USE bytes, so what the budget leaves is known."""
    monkeypatch.setattr(storage_module, "process_private_memory", lambda: IN_USE)


def apply_median(window, qtbot):
    tab = window.select_tab("median")
    tab.form.set_params(tab.form.params().replace(size=3, mode="2d"))
    count = len(window.document.results)
    assert tab.apply() is not None
    qtbot.waitUntil(lambda: len(window.document.results) == count + 1, timeout=30_000)
    return window.document.results[count], tab.form.params()


def test_a_result_beyond_the_budget_is_shown_from_disk_saved_by_copy_and_removed_at_the_end(
        sample_window, qtbot, held, dialogs, tmp_path):
    window = sample_window
    image = window.document.image
    window.storage.memory = IN_USE + 4 * image.data.size  # one float32 result: not kept in memory
    result, params = apply_median(window, qtbot)
    scratch = scratch_file_of(result.data)
    assert scratch is not None and scratch.parent == window.storage.scratch.folder
    np.testing.assert_array_equal(result.data, FILTERS["median"].apply(image.data, params))
    assert window.document.comparison is result
    np.testing.assert_array_equal(window.document.comparison_slice(), result.data[window.document.z])

    dialogs.save_path, dialogs.save_filter = str(tmp_path / "median.mrc"), "MRC (*.mrc *.rec)"
    window.save_result(result)
    qtbot.waitUntil(lambda: result.saved, timeout=10_000)
    saved = read_image(tmp_path / "median.mrc")
    np.testing.assert_array_equal(saved.data, result.data)
    assert saved.voxel_size == pytest.approx(image.voxel_size)

    window.document.results.remove(result)
    assert not scratch.exists()
    kept, _ = apply_median(window, qtbot)
    folder = scratch_file_of(kept.data).parent
    window.document.results.clear()
    window.close()
    assert not folder.exists()
    assert (tmp_path / "median.mrc").exists()


def test_a_result_within_the_budget_stays_in_memory(sample_window, qtbot, held):
    window = sample_window
    window.storage.memory = IN_USE + 10**9
    result, _ = apply_median(window, qtbot)
    assert scratch_file_of(result.data) is None
    assert not window.storage.scratch.folder.exists()


def test_preferences_set_the_budget_shown_in_the_status_bar_and_refuse_a_bad_size(window, qtbot, tmp_path):
    dialog = PreferencesDialog(window.settings, window.storage, window)
    qtbot.addWidget(dialog)
    dialog.budget.setText("lots")
    dialog.accept()
    assert "Memory budget" in dialog.status.text() and window.storage.memory is None
    dialog.budget.setText("2GB")
    dialog.scratch.setText(str(tmp_path / "scratch"))
    dialog.accept()
    assert window.storage.memory == 2 * 10**9 and window.settings.memory_budget() == 2 * 10**9
    assert window.storage.scratch.base == tmp_path / "scratch"
    window.memory_status.refresh()
    assert window.memory_status.text().endswith("of 2.0 GB")


def test_a_large_file_opens_mapped_without_reading_its_values(window, qtbot, tmp_path, monkeypatch):
    """The first slice appears without a pass over the whole file (its values are checked by each job)."""
    path = tmp_path / "tomogram.mrc"
    write_image(path, np.arange(6 * 16 * 16, dtype=np.float32).reshape(6, 16, 16))
    monkeypatch.setattr("et_denoise.engine.io.files.default_mmap_threshold", lambda: 0)
    scanned = []
    monkeypatch.setattr("et_denoise.engine.io.files.check_finite", lambda data, path: scanned.append(path))
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    assert window.document.image.memory_mapped and scanned == []


def test_open_region_reads_the_part_chosen_binned_with_its_voxel_size(window, qtbot, tmp_path, monkeypatch):
    from et_denoise.gui.files.region_dialog import RegionDialog

    data = np.arange(8 * 20 * 24, dtype=np.float32).reshape(8, 20, 24)
    path = write_image(tmp_path / "tomogram.mrc", data, voxel_size=(5.0, 5.0, 5.0))

    def choose(dialog):
        dialog.starts["Z"].setValue(2)
        dialog.stops["Y"].setValue(16)
        dialog.bin.setCurrentIndex(dialog.bin.findData(2))
        return True

    monkeypatch.setattr(RegionDialog, "exec", choose)
    window.opener.open_region(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    image = window.document.image
    part = data[2:8, 0:16, 0:24]
    expected = part.reshape(3, 2, 8, 2, 12, 2).mean(axis=(1, 3, 5))
    np.testing.assert_allclose(image.data, expected)
    assert image.voxel_size == (10.0, 10.0, 10.0)
    assert window.document.name == "tomogram.mrc [2:8,0:16,0:24] bin 2"
