"""Status-bar widget for the running job: title, progress bar, elapsed time and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from superqt import QElidingLabel

from et_denoise.gui.jobs.job_runner import Job, JobRunner
from et_denoise.engine.describe import format_seconds

_TICK_MS = 200
#: A background job (a live preview) still running after this long is shown too, with Cancel.
SHOW_HIDDEN_AFTER_MS = 1000
#: The estimate of the time left appears once this fraction is done.
ETA_AFTER_FRACTION = 0.03


class JobStatus(QWidget):
    """Shows the newest job of a :class:`JobRunner` while it runs, with the time left; hidden otherwise.

    Hidden jobs marked ``show_when_slow`` (live previews) are shown too once
    they have run for :data:`SHOW_HIDDEN_AFTER_MS`: no preview runs long without
    progress and Cancel.
    """

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self.title = QElidingLabel()  # a long title elides instead of squeezing the bar
        self.title.setMinimumWidth(80)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.elapsed = QLabel()
        self.elapsed.setMinimumWidth(48)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job; nothing is kept from it.")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.bar, self.elapsed, self.cancel_button):
            layout.addWidget(widget)
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._update)
        runner.job_submitted.connect(self._on_runner_job_submitted)
        self.hide()

    @property
    def current(self) -> Job | None:
        """The job shown (the newest one still running)."""
        return self._jobs[-1] if self._jobs else None

    def _on_runner_job_submitted(self, job: Job) -> None:
        if not job.visible:
            QTimer.singleShot(SHOW_HIDDEN_AFTER_MS, self, lambda: self._show_if_running(job))
            return
        self._track(job)

    def _show_if_running(self, job: Job) -> None:
        if job.show_when_slow and not job.state.done and job not in self._jobs:
            self._track(job)

    def _track(self, job: Job) -> None:
        self._jobs.append(job)
        job.progressed.connect(self._update)
        job.finished.connect(lambda: self._on_job_finished(job))
        self._timer.start()
        self.show()
        self._update()

    def _on_job_finished(self, job: Job) -> None:
        self._jobs.remove(job)
        if self._jobs:
            self._update()
        else:
            self._timer.stop()
            self.hide()

    def _on_cancel_clicked(self) -> None:
        if self.current is not None:
            self.current.cancel()
            self.title.setText(f"Cancelling {self.current.title}…")

    def _update(self) -> None:
        job = self.current
        if job is None:
            return
        if not job.token.cancelled:
            more = f" (+{len(self._jobs) - 1} more)" if len(self._jobs) > 1 else ""
            self.title.setText(f"{job.title}{more}")
        self.bar.setValue(int(job.progress * 1000))
        self.elapsed.setText(describe_time(job.running_time(), job.progress))


def describe_time(elapsed_s: float, fraction: float) -> str:
    """``"12.0 s · about 30 s left"``: the time so far, and what is left once some progress is known."""
    text = format_seconds(elapsed_s)
    if ETA_AFTER_FRACTION <= fraction < 1 and elapsed_s > 0.5:
        text += f" · about {format_seconds(elapsed_s * (1 - fraction) / fraction)} left"
    return text
