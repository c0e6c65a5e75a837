"""Edit > Preferences > Dask scheduler: Apply sends a volume opened from its file to the cluster's workers."""

import numpy as np
import pytest

from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import write_image
from et_denoise.engine.sample import make_sample
from et_denoise.engine.volume.storage import scratch_file_of

SHAPE = (12, 40, 48)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as running:
        yield running


@pytest.fixture
def mapped_file(tmp_path, monkeypatch):
    """A tomogram file the window opens memory-mapped, as it does a large one."""
    monkeypatch.setattr("et_denoise.engine.io.files.default_mmap_threshold", lambda: 0)
    return write_image(tmp_path / "tomogram.mrc", make_sample(shape=SHAPE, seed=2).noisy, voxel_size=(9.0,) * 3)


def _open(window, qtbot, path):
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)


def _apply_median_3d(window):
    tab = window.select_tab("median")
    tab.form.set_params(tab.form.params().replace(size=3, mode="3d"))
    return tab, tab.apply()


def test_apply_runs_on_the_cluster_and_equals_the_local_result(window, qtbot, cluster, mapped_file):
    _open(window, qtbot, mapped_file)
    window.storage.scheduler = cluster.scheduler_address
    tab, job = _apply_median_3d(window)
    assert f"on the cluster at {cluster.scheduler_address}" in tab.apply_status.text()
    qtbot.waitUntil(lambda: len(window.document.results) == 1, timeout=60_000)
    result = window.document.results[0]
    assert scratch_file_of(result.data).parent == window.storage.scratch.folder  # the workers wrote it there
    expected = FILTERS["median"].apply(window.document.image.data, tab.form.params())
    np.testing.assert_array_equal(result.data, expected)


def test_an_unreachable_scheduler_is_one_line_and_the_app_goes_on(window, qtbot, dialogs, mapped_file, monkeypatch):
    monkeypatch.setattr("et_denoise.engine.volume.cluster.CONNECT_TIMEOUT_S", 1)
    _open(window, qtbot, mapped_file)
    window.storage.scheduler = "tcp://127.0.0.1:9"
    tab, _job = _apply_median_3d(window)
    qtbot.waitUntil(lambda: "critical" in dialogs.kinds(), timeout=30_000)
    [message] = dialogs.texts("critical")
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in message and "Traceback" not in message
    qtbot.waitUntil(tab.apply_button.isEnabled, timeout=5000)
    window.storage.scheduler = None
    _apply_median_3d(window)
    qtbot.waitUntil(lambda: len(window.document.results) == 1, timeout=30_000)


def test_the_sample_runs_here_and_says_so(sample_window):
    sample_window.storage.scheduler = "tcp://127.0.0.1:9"
    tab, job = _apply_median_3d(sample_window)
    assert "on this machine (the cluster's workers read only volumes opened whole" in tab.apply_status.text()
    job.cancel()
