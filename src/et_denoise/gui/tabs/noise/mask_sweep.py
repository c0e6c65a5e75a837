"""Mask sweep panel: train StructN2V once per blind-spot mask size and compare the results.

The user picks a mask shape, the sizes and a short training length; the sweep
(:func:`~engine.n2v.mask_sweep.train_mask_sweep`) runs in one background job
and each denoised image joins the results as soon as its model is done
("StructN2V cross:9").  Cancelling keeps the finished ones and never adds a
half-trained result.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.mask_sweep import SHAPES, SweepTraining, mask_sweep_params, train_mask_sweep
from et_denoise.gui.widgets.dialogs import show_error
from et_denoise.gui.jobs.job_runner import Job
from et_denoise.engine.describe import format_seconds
from et_denoise.gui.model import Result
from et_denoise.gui.widgets.param_form import ParamForm
from et_denoise.gui.widgets.status_label import set_status, status_label
from et_denoise.gui.tabs.base import TabContext

SIZES = (3, 5, 7, 9, 11, 13, 15, 17, 19, 21)
DEFAULT_SIZES = (5, 9, 13)
SETTINGS_KEY = "mask_sweep"
CHIP_STYLE = ("QPushButton#chip { padding: 3px 0px; font-size: 8pt; }"
              "QPushButton#chip:checked { background: #2f4b66; border-color: #4da0e8; color: white; }")


class _Courier(QObject):
    """Carries finished models from the worker thread to the GUI thread (a queued signal)."""

    delivered = Signal(object)


class MaskSweepPanel(QGroupBox):
    """Shape, sizes and training length of a sweep, its Train/Stop button and progress."""

    def __init__(self, context: TabContext, parent: QWidget | None = None) -> None:
        super().__init__("Mask sweep: compare StructN2V mask sizes", parent)
        self.context = context
        self.document = context.document
        self._job: Job | None = None
        self._courier = _Courier(self)
        self._courier.delivered.connect(self._on_courier_delivered)
        self._build_widgets()
        self.form.set_params(context.settings.method_params(SETTINGS_KEY, SweepTraining))
        self.form.edited.connect(self._on_form_edited)
        self.document.image_opened.connect(self._on_document_image_opened)
        self._update_button()

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        intro = QLabel("Train a short StructN2V run for each mask size; each result joins the results "
                       "list (e.g. “StructN2V cross:9”) to compare by eye.")
        intro.setObjectName("description")
        intro.setWordWrap(True)
        self.shape = QComboBox()
        for shape in SHAPES:
            self.shape.addItem(shape, shape)
        self.shape.setToolTip("Shape of every mask of the sweep: a line along X (tomogram noise), "
                              "along Y, a plus sign or a square.")
        self.sizes = QButtonGroup(self)
        self.sizes.setExclusive(False)
        sizes_row = QHBoxLayout()
        sizes_row.setSpacing(2)
        for size in SIZES:
            button = QPushButton(str(size))
            button.setCheckable(True)
            button.setChecked(size in DEFAULT_SIZES)
            button.setObjectName("chip")
            button.setMinimumWidth(22)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"Train a model with a mask {size} px long")
            self.sizes.addButton(button, size)
            sizes_row.addWidget(button)
        self.sizes.buttonToggled.connect(lambda *_: self._update_button())
        choice = QFormLayout()
        choice.setContentsMargins(0, 0, 0, 0)
        choice.addRow("Shape", self.shape)
        sizes_label = QLabel("Mask sizes (px), one model each:")
        self.form = ParamForm(SweepTraining)
        self.start_button = QPushButton()
        self.start_button.setMinimumHeight(30)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = status_label()
        self.setStyleSheet(CHIP_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(choice)
        layout.addWidget(sizes_label)
        layout.addLayout(sizes_row)
        layout.addWidget(self.form)
        layout.addWidget(self.start_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    # ------------------------------------------------------------ public
    @property
    def job(self) -> Job | None:
        """The running sweep, if any."""
        return self._job

    def chosen_sizes(self) -> list[int]:
        """The checked sizes, smallest first."""
        return sorted(self.sizes.id(button) for button in self.sizes.buttons() if button.isChecked())

    def set_choice(self, shape: str, sizes: Sequence[int]) -> None:
        """Select a shape and exactly these sizes."""
        self.shape.setCurrentIndex(max(self.shape.findData(shape), 0))
        for button in self.sizes.buttons():
            button.setChecked(self.sizes.id(button) in sizes)

    def run_params(self) -> list[N2VParams]:
        """The training parameters of each model of the sweep (raises ParameterError if invalid)."""
        return mask_sweep_params(self.shape.currentData(), self.chosen_sizes(), self.form.params())

    def start(self) -> Job | None:
        """Start the sweep in the background; returns its job (None if it cannot start)."""
        if self._job is not None or not self.document.has_image:
            return None
        try:
            runs = self.run_params()
        except ParameterError as error:
            show_error(self.window(), "Mask sweep", str(error))
            return None
        if not runs:
            return None
        image = self.document.image
        courier = self._courier
        data = image.data

        def sweep(progress, cancel):
            return train_mask_sweep(data, runs, on_model=lambda model: courier.delivered.emit((image, model)),
                                    progress=progress, cancel=cancel)

        job = self.context.jobs.submit(f"Mask sweep ({len(runs)} models)", sweep)
        job.progressed.connect(lambda fraction: self._on_job_progressed(runs, fraction))
        job.succeeded.connect(lambda count: self._set_status(f"Done: {count} models in "
                                                             f"{format_seconds(job.elapsed_s)}."))
        job.failed.connect(self._on_job_failed)
        job.cancelled.connect(lambda: self._set_status("Stopped; the models finished before were kept."))
        job.finished.connect(self._on_job_finished)
        self._job = job
        self.progress.setValue(0)
        self.progress.show()
        self._set_status(f"Model 1 of {len(runs)} ({runs[0].mask})…")
        self._update_button()
        return job

    def stop(self) -> None:
        """Cancel the running sweep (finished models stay in the results)."""
        if self._job is not None:
            self._job.cancel()
            self._set_status("Stopping…")

    # ------------------------------------------------------------ handlers
    def _on_start_clicked(self) -> None:
        if self._job is None:
            self.start()
        else:
            self.stop()

    def _on_form_edited(self) -> None:
        try:
            self.context.settings.set_method_params(SETTINGS_KEY, self.form.params())
        except ParameterError as error:
            self._set_status(str(error), error=True)

    def _on_courier_delivered(self, delivery) -> None:
        image, model = delivery
        if image is not self.document.image:
            return
        self.document.add_result(Result(f"StructN2V {model.spec}", "n2v", "StructN2V", model.params,
                                        model.data, model.elapsed_s))

    def _on_job_progressed(self, runs: list, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        if self._job is not None and not self._job.token.cancelled and fraction < 1:
            index = min(int(fraction * len(runs)), len(runs) - 1)
            self._set_status(f"Model {index + 1} of {len(runs)} ({runs[index].mask})…")

    def _on_job_failed(self, message: str) -> None:
        self._set_status("Failed; the models finished before were kept.", error=True)
        show_error(self.window(), "Mask sweep failed", message)

    def _on_job_finished(self) -> None:
        self._job = None
        self.progress.hide()
        self._update_button()

    def _on_document_image_opened(self, _document) -> None:
        self.stop()
        self._set_status("")
        self._update_button()

    def _update_button(self) -> None:
        count = len(self.chosen_sizes())
        if self._job is not None:
            self.start_button.setText("Stop sweep")
            self.start_button.setObjectName("")
            self.start_button.setEnabled(True)
        else:
            self.start_button.setText(f"Train {count} model{'s' if count != 1 else ''}")
            self.start_button.setObjectName("primary")
            self.start_button.setEnabled(self.document.has_image and count > 0)
        self.start_button.setToolTip("Stop after the current batch; finished models are kept." if self._job else
                                     "Train one StructN2V model per size, one after the other, in the background.")
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        set_status(self.status, text, error=error)
