"""The GUI thread never computes: the event loop keeps ticking while a filter runs on the volume."""

import gc
import time

import pytest
from PySide6.QtCore import QTimer

from et_denoise.gui.jobs.job_runner import JobState


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
