"""The StructN2V tab: train a Noise2Void / StructN2V network on the open image and denoise with it.

Three parts: the blind-spot mask editor (it hands the mask to and from the
document, where the noise analysis may suggest one), the
:class:`~gui.tabs.structn2v.training_panel.TrainingPanel` (parameters from
:class:`~engine.n2v.config.N2VParams`, Train / Stop, progress, loss plot) and
the :class:`~gui.tabs.structn2v.model_panel.ModelPanel` (load, save, export,
apply).  This class owns the model and the jobs, and derives every button from
its :class:`~gui.tabs.structn2v.training_panel.TrainingState` and the jobs
running.  Training runs in a job of the app's job runner (the network itself on
the engine's one network thread, see :mod:`engine.n2v.network_thread`).  A
trained or loaded model previews the current slice, denoises the whole image
into the results list, and can be saved, loaded and exported to bioimage.io.

TensorFlow is imported only by jobs (training, loading, the device check when
the tab is first shown), never when this module is imported.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QGroupBox, QScrollArea, QVBoxLayout, QWidget
from superqt.utils import qdebounced

from et_denoise.engine.describe import format_seconds
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v.advice import training_advice
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.estimate import estimate_training
from et_denoise.engine.n2v.speed import StepSpeed, choose_width
from et_denoise.engine.n2v.masks import same_mask
from et_denoise.engine.n2v.monitor import EventKind, StopReason, TrainingEvent
from et_denoise.gui.jobs.job_runner import Job, LatestJob
from et_denoise.gui.model import Preview, Result
from et_denoise.gui.tabs.base import Tab, TabContext
from et_denoise.gui.tabs.structn2v.model_panel import ModelPanel, method_label
from et_denoise.gui.tabs.structn2v.n2v_param_form import N2VParamForm
from et_denoise.gui.tabs.structn2v.training_panel import TrainingPanel, TrainingState
from et_denoise.gui.tabs.structn2v.training_worker import TrainingRun
from et_denoise.gui.widgets.dialogs import confirm, show_error
from et_denoise.gui.widgets.status_label import set_status

#: Key of the method: its results' ``method`` and its remembered parameters.
METHOD = "n2v"
#: Settings key of the last measured training speed (:class:`~engine.n2v.speed.StepSpeed`).
SPEED_KEY = "n2v/step_speed"
#: Wait this long after the last slice change before previewing the new slice.
PREVIEW_DELAY_MS = 150
EXPORT_FILTER = "bioimage.io model (*.zip)"


def _freeze_heap() -> None:
    """Move TensorFlow's objects out of the collector's way (see :mod:`gui.warm_up`).

    Without a collection first: a full pass over the ~300 000 objects of
    TensorFlow and Keras takes ~150 ms with the interpreter locked (measured),
    the pause this avoids; the little garbage frozen with them is never freed.
    """
    gc.freeze()


class StructN2VTab(Tab):
    """Mask, parameters, training with a live loss plot, and the model's use, load, save and export."""

    def __init__(self, context: TabContext) -> None:
        super().__init__(context)
        self.document = context.document
        self.settings = context.settings
        self.model = None  # the TrainedModel in use
        self.model_folder: str | None = None  # where it was loaded from or last saved to
        self.run: TrainingRun | None = None
        self._apply_job: Job | None = None
        self._file_job: Job | None = None
        self._device_job: Job | None = None
        self.device = ""
        self._run_batches: list[TrainingEvent] = []  # the first and the latest batch event of the run
        self._preview = LatestJob(context.jobs)
        self._preview_soon = qdebounced(self.run_preview, timeout=PREVIEW_DELAY_MS, parent=self)
        self._build_widgets()
        self.form.set_params(context.settings.method_params(METHOD, N2VParams))
        self.form.edited.connect(self._on_form_edited)
        self.form.changed.connect(self._update_estimate)
        self.mask_editor.mask_changed.connect(self._on_mask_editor_mask_changed)
        self.document.blind_spot_mask_changed.connect(self._on_document_blind_spot_mask_changed)
        self.document.image_opened.connect(self._on_document_image_opened)
        self.document.slice_changed.connect(self._on_document_slice_changed)
        self._publish_mask()
        self._update_estimate()
        self._update_state()

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        self.form = N2VParamForm()
        self.mask_editor = self.form.mask_editor
        mask_group = QGroupBox("Blind-spot mask")
        QVBoxLayout(mask_group).addWidget(self.mask_editor)
        self.training_panel = TrainingPanel(self.form)
        self.training_panel.train_requested.connect(self.train)
        self.training_panel.stop_requested.connect(self.stop)
        self.model_panel = ModelPanel()
        self.model_panel.load_requested.connect(self.choose_model_to_load)
        self.model_panel.save_requested.connect(self.choose_folder_to_save)
        self.model_panel.export_requested.connect(self.choose_export_path)
        self.model_panel.apply_requested.connect(self.apply)
        self.status = self.model_panel.status

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(mask_group)
        layout.addWidget(self.training_panel, 1)
        layout.addWidget(self.model_panel)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

    # ------------------------------------------------------------ public
    def set_active(self, active: bool) -> None:
        """Check the compute device the first time the tab is shown; preview with the model while shown."""
        super().set_active(active)
        if active:
            self.check_device()
            self.run_preview()
        else:
            self._preview_soon.cancel()
            self._preview.cancel()

    def shutdown(self) -> None:
        """Stop training, previews and the running jobs of this tab."""
        self._preview_soon.cancel()
        self._preview.cancel()
        for job in (self.run.job if self.run is not None else None, self._apply_job, self._file_job):
            if job is not None:
                job.cancel()

    @property
    def training(self) -> bool:
        """Whether a training run is under way."""
        return self.run is not None

    @property
    def training_state(self) -> TrainingState:
        """Idle, training, or training with Stop pressed."""
        if self.run is None:
            return TrainingState.IDLE
        return TrainingState.STOPPING if self.run.stopping else TrainingState.TRAINING

    def check_device(self) -> Job | None:
        """Find the compute device in the background (imports TensorFlow), once."""
        if self._device_job is not None or self.device:
            return None
        from et_denoise.engine.n2v.device import compute_device

        self.training_panel.show_device("· checking the device…")
        job = self.context.jobs.submit("Checking the compute device",
                                       lambda _progress, _cancel: compute_device(),
                                       visible=False)
        job.succeeded.connect(self._on_device_succeeded)
        job.failed.connect(self._on_device_failed)
        job.finished.connect(_freeze_heap)
        self._device_job = job
        return job

    def train(self) -> TrainingRun | None:
        """Start training on the open image; returns the run (None if nothing was started)."""
        if not self.document.has_image or self.training:
            return None
        try:
            params = choose_width(self.form.params(), self._remembered_speed())
        except ParameterError as error:
            show_error(self.window(), "StructN2V: check the parameters", str(error))
            return None
        # 2-D models show the current slice denoised after every epoch
        self._preview_z = self.document.z
        plane = self.document.current_slice() if params.ndim == 2 else None
        self.run = TrainingRun(self.context.jobs, [self.document.image.data], params, self, preview=plane)
        self.run.event_reported.connect(self._on_run_event_reported)
        self.run.job.succeeded.connect(self._on_training_succeeded)
        self.run.job.failed.connect(self._on_training_failed)
        self.run.job.cancelled.connect(self._on_training_cancelled)
        self.run.job.finished.connect(self._on_training_finished)
        self._run_batches = []
        self.training_panel.show_started(params.epochs)
        set_status(self.status, "")
        self._update_state()
        return self.run

    def stop(self) -> None:
        """End training after the current batch; the best weights so far are kept."""
        if self.run is not None:
            self.run.stop()
            self.training_panel.show_stopping()
            self._update_state()

    def run_preview(self) -> None:
        """Denoise the current slice with the model and show it against the original (in the background)."""
        self._preview_soon.cancel()
        model = self.model
        if not (self.active and model is not None and self.document.has_image) or model.params.ndim == 3 \
                or self.training:
            return
        z = self.document.z
        plane = self.document.current_slice()
        label = method_label(model.mask)

        def compute(_progress, cancel):
            start = time.perf_counter()
            data = model.predict(plane, cancel=cancel)
            return Preview(label, model.params, z, data, time.perf_counter() - start)

        self._preview.submit(f"{label} preview", compute, self._on_preview_succeeded, self._on_preview_failed)

    def apply(self) -> Job | None:
        """Denoise the whole image with the model; the result joins the results list."""
        if self.model is None or not self.document.has_image or self._apply_job is not None or self.training:
            return None
        model, image = self.model, self.document.image
        label = method_label(model.mask)
        storage = self.context.storage
        # A saved model travels to a cluster's workers as its folder; one saved nowhere stays here.
        folder = self.model_folder if storage.on_cluster(image) else None
        if storage.on_cluster(image) and folder is None:
            where = "on this machine (save the model to run it on the cluster: its workers load it from its folder)"
        else:
            where = storage.where(image)

        def run(progress, cancel):
            from et_denoise.engine.volume.jobs import model_job

            job = model_job(model, folder=folder)
            return storage.denoise(image, lambda _volume: job, cluster=folder is not None, progress=progress,
                                   cancel=cancel)

        job = self.context.jobs.submit(f"Denoising with {label}", run)
        job.succeeded.connect(lambda data: self._on_apply_succeeded(job, image, model, data))
        job.failed.connect(lambda message: self._on_job_failed(f"{label} failed", message))
        job.cancelled.connect(lambda: set_status(self.status, "Cancelled; no result was kept."))
        job.finished.connect(self._on_apply_finished)
        self._apply_job = job
        set_status(self.status, f"Denoising the whole image with {label} {where}…")
        self._update_state()
        return job

    def choose_model_to_load(self) -> Job | None:
        """Ask for a model folder and load it."""
        folder = QFileDialog.getExistingDirectory(self, "Load model folder", self.settings.last_folder("model"))
        return self.load_model(folder) if folder else None

    def load_model(self, folder: str) -> Job | None:
        """Load the model saved in ``folder`` in the background; it becomes the model in use."""
        if self._file_job is not None or self.training:
            return None
        from et_denoise.engine.n2v.model import TrainedModel

        self.settings.set_last_folder("model", str(Path(folder).parent))
        job = self._submit_file_job(f"Loading model {Path(folder).name}",
                                    lambda _p, cancel: TrainedModel.load(folder, cancel=cancel),
                                    "Cannot load the model")
        job.succeeded.connect(lambda model: self._on_model_loaded(model, folder))
        set_status(self.status, f"Loading {folder}…")
        return job

    def choose_folder_to_save(self) -> Job | None:
        """Ask for the model folder's name (a new folder, or an existing one after confirming) and save into it."""
        if self.model is None:
            return None
        start = str(Path(self.settings.last_folder("model")) / "model")
        folder, _ = QFileDialog.getSaveFileName(self, "Save model as (a folder)", start, "",
                                                options=QFileDialog.Option.DontConfirmOverwrite)
        if not folder:
            return None
        if Path(folder).is_file():
            show_error(self.window(), "Cannot save the model", f"{folder} is a file; give the name of a folder.")
            return None
        if Path(folder).is_dir() and any(Path(folder).iterdir()) and not confirm(
                self.window(), "Folder not empty",
                f"{folder} is not empty. Save the model into it anyway?\n\n"
                "Model files already there are replaced; other files are left alone."):
            return None
        return self.save_model(folder)

    def save_model(self, folder: str) -> Job | None:
        """Write the model to ``folder`` in the background."""
        if self.model is None or self._file_job is not None:
            return None
        model = self.model
        self.settings.set_last_folder("model", str(Path(folder).parent))
        job = self._submit_file_job("Saving the model",
                                    lambda _p, cancel: model.save(folder, cancel=cancel),
                                    "Cannot save the model")
        job.succeeded.connect(lambda path: self._on_model_saved(model, str(path)))
        set_status(self.status, f"Saving the model in {folder}…")
        return job

    def choose_export_path(self) -> Job | None:
        """Ask for a .zip file and export the model to bioimage.io format."""
        if self.model is None or not self.document.has_image:
            return None
        start = str(Path(self.settings.last_folder("model")) / "model.bioimage.io.zip")
        path, _ = QFileDialog.getSaveFileName(self, "Export to bioimage.io", start, EXPORT_FILTER)
        if not path:
            return None
        return self.export_model(path if path.lower().endswith(".zip") else f"{path}.zip")

    def export_model(self, path: str) -> Job | None:
        """Write a bioimage.io package of the model, tested on the current slice, in the background."""
        if self.model is None or self._file_job is not None or not self.document.has_image:
            return None
        from et_denoise.engine.n2v.export import export_bioimageio

        model, test_image = self.model, self.document.current_slice()
        name = f"ET Denoise {method_label(model.mask)}"
        job = self._submit_file_job("Exporting to bioimage.io",
                                    lambda _p, cancel: export_bioimageio(model, path, test_image, name=name,
                                                                         cancel=cancel),
                                    "Cannot export the model")
        job.succeeded.connect(lambda written: set_status(self.status, f"Exported to {written}."))
        set_status(self.status, f"Exporting to {path}…")
        return job

    # ------------------------------------------------------------ handlers: parameters and mask
    def _on_form_edited(self) -> None:
        try:
            self.settings.set_method_params(METHOD, self.form.params())
        except ParameterError:
            pass  # the training panel's summary says what is wrong; nothing invalid is remembered

    def _on_mask_editor_mask_changed(self, _mask) -> None:
        self._publish_mask()

    def _on_document_blind_spot_mask_changed(self, mask) -> None:
        if not same_mask(mask, self.mask_editor.mask()):  # not the echo of this editor's own change
            self.form.set_mask(mask)
            self._on_form_edited()

    def _publish_mask(self) -> None:
        """Hand the editor's mask to the document, unless it hides nothing (it stays in the editor until fixed)."""
        if self.mask_editor.has_hidden_neighbours():
            self.document.set_blind_spot_mask(self.mask_editor.mask())

    # ------------------------------------------------------------ handlers: training
    def _on_device_succeeded(self, device: str) -> None:
        self.device = device
        self.training_panel.show_device(f"on {device}")
        self._update_estimate()

    def _on_device_failed(self, message: str) -> None:
        self.training_panel.show_device("· device unknown (TensorFlow could not start)", message)

    def _on_run_event_reported(self, event: TrainingEvent) -> None:
        if self.run is None:
            return
        if event.kind is EventKind.BATCH:
            self._run_batches[1:] = [event]
        self.training_panel.show_event(event, counting=not (self.run.stopping or self.run.job.state.done))
        if event.kind is EventKind.EPOCH and event.preview is not None:
            label = f"{method_label(self.run.params.blind_spot_mask)} epoch {event.epoch}"
            self.document.show(Preview(label, self.run.params, self._preview_z, event.preview, 0.0))

    def _on_training_succeeded(self, model) -> None:
        self._remember_speed()
        self._use_model(model, f"Trained on {self.document.name or 'the image'}")
        elapsed = format_seconds(self.run.job.running_time()) if self.run is not None else ""
        self.training_panel.show_trained(model.history, elapsed)
        if model.history.stopped is StopReason.CANCELLED:
            set_status(self.status, "Stopped early: the best weights so far are kept.")
        advice = training_advice(model.history, model.params)
        self.training_panel.show_advice(advice)
        if advice is not None:
            self._scroll_into_sight(self.training_panel.advice)

    def _on_training_failed(self, message: str) -> None:
        self.training_panel.show_failed()
        self._on_job_failed("Training failed", message)

    def _on_training_cancelled(self) -> None:
        self.training_panel.show_cancelled()

    def _on_training_finished(self) -> None:
        self.run = None
        self._update_state()
        self.run_preview()

    # ------------------------------------------------------------ handlers: the model
    def _use_model(self, model, origin: str, folder: str | None = None) -> None:
        self.model = model
        self.model_folder = folder
        self.model_panel.show_model(model, origin)
        self._update_state()
        self.run_preview()

    def _on_model_loaded(self, model, folder: str) -> None:
        self.form.set_params(model.params)
        self._publish_mask()
        self._on_form_edited()
        self.training_panel.show_loaded(model.history)
        self._use_model(model, f"Loaded from {folder}", folder)
        set_status(self.status, "")

    def _on_model_saved(self, model, folder: str) -> None:
        """Results of this model now name its folder (their recipe)."""
        if model is self.model:
            self.model_folder = folder
        for result in self.document.results:
            if result.method == METHOD and result.params is model.params:
                result.model_folder = folder
        set_status(self.status, f"Model saved in {folder}.")

    def _submit_file_job(self, title: str, func, failure_title: str) -> Job:
        job = self.context.jobs.submit(title, func)
        job.failed.connect(lambda message: self._on_job_failed(failure_title, message))
        job.finished.connect(self._on_file_job_finished)
        self._file_job = job
        self._update_state()
        return job

    def _on_file_job_finished(self) -> None:
        self._file_job = None
        self._update_state()

    def _on_job_failed(self, title: str, message: str) -> None:
        set_status(self.status, message, error=True)
        show_error(self.window(), title, message)

    def _on_apply_succeeded(self, job: Job, image, model, data) -> None:
        if image is not self.document.image:
            return
        label = method_label(model.mask)
        self.document.add_result(Result(label, METHOD, label, model.params, data, job.elapsed_s,
                                        shown=model.shown_values(),
                                        model_folder=self.model_folder if model is self.model else None))
        set_status(self.status, f"Done in {format_seconds(job.elapsed_s)}.")

    def _on_apply_finished(self) -> None:
        self._apply_job = None
        self._update_state()

    def _on_preview_succeeded(self, preview: Preview) -> None:
        if preview.z == self.document.z:
            self.document.show(preview)

    def _on_preview_failed(self, message: str) -> None:
        set_status(self.status, f"Preview failed: {message}", error=True)

    # ------------------------------------------------------------ handlers: the document
    def _on_document_image_opened(self, _document) -> None:
        if self._apply_job is not None:
            self._apply_job.cancel()
        self.model_panel.show_image_kind(self.document.is_volume)
        self._update_estimate()
        self._update_state()
        self.run_preview()

    def _on_document_slice_changed(self, _z: int) -> None:
        if self.active and self.model is not None and (
                self.document.comparison is None or isinstance(self.document.comparison, Preview)):
            self._preview_soon()

    # ------------------------------------------------------------ helpers
    def _remembered_speed(self) -> StepSpeed | None:
        """The last speed measured on this machine's compute device, if any."""
        try:
            speed = StepSpeed.from_dict(self.settings.json_value(SPEED_KEY, {}))
        except (KeyError, TypeError, ValueError):
            return None
        return speed if not self.device or speed.device in ("", self.device) else None

    def _remember_speed(self) -> None:
        """Keep the speed of the run that just ended (from its batch events) for the next estimates."""
        speed = StepSpeed.from_events(*self._run_batches, self.run.params, self.device) if (
            self.run is not None and len(self._run_batches) == 2) else None
        if speed is not None:
            self.settings.set_json_value(SPEED_KEY, speed.as_dict())
            self._update_estimate()

    def _update_estimate(self) -> None:
        """Say how long the form's parameters train on the open image, and what a useful run needs."""
        if not self.document.has_image:
            self.training_panel.show_estimate("")
            return
        try:
            estimate = estimate_training(self.document.image.data.shape, self.form.params(), self._remembered_speed())
        except ParameterError:
            self.training_panel.show_estimate("")  # the summary above says what is wrong
        except ValueError as error:
            self.training_panel.show_estimate(f"Cannot train on this image: {error}.", warning=True)
        else:
            self.training_panel.show_estimate(estimate.headline(), estimate.describe(), warning=estimate.too_short)

    def _scroll_into_sight(self, widget: QWidget) -> None:
        """Scroll the panel (as little as needed) so that ``widget``, just laid out, is in sight."""
        self.scroll.widget().layout().activate()
        self.scroll.ensureWidgetVisible(widget, 0, 4)

    def _update_state(self) -> None:
        """Every button, from the training state, the model, the image and the jobs running."""
        state, has_image, has_model = self.training_state, self.document.has_image, self.model is not None
        idle = state is TrainingState.IDLE
        filing = self._file_job is not None
        self.training_panel.set_state(state, can_train=has_image)
        self.model_panel.set_enabled_actions(
            load=idle and not filing, save=has_model and idle and not filing,
            export=has_model and has_image and idle and not filing,
            apply=has_model and has_image and idle and self._apply_job is None)
