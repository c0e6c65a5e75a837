"""Saving a result onto a full disk: the app stays up, says why in one line, and keeps the result."""

import os

import numpy as np
import pytest


@pytest.mark.parametrize("suffix", [".mrc", ".tif"])
def test_saving_to_a_full_disk_keeps_the_app_and_its_unsaved_result(sample_window, qtbot, dialogs, small_disk,
                                                                     fill_disk, suffix):
    window = sample_window
    assert window.select_tab("median").apply() is not None
    qtbot.waitUntil(lambda: len(window.document.results) == 1, timeout=30_000)
    result = window.document.results[0]
    shown = result.data.copy()
    fill_disk(small_disk, leave=64 * 1024)

    dialogs.save_path = str(small_disk / f"smoothed{suffix}")
    assert window.save_result(result) is not None
    qtbot.waitUntil(lambda: "critical" in dialogs.kinds(), timeout=10_000)
    (message,) = dialogs.texts("critical")
    assert f"smoothed{suffix}" in message and "No space left on device" in message
    assert "\n" not in message and "Traceback" not in message and ".partial" not in message
    assert window.isVisible() and window.isWindowModified()
    assert result in window.document.results and not result.saved
    np.testing.assert_array_equal(result.data, shown)
    assert os.listdir(small_disk) == ["filler"], "no partial file is left"

    os.remove(small_disk / "filler")  # room again: the same result saves
    window.save_result(result)
    qtbot.waitUntil(lambda: result.saved, timeout=10_000)
    assert sorted(os.listdir(small_disk)) == [f"smoothed{suffix}"]
