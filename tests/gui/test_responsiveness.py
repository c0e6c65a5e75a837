"""The GUI thread never computes: the event loop keeps ticking while a filter runs on the volume."""

import time

from PySide6.QtCore import QTimer

from gui.job_runner import JobState


def test_event_loop_never_stalls_while_nlm_runs_on_the_sample(window, qtbot):
    window.opener.open_sample()  # the full built-in sample, as a user opens it
    qtbot.waitUntil(lambda: window.document.has_image and window.warm_up_job.state.done, timeout=120_000)
    assert window.warm_up_job.state is JobState.SUCCEEDED
    tab = window.select_tab("nlm")
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    job = tab.apply()
    qtbot.waitUntil(lambda: len(window.document.results) == 1, timeout=120_000)
    timer.stop()
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    assert job.elapsed_s > 0.3, "the job must run long enough for the measurement to mean something"
    assert len(ticks) > 20
    assert max(gaps) < 0.1, f"the event loop stalled for {max(gaps) * 1000:.0f} ms"
