"""The "Auto" button of a classic filter tab: parameters chosen from the noisy image alone.

It runs :func:`engine.analysis.autotune.autotune` in the background (Stein's
unbiased risk estimate with the noise's covariance over the blind-spot mask
its autocorrelation suggests), on the central region of the image, then puts the
chosen values into the tab's parameter form as if the user had typed them, so
the live preview follows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtWidgets import QDoubleSpinBox, QPushButton, QVBoxLayout, QWidget

from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS, autotune, default_grid
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.analysis.mask_suggestion import render_mask
from et_denoise.engine.methods import Method
from et_denoise.gui.jobs.job_runner import Job
from et_denoise.engine.describe import describe_params, format_seconds
from et_denoise.gui.widgets.param_form import ParamForm
from et_denoise.gui.widgets.status_label import set_status, status_label
from et_denoise.gui.tabs.base import TabContext


def describe_mask(mask: np.ndarray) -> str:
    """``"a horizontal line of 9 px"``, ``"a single pixel"``, ``"a 3×5 px shape"``: a blind-spot mask in words."""
    mask = np.asarray(mask)
    if mask.size == 1:
        return "a single pixel"
    if mask.all() and mask.ndim == 2 and 1 in mask.shape:
        direction = "horizontal" if mask.shape[0] == 1 else "vertical"
        return f"a {direction} line of {mask.size} px"
    return "a " + "×".join(str(side) for side in mask.shape) + " px shape"


def _labels(params_type) -> dict:
    """Each parameter's label (its name where it has none)."""
    return {item.name: item.metadata.get("label", item.name) for item in dataclasses.fields(params_type)}


class AutoTune(QWidget):
    """A status line saying what "Auto" chose; :attr:`button` goes next to the form's other buttons.

    Parameters
    ----------
    method : Method
        A method with a default search grid (``engine.autotune.DEFAULT_GRIDS``).
    context : TabContext
        The tab's document and job runner.
    form : ParamForm
        The tab's parameters: read for the values not searched, written with
        the choice (then its ``edited`` signal is emitted).
    """

    def __init__(self, method: Method, context: TabContext, form: ParamForm,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method = method
        self.context = context
        self.form = form
        self.document = context.document
        self._job: Job | None = None
        labels = _labels(method.params_type)
        grid = DEFAULT_GRIDS[method.name]
        self._grid = grid
        modes = ("; the mode on a stack only, where its 3-D scores take about 2 minutes on 2 cores"
                 if "mode" in grid else "")
        self.button = QPushButton("Auto")
        self.button.setToolTip(
            f"Choose {' and '.join(labels[name] for name in grid)} from the noisy image "
            f"alone (seconds, on the central region{modes}): each setting is scored by its estimated error "
            "against the clean image (Stein's unbiased risk estimate), with the noise's covariance measured "
            "over the neighbours whose noise is correlated (the blind-spot mask suggested by the noise's "
            "autocorrelation).")
        self.button.clicked.connect(self._on_button_clicked)
        self.status = status_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        self.document.image_opened.connect(self._on_document_image_opened)
        self._update_button()

    @property
    def job(self) -> Job | None:
        """The running calibration, if any."""
        return self._job

    def run(self) -> Job | None:
        """Start choosing the parameters in the background; returns the job (None if it cannot start)."""
        if self._job is not None or not self.document.has_image:
            return None
        try:
            base = self.form.params()
        except ParameterError as error:
            set_status(self.status, str(error), error=True)
            return None
        method, image = self.method, self.document.image
        data = image.data
        self._grid = default_grid(method, data)
        job = self.context.jobs.submit(
            f"Auto {method.label.lower()}",
            lambda progress, cancel: autotune(method, data, base=base, progress=progress, cancel=cancel))
        job.succeeded.connect(lambda result: self._on_job_succeeded(job, image, result))
        job.failed.connect(lambda message: set_status(self.status, f"Auto failed: {message}", error=True))
        job.cancelled.connect(lambda: set_status(self.status, "Auto stopped; the parameters were not changed."))
        job.finished.connect(self._on_job_finished)
        self._job = job
        settings = int(np.prod([len(values) for values in self._grid.values()]))
        set_status(self.status, f"Scoring {settings} settings on the central region…")
        self._update_button()
        return job

    # ------------------------------------------------------------ handlers
    def _on_button_clicked(self) -> None:
        if self._job is None:
            self.run()
        else:
            self._job.cancel()

    def _on_job_succeeded(self, job: Job, image, result) -> None:
        if image is not self.document.image:
            return
        self._show_exactly(result.params)
        self.form.set_params(result.params)
        self.form.edited.emit()
        chosen = describe_params(result.params, names=list(self._grid))
        set_status(self.status, f"Auto chose {chosen}: the lowest estimated error of {len(result.scores)} "
                   f"settings, noise correlated over blind-spot mask {describe_mask(result.mask)} "
                   f"({format_seconds(job.elapsed_s)}).")
        self.status.setToolTip("Blind-spot mask used (O a pixel, # the neighbours whose noise was taken as "
                               "correlated with it):"
                               f"<pre>{render_mask(result.mask)}</pre>")

    def _show_exactly(self, params) -> None:
        """Give decimal spin boxes enough decimals for the chosen values (h 0.65 where the step is 0.1)."""
        for name in self._grid:
            editor, value = self.form.editor(name), getattr(params, name)
            if isinstance(editor, QDoubleSpinBox):
                editor.setDecimals(max(editor.decimals(), len(f"{value:.6g}".partition(".")[2])))

    def _on_job_finished(self) -> None:
        self._job = None
        self._update_button()

    def _on_document_image_opened(self, _document) -> None:
        if self._job is not None:
            self._job.cancel()
        set_status(self.status, "")
        self._update_button()

    def _update_button(self) -> None:
        self.button.setText("Stop" if self._job is not None else "Auto")
        self.button.setEnabled(self.document.has_image)
