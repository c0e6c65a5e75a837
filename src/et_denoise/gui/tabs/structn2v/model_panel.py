"""The StructN2V tab's model panel: which model is in use, Load / Save / Export, Apply, and the tab's status line.

The panel shows what it is told and asks for work with its signals; the tab
owns the model and the jobs that load, save, export or apply it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from et_denoise.engine.describe import choice_text
from et_denoise.gui.tabs.structn2v.training_panel import describe_training


def method_label(mask) -> str:
    """``"StructN2V"`` for a model with a blind-spot mask, ``"N2V"`` for plain Noise2Void."""
    return "N2V" if mask is None else "StructN2V"


class ModelPanel(QGroupBox):
    """The model in use and what can be done with it.

    Signals
    -------
    load_requested()
    save_requested()
    export_requested()
    apply_requested()
    """

    load_requested = Signal()
    save_requested = Signal()
    export_requested = Signal()
    apply_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Model")
        self.model_info = QLabel("No model: train one, or load a saved model folder.")
        self.model_info.setObjectName("status")
        self.model_info.setWordWrap(True)
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Open a model folder saved by ET Denoise (or its command line).")
        self.load_button.clicked.connect(self.load_requested)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Write the model to a folder, to denoise other tomograms with it later.")
        self.save_button.clicked.connect(self.save_requested)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write a bioimage.io model package (.zip) that other tools can run.")
        self.export_button.clicked.connect(self.export_requested)
        self.apply_button = QPushButton("Apply to volume")
        self.apply_button.setObjectName("primary")
        self.apply_button.setMinimumHeight(34)
        self.apply_button.setToolTip("Denoise the whole image with the model; the result joins the results list.")
        self.apply_button.clicked.connect(self.apply_requested)
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        file_buttons = QHBoxLayout()
        for button in (self.load_button, self.save_button, self.export_button):
            file_buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_info)
        layout.addLayout(file_buttons)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.status)
        for label in (self.model_info, self.status):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_enabled_actions(self, *, load: bool, save: bool, export: bool, apply: bool) -> None:
        """Enable the buttons the tab's state allows."""
        for button, enabled in ((self.load_button, load), (self.save_button, save), (self.export_button, export),
                                (self.apply_button, apply)):
            button.setEnabled(enabled)

    def show_image_kind(self, is_volume: bool) -> None:
        """"Apply to volume" for a stack, "Apply to image" for a 2-D image."""
        self.apply_button.setText("Apply to volume" if is_volume else "Apply to image")

    def show_model(self, model, origin: str) -> None:
        """Describe the model in use: where it comes from, its mask, mode, epochs and best validation loss."""
        history = model.history
        best = min((v for v in history.val_loss if v is not None), default=None)
        mask = model.shown_values().get("mask", model.params.mask) if model.mask is not None else "none"
        parts = [f"{method_label(model.mask)} · mask {mask}",  # by preset or shape, never a mask file's path
                 f"{choice_text(model.params.mode)} · {len(history.loss)} epochs"]
        if best is not None:
            parts.append(f"best validation loss {best:.4g}")
        self.model_info.setText(f"{origin}.\n" + " · ".join(parts))
        self.model_info.setToolTip(describe_training(model.params))
