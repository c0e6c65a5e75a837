"""One tab class for every classic filter, built from its :class:`~engine.methods.Method`.

The parameter widgets come from the method's params dataclass; a live preview
re-runs on the current slice (debounced) whenever a parameter, the slice or the
image changes, and "Apply to volume" runs the method on the whole image in the
background and adds the outcome to the document's results.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)
from superqt.utils import qdebounced

from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS
from et_denoise.engine.errors import ParameterError
from et_denoise.gui.tabs.filters.autotune_button import AutoTune
from et_denoise.gui.widgets.dialogs import show_error
from et_denoise.gui.jobs.job_runner import Job, LatestJob
from et_denoise.engine.describe import format_seconds
from et_denoise.gui.model import Preview, Result, describe_region
from et_denoise.gui.widgets.param_form import ParamForm
from et_denoise.gui.widgets.status_label import set_status, status_label
from et_denoise.gui.widgets.vertical_scroll import VerticalScroll
from et_denoise.gui.tabs.base import Tab, TabContext

#: Wait this long after the last parameter change before computing a preview.
PREVIEW_DELAY_MS = 200
#: A 3-D preview is computed on this many slices either side of the current one.
SLAB_RADIUS = 3


class FilterTab(Tab):
    """Parameters, live preview and "Apply to volume" for one method."""

    def __init__(self, method, context: TabContext) -> None:
        super().__init__(context)
        self.method = method
        self.document = context.document
        self._preview = LatestJob(context.jobs)
        self._apply_job: Job | None = None
        self._preview_soon = qdebounced(self.run_preview, timeout=PREVIEW_DELAY_MS, parent=self)
        self._build_widgets()
        self.form.set_params(context.settings.method_params(method.name, method.params_type))
        self.form.edited.connect(self._on_form_edited)
        self.document.image_opened.connect(self._on_document_image_opened)
        self.document.slice_changed.connect(self._on_document_slice_changed)
        self.document.view.changed.connect(self._on_document_view_changed)
        self._on_document_image_opened(self.document)

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        description = QLabel(self.method.description)
        description.setWordWrap(True)
        description.setObjectName("description")

        self.form = ParamForm(self.method.params_type)
        group = QGroupBox("Parameters")
        group_layout = QVBoxLayout(group)
        group_layout.addWidget(self.form)
        reset = QPushButton("Reset to defaults")
        reset.setToolTip("Put every parameter back to the value that suits most tomograms.")
        reset.clicked.connect(self._on_reset_clicked)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(reset)
        group_layout.addLayout(reset_row)
        if self.method.name in DEFAULT_GRIDS:
            self.auto_tune = AutoTune(self.method, self.context, self.form)
            reset_row.insertWidget(0, self.auto_tune.button)
            group_layout.addWidget(self.auto_tune)

        self.live_preview = QCheckBox("Live preview on this slice")
        self.live_preview.setChecked(True)
        self.live_preview.setToolTip("Re-run the method on the current slice whenever a parameter "
                                     "or the slice changes, and show it against the original.")
        self.live_preview.toggled.connect(self._on_live_preview_toggled)
        self.preview_status = status_label()

        self.apply_button = QPushButton("Apply to volume")
        self.apply_button.setObjectName("primary")
        self.apply_button.setMinimumHeight(34)
        self.apply_button.setToolTip("Run the method on every slice in the background; "
                                     "the result is added to the results list.")
        self.apply_button.clicked.connect(self.apply)
        self.apply_status = status_label()

        # The parameters scroll on a short screen; Apply and its status stay in sight.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(description)
        body_layout.addWidget(group)
        body_layout.addWidget(self.live_preview)
        body_layout.addWidget(self.preview_status)
        body_layout.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(VerticalScroll(body), 1)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.apply_status)
        for label in (description, self.preview_status, self.apply_status):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    # ------------------------------------------------------------ public
    def set_active(self, active: bool) -> None:
        """Preview when shown; stop previewing when hidden."""
        super().set_active(active)
        if active:
            self.run_preview()
        else:
            self._preview_soon.cancel()
            self._preview.cancel()

    def shutdown(self) -> None:
        """Stop the preview timer and jobs."""
        self._preview_soon.cancel()
        self._preview.cancel()
        if self._apply_job is not None:
            self._apply_job.cancel()

    def request_preview(self) -> None:
        """Preview soon (debounced), if this tab is shown and live preview is on."""
        if self.active and self.live_preview.isChecked() and self.document.has_image:
            self._preview_soon()

    def run_preview(self) -> None:
        """Compute the preview of the current slice now, in the background."""
        self._preview_soon.cancel()
        if not (self.active and self.live_preview.isChecked() and self.document.has_image):
            return
        try:
            params = self.form.params()
        except ParameterError as error:
            set_status(self.preview_status, str(error), error=True)
            return
        z = self.document.z
        method = self.method
        region = None  # the part of the slice computed, None for all of it
        if getattr(params, "mode", "2d") == "3d" and self.document.is_volume:
            # A 3-D method previews on a small block of slices around this one (a slow one on a part of
            # them around the cursor, the original elsewhere): fast, and said so.
            planes, centre = self.document.slab(SLAB_RADIUS)
            block = (z - centre, z - centre + len(planes) - 1)
            region = method.preview_window(planes.shape[1:], self.document.view.cursor[1:])
            if region is not None:
                planes = planes[(slice(None),) + region]
            computing = (f"Computing the 3-D preview on slices {block[0] + 1}–{block[1] + 1}"
                         f"{describe_region(region)} only…")
        else:
            planes, centre, block = self.document.current_slice(), None, None
            computing = "Computing preview…"
        original = self.document.current_slice()

        def compute(progress, cancel):
            start = time.perf_counter()
            filtered = method.apply(planes, params, progress=progress, cancel=cancel)
            data = filtered if centre is None else filtered[centre]
            if region is not None:
                data, part = np.array(original, dtype=np.float32), data
                data[region] = part
            return Preview(method.label, params, z, data, time.perf_counter() - start, block, region)

        set_status(self.preview_status, computing)
        self._preview.submit(f"{method.label} preview", compute,
                             self._on_preview_succeeded, self._on_preview_failed)

    def apply(self) -> Job | None:
        """Run the method on the whole image; returns the job (None if nothing to do)."""
        if not self.document.has_image or self._apply_job is not None:
            return None
        try:
            params = self.form.params()
        except ParameterError as error:
            show_error(self.window(), self.method.label, str(error))
            return None
        image = self.document.image
        method = self.method
        storage = self.context.storage

        def run(progress, cancel):
            from et_denoise.engine.volume.jobs import method_job

            return storage.denoise(image, lambda volume: method_job(method, params, volume, cancel=cancel),
                                   progress=progress, cancel=cancel)

        job = self.context.jobs.submit(method.label, run)
        job.succeeded.connect(lambda data: self._on_apply_succeeded(job, image, params, data))
        job.failed.connect(self._on_apply_failed)
        job.cancelled.connect(self._on_apply_cancelled)
        job.finished.connect(self._on_apply_finished)
        self._apply_job = job
        self.apply_button.setEnabled(False)
        set_status(self.apply_status, f"Running {method.label.lower()} on the whole image {storage.where(image)}…")
        return job

    @property
    def apply_job(self) -> Job | None:
        """The running "Apply" job, if any."""
        return self._apply_job

    # ------------------------------------------------------------ handlers
    def _on_form_edited(self) -> None:
        try:
            self.context.settings.set_method_params(self.method.name, self.form.params())
        except ParameterError as error:
            set_status(self.preview_status, str(error), error=True)
            return
        self.request_preview()

    def _on_reset_clicked(self) -> None:
        self.form.set_params(self.method.params_type())
        self._on_form_edited()

    def _on_live_preview_toggled(self, checked: bool) -> None:
        if checked:
            self.run_preview()
        else:
            self._preview.cancel()
            set_status(self.preview_status, "")
            if isinstance(self.document.comparison, Preview):
                self.document.show(None)

    def _on_document_image_opened(self, document) -> None:
        if self._apply_job is not None:
            self._apply_job.cancel()
        volume = document.is_volume or not document.has_image
        self.apply_button.setText("Apply to volume" if volume else "Apply to image")
        self.apply_button.setEnabled(document.has_image and self._apply_job is None)
        set_status(self.apply_status, "")
        if "mode" in self.form.values():
            mode = self.form.editor("mode")
            mode.setEnabled(volume)
            mode.setToolTip(self.form.editor("mode").toolTip() if volume else
                            "A 2-D image is always filtered in 2-D.")
            if not volume:
                self.form.set_params(self.form.params().replace(mode="2d"))
        self.run_preview()

    def _on_document_slice_changed(self, _z: int) -> None:
        if isinstance(self.document.comparison, Preview) or self.document.comparison is None:
            self.request_preview()

    def _on_document_view_changed(self, _view) -> None:
        shown = self.document.comparison
        if isinstance(shown, Preview) and shown.region is not None:  # the cursor moved: preview around it
            self.request_preview()

    def _on_preview_succeeded(self, preview: Preview) -> None:
        if preview.z != self.document.z:
            set_status(self.preview_status, "")  # never a stale "Computing preview…"
            return
        self.document.show(preview)
        set_status(self.preview_status, preview.summary())

    def _on_preview_failed(self, message: str) -> None:
        set_status(self.preview_status, f"Preview failed: {message}", error=True)

    def _on_apply_succeeded(self, job: Job, image, params, data) -> None:
        if image is not self.document.image:
            return
        self.document.add_result(Result(self.method.label, self.method.name, self.method.label,
                                        params, data, job.elapsed_s))
        set_status(self.apply_status, f"Done in {format_seconds(job.elapsed_s)}.")

    def _on_apply_failed(self, message: str) -> None:
        set_status(self.apply_status, "Failed.", error=True)
        show_error(self.window(), f"{self.method.label} failed", message)

    def _on_apply_cancelled(self) -> None:
        set_status(self.apply_status, "Cancelled; no result was kept.")

    def _on_apply_finished(self) -> None:
        self._apply_job = None
        self.apply_button.setEnabled(self.document.has_image)
