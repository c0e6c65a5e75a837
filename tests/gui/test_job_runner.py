"""The job runner: results, failures and cancellation arrive on the GUI thread."""

import threading

import pytest
from PySide6.QtCore import QThread

from et_denoise.engine.errors import ImageError
from et_denoise.gui.jobs.job_runner import JobRunner, JobState, LatestJob


@pytest.fixture
def runner(qtbot):
    jobs = JobRunner()
    yield jobs
    jobs.cancel_all()
    jobs.wait(5000)


def test_a_job_returns_its_value_on_the_gui_thread_with_progress(runner, qtbot):
    threads, fractions = [], []

    def work(progress, cancel):
        threads.append(QThread.currentThread())
        progress(0.5)
        progress(1.0)
        return 42

    job = runner.submit("answer", work)
    job.progressed.connect(fractions.append)
    values = []
    job.succeeded.connect(values.append)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert values == [42]
    assert threads[0] is not QThread.currentThread()
    assert fractions[-1] == 1.0 and job.state is JobState.SUCCEEDED
    qtbot.waitUntil(lambda: not runner.active_jobs())


def test_a_failing_job_reports_the_engine_message(runner, qtbot):
    def work(progress, cancel):
        raise ImageError("not a TIFF file", path="x.tif")

    job = runner.submit("bad", work)
    messages = []
    job.failed.connect(messages.append)
    with qtbot.waitSignal(job.finished, timeout=5000):  # the state follows once every outcome handler ran
        pass
    assert messages == ["x.tif: not a TIFF file"] and job.state is JobState.FAILED


def test_a_cancelled_job_ends_cancelled_and_never_succeeds(runner, qtbot):
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while True:
            cancel.check()

    job = runner.submit("endless", work)
    succeeded = []
    job.succeeded.connect(succeeded.append)
    qtbot.waitUntil(started.is_set, timeout=5000)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.cancel()
    assert job.state is JobState.CANCELLED and not succeeded


def test_latest_job_drops_results_of_older_submissions(runner, qtbot):
    latest = LatestJob(runner)
    release = threading.Event()
    delivered = []

    def slow(progress, cancel):
        release.wait(5)
        return "old"

    old = latest.submit("old", slow, delivered.append, delivered.append)
    old_ended = []
    old.finished.connect(lambda: old_ended.append(old.state))
    new = latest.submit("new", lambda progress, cancel: "new", delivered.append, delivered.append)
    with qtbot.waitSignal(new.succeeded, timeout=5000):
        pass
    release.set()
    qtbot.waitUntil(lambda: bool(old_ended), timeout=5000)
    assert delivered == ["new"] and old_ended == [JobState.CANCELLED]


def test_a_job_whose_signals_were_deleted_with_the_app_ends_without_a_traceback():
    """A signal ends the app while a job waits in the pool: its QObject is gone when the thread runs it."""
    import shiboken6

    from et_denoise.gui.jobs.job_runner import Job, _Runnable

    ran = []
    job = Job("late", lambda progress, token: ran.append(True))
    runnable = _Runnable(job)
    shiboken6.delete(job)
    runnable.run()  # raised "Signal source has been deleted" from the thread before
    assert not ran  # the job's first act, announcing its start, already found nobody to tell
