"""The StructN2V tab's training panel: the parameters (collapsed to a one-line summary), Train and Stop,
the progress bar with the time left, the expected time before a run, the advice after a short one, and the
live loss plot.

The panel shows what it is told (:meth:`TrainingPanel.set_state` and the
``show_*`` methods) and asks for training with its signals; the tab owns the
training run.  The summary follows the form's ``changed`` signal: user edits
and values set by the program (a loaded model, the document's mask) alike.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout
from superqt import QCollapsible

from et_denoise.engine.describe import choice_text, describe_params, format_seconds
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.monitor import History, StopReason, TrainingEvent
from et_denoise.gui.tabs.structn2v.loss_plot import LossPlot
from et_denoise.gui.tabs.structn2v.n2v_param_form import N2VParamForm
from et_denoise.gui.widgets.status_label import set_status, status_label

DESCRIPTION = ("Noise2Void (Krull et al. 2019) hides pixels and learns to predict them from their "
               "neighbours. StructN2V (Broaddus et al. 2020) also hides the neighbours that correlated "
               "noise ties to each blind spot: tomogram noise is correlated along X.")
#: Milliseconds the parameter section takes to open or close.
SECTION_ANIMATION_MS = 150


class TrainingState(enum.Enum):
    """Where training is: what Train and Stop allow."""

    IDLE = "idle"
    TRAINING = "training"
    STOPPING = "stopping"


def describe_training(params: N2VParams) -> str:
    """One line with the parameters that matter most, for the collapsed parameter section."""
    steps = params.steps_per_epoch or "auto"
    budget = f" · at most {params.minutes:g} min" if params.minutes else ""
    epochs = f"{params.epochs} epoch{'s' if params.epochs != 1 else ''}"
    return f"{choice_text(params.mode)} · patch {params.patch_size} · {epochs} × {steps} steps{budget}"


class TrainingPanel(QGroupBox):
    """Parameters, Train / Stop, progress and loss plot of one training at a time.

    Signals
    -------
    train_requested()
    stop_requested()
    """

    train_requested = Signal()
    stop_requested = Signal()

    def __init__(self, form: N2VParamForm) -> None:
        super().__init__("Training")
        self.setToolTip(DESCRIPTION)
        self.form = form
        self.params_section = QCollapsible("Parameters", expandedIcon="▾", collapsedIcon="▸")
        self.params_section.setDuration(SECTION_ANIMATION_MS)
        self.params_section.layout().setContentsMargins(0, 0, 0, 0)
        self.params_section.setToolTip("Show or hide every training parameter.")
        self.params_section.addWidget(form)
        self.params_section.toggled.connect(self._on_params_section_toggled)
        self.params_summary = QLabel()
        self.params_summary.setObjectName("muted")
        self.params_summary.setWordWrap(True)
        self.params_summary.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.params_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.changed.connect(self._on_form_changed)
        self._on_form_changed()
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.train_button.setMinimumHeight(28)
        self.train_button.setToolTip("Train a network on the open image with these parameters, in the background.")
        self.train_button.clicked.connect(self.train_requested)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setMinimumHeight(28)
        self.stop_button.setToolTip("End training after the current batch and keep the best weights so far.")
        self.stop_button.clicked.connect(self.stop_requested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not trained yet")
        self.progress.setMinimumHeight(24)
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.estimate = status_label()
        self.advice = status_label()
        self.advice.setToolTip("Why the last run is likely under-trained, and what to change.")
        self.advice.hide()
        self.loss_plot = LossPlot()
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.params_section)
        layout.addWidget(self.params_summary)
        layout.addLayout(buttons)
        layout.addWidget(self.estimate)
        layout.addWidget(self.advice)
        layout.addWidget(self.loss_plot, 1)

    # ------------------------------------------------------------ state
    def set_state(self, state: TrainingState, *, can_train: bool) -> None:
        """Enable Train (when idle and ``can_train``) and Stop (while training, until pressed)."""
        self.train_button.setEnabled(can_train and state is TrainingState.IDLE)
        self.stop_button.setEnabled(state is TrainingState.TRAINING)

    def show_device(self, text: str, tooltip: str = "") -> None:
        """Name the compute device in the title, such as ``"on CPU"``."""
        self.setTitle(f"Training {text}")
        if tooltip:
            self.setToolTip(tooltip)

    # ------------------------------------------------------------ progress
    def show_started(self, epochs: int) -> None:
        """A run of ``epochs`` epochs is starting."""
        self.loss_plot.start(epochs)
        self.show_advice(None)
        self._show_bar(0, "Preparing…", "Cutting training patches and building the network.")

    def show_event(self, event: TrainingEvent, *, counting: bool) -> None:
        """Plot ``event``; move the progress bar too while ``counting`` (not once Stop was pressed)."""
        self.loss_plot.add_event(event)
        if not counting:
            return
        left = "" if event.fraction >= 1 else f" · {format_seconds(event.eta_s)} left"
        self._show_bar(int(event.fraction * 1000),
                       f"Epoch {event.epoch}/{event.epochs} · {event.batch}/{event.steps}{left}",
                       f"Epoch {event.epoch} of {event.epochs}, batch {event.batch} of {event.steps}; "
                       f"{format_seconds(event.elapsed_s)} so far{left.replace(' · ', ', about ')}.")

    def show_stopping(self) -> None:
        """Stop was pressed."""
        self.progress.setFormat("Stopping…")
        self.progress.setToolTip("Training ends after this batch and a last validation.")

    def show_trained(self, history: History, elapsed: str) -> None:
        """Training ended with a model (all epochs, or stopped early)."""
        epochs = len(history.loss)
        stopped = history.stopped is StopReason.CANCELLED
        epochs_text = f"{epochs} epoch{'s' if epochs != 1 else ''}"
        value = self.progress.value() if stopped else 1000
        if stopped:
            text = f"Stopped after {epochs_text} · {elapsed}"
        elif history.stopped is StopReason.TIME_BUDGET:
            text = f"Time budget reached after {epochs_text} · {elapsed}"
        else:
            text = f"Trained {epochs_text} · {elapsed}"
        self._show_bar(value, text, "")

    def show_estimate(self, text: str, details: str = "", *, warning: bool = False) -> None:
        """Say before a run how long it will take (:class:`~engine.n2v.estimate.TrainingEstimate`), ``details`` on hover."""
        set_status(self.estimate, text, error=warning)
        self.estimate.setToolTip(details)

    def show_advice(self, advice: str | None) -> None:
        """Show ``advice`` (:func:`~engine.n2v.advice.training_advice`) as a warning under Train; None hides it."""
        set_status(self.advice, advice or "", error=True)
        self.advice.setVisible(advice is not None)

    def show_failed(self) -> None:
        self._show_bar(0, "Training failed", self.progress.toolTip())

    def show_cancelled(self) -> None:
        self._show_bar(0, "Cancelled", "Training was cancelled; no model was kept.")

    def show_loaded(self, history: History) -> None:
        """A saved model was loaded: its recorded losses."""
        self.loss_plot.show_history(history)
        self._show_bar(0, "Loaded model", self.progress.toolTip())

    # ------------------------------------------------------------ helpers
    def _show_bar(self, value: int, text: str, tooltip: str) -> None:
        self.progress.setValue(value)
        self.progress.setFormat(text)
        self.progress.setToolTip(tooltip)

    def _on_form_changed(self) -> None:
        """The one-line summary of the form's parameters, or why they are invalid."""
        try:
            params = self.form.params()
        except ParameterError as error:
            set_status(self.params_summary, str(error), error=True)
            return
        set_status(self.params_summary, describe_training(params))
        self.params_summary.setToolTip(describe_params(params).replace(" · ", "\n"))

    def _on_params_section_toggled(self, shown: bool) -> None:
        self.params_summary.setVisible(not shown)
