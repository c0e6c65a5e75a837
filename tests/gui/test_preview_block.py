"""A live preview stays small: 3-D methods run on a block of slices around the current one, and say so;
any job still running after a second shows its progress and Cancel."""

import threading

import numpy as np
import pytest

from et_denoise.gui.model import Preview
from et_denoise.gui.tabs.filters.filter_tab import SLAB_RADIUS
from et_denoise.gui.widgets.job_status import describe_time


@pytest.mark.parametrize("key", ["median", "diffusion", "nlm"])
def test_a_3d_preview_runs_on_a_block_of_slices_and_says_so(sample_window, qtbot, key):
    window, document = sample_window, sample_window.document
    tab = window.select_tab(key)
    document.set_z(1)  # near the edge: the block is cut at slice 1
    tab.form.set_params(tab.form.params().replace(mode="3d"))
    tab.run_preview()
    assert "3-D preview on slices 1–" in tab.preview_status.text()
    qtbot.waitUntil(lambda: isinstance(document.comparison, Preview) and document.comparison.block is not None
                    and document.comparison.method_label == tab.method.label, timeout=60_000)
    preview = document.comparison
    first, last = preview.block
    assert first <= preview.z <= last and last - first + 1 <= 2 * SLAB_RADIUS + 1
    assert (first, last) == (0, 1 + SLAB_RADIUS)
    assert f"3-D on slices {first + 1}–{last + 1} only" in tab.preview_status.text()


@pytest.mark.parametrize("key", ["nlm", "dct"])
def test_a_slow_3d_preview_covers_a_part_of_the_slice_around_the_cursor_and_says_so(sample_window, qtbot, key):
    window, document = sample_window, sample_window.document
    window.opener.open_sample((8, 150, 210))  # slices larger than the part
    qtbot.waitUntil(lambda: document.image.data.shape == (8, 150, 210), timeout=20_000)
    tab = window.select_tab(key)
    side = tab.method.preview_side
    height, width = 150, 210
    assert side is not None and side < height
    document.view.set_cursor(y=10, x=width - 20)  # near the top right corner: the part is moved inwards
    tab.form.set_params(tab.form.params().replace(mode="3d"))
    tab.run_preview()
    x_part, y_part = f"x {width - side + 1}–{width}", f"y 1–{side}"
    assert f", {x_part}, {y_part} only…" in tab.preview_status.text()
    qtbot.waitUntil(lambda: isinstance(document.comparison, Preview) and document.comparison.region is not None
                    and document.comparison.method_label == tab.method.label, timeout=60_000)
    preview, original = document.comparison, document.current_slice()
    rows, columns = preview.region
    assert (rows, columns) == (slice(0, side), slice(width - side, width))
    outside = np.ones(original.shape, bool)
    outside[rows, columns] = False
    np.testing.assert_array_equal(preview.data[outside], original[outside])  # the original where not computed
    assert not np.allclose(preview.data[rows, columns], original[rows, columns])
    assert f"{x_part}, {y_part} only" in tab.preview_status.text()
    assert preview.name == f"{tab.method.label} preview (crop)"  # the title above the image
    document.view.set_cursor(y=height // 2, x=width // 2)  # the cursor moves: the preview follows
    qtbot.waitUntil(lambda: document.comparison is not preview and isinstance(document.comparison, Preview)
                    and document.comparison.region[1].start == width // 2 - side // 2, timeout=60_000)


def test_a_2d_preview_covers_its_slice_alone(sample_window, qtbot):
    tab = sample_window.select_tab("median")
    tab.form.set_params(tab.form.params().replace(mode="2d"))
    tab.run_preview()
    qtbot.waitUntil(lambda: isinstance(sample_window.document.comparison, Preview)
                    and sample_window.document.comparison.params.mode == "2d", timeout=20_000)
    assert sample_window.document.comparison.block is None and "only" not in tab.preview_status.text()


def test_a_background_job_running_past_a_second_shows_progress_and_cancel(window, qtbot):
    release = threading.Event()
    from et_denoise.gui.jobs.job_runner import LatestJob

    previews = LatestJob(window.jobs)
    job = previews.submit("Slow preview", lambda progress, cancel: (progress(0.5), release.wait(10)),
                          lambda _value: None, lambda _message: None)
    try:
        assert not window.job_status.isVisible()
        qtbot.waitUntil(lambda: window.job_status.isVisible(), timeout=5_000)
        assert window.job_status.title.text() == "Slow preview" and window.job_status.cancel_button.isVisible()
        window.job_status.cancel_button.click()
        assert job.token.cancelled
    finally:
        release.set()
        qtbot.waitUntil(lambda: job.state.done, timeout=5_000)
    qtbot.waitUntil(lambda: not window.job_status.isVisible(), timeout=5_000)


def test_the_time_left_is_estimated_from_the_progress():
    assert describe_time(10.0, 0.25) == "10.0 s · about 30.0 s left"
    assert describe_time(10.0, 0.0) == "10.0 s" and describe_time(0.2, 0.5) == "0.20 s"
