"""Benchmark: the event loop never stalls for 100 ms while non-local means runs on the full sample.

A wall-clock limit that a loaded machine can miss, so it is here rather than
in the default suite (where tests/gui/test_main_window.py shows that the
window handles a click while a job computes).  Run with ``make bench``.
"""

import gc
import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from et_denoise.gui.jobs.job_runner import JobState  # noqa: E402
from et_denoise.gui.theme import apply_theme  # noqa: E402


@pytest.fixture
def window(qapp, qtbot, tmp_path):
    """A shown main window with nothing open, its settings in a temporary folder."""
    from et_denoise.gui.app import create_window

    apply_theme(qapp)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    main = create_window()
    main.show()
    yield main
    main.close_without_asking()  # not left to qtbot, whose close would ask about the unsaved result in a dialog


@pytest.fixture
def collections():
    """Durations of the garbage collector's passes during the test (to explain a stall)."""
    started, durations = {}, []

    def record(phase, info):
        if phase == "start":
            started["t"] = time.perf_counter()
        else:
            durations.append((info["generation"], time.perf_counter() - started.get("t", time.perf_counter())))

    gc.callbacks.append(record)
    yield durations
    gc.callbacks.remove(record)


def test_event_loop_never_stalls_while_nlm_runs_on_the_sample(window, qtbot, collections):
    window.opener.open_sample()  # the full built-in sample, as a user opens it
    qtbot.waitUntil(lambda: window.document.has_image and window.warm_up_job.state.done, timeout=120_000)
    assert window.warm_up_job.state is JobState.SUCCEEDED
    tab = window.select_tab("nlm")
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    collections.clear()
    timer.start()
    job = tab.apply()
    qtbot.waitUntil(lambda: len(window.document.results) == 1, timeout=120_000)
    timer.stop()
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    assert job.elapsed_s > 0.3, "the job must run long enough for the measurement to mean something"
    assert len(ticks) > 20
    slow_collections = [(generation, round(seconds * 1000)) for generation, seconds in collections if seconds > 0.02]
    assert max(gaps) < 0.1, (f"the event loop stalled for {max(gaps) * 1000:.0f} ms; "
                             f"garbage-collector passes over 20 ms (generation, ms): {slow_collections}")
