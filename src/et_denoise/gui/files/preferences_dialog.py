"""Edit > Preferences: the memory budget of whole-volume jobs, the folder of results kept on disk, the cluster."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.io.memory import format_bytes
from et_denoise.engine.volume.budget import default_budget
from et_denoise.engine.volume.storage import ResultStorage, ScratchFolder
from et_denoise.gui.settings import AppSettings
from et_denoise.gui.widgets.status_label import set_status, status_label


class PreferencesDialog(QDialog):
    """Sets the memory budget (blank: half the available memory), the scratch folder (blank: the cache) and
    the Dask scheduler (blank: this machine).

    On OK the settings are stored and ``storage`` follows them at once: the
    next job uses the new budget, the next large result the new folder.
    """

    def __init__(self, settings: AppSettings, storage: ResultStorage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.storage = storage
        self.setWindowTitle("Preferences")
        intro = QLabel("Whole-volume jobs work slab by slab within the memory budget. Results larger than "
                       "the budget allows are kept on disk in the scratch folder, shown from there, and removed "
                       "when the app closes unless saved.")
        intro.setWordWrap(True)
        self.budget = QLineEdit(settings.memory_budget_text())
        self.budget.setPlaceholderText(
            f"automatic: half the available memory (now {format_bytes(default_budget())})")
        self.budget.setToolTip("A size such as 8GB or 500MB; leave blank for the automatic budget.")
        self.scratch = QLineEdit(settings.scratch_base() or "")
        self.scratch.setPlaceholderText(str(ScratchFolder().base))
        self.scratch.setToolTip("A folder on a disk with room for a few results as float32 "
                                "(4 bytes per voxel); leave blank for your cache folder.")
        self.scheduler = QLineEdit(settings.scheduler() or "")
        self.scheduler.setPlaceholderText("this machine (or tcp://HOST:8786)")
        self.scheduler.setToolTip("A running Dask scheduler: volumes opened whole from an MRC or TIFF file are then "
                                  "denoised by its workers, which read the file and write the result into the "
                                  "scratch folder; both must be on storage the workers share. The memory budget "
                                  "is then each worker's.")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.scratch, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Memory budget", self.budget)
        form.addRow("Scratch folder", folder_row)
        form.addRow("Dask scheduler", self.scheduler)
        self.status = status_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

    def accept(self) -> None:  # Qt's name
        try:
            self.settings.set_memory_budget(self.budget.text())
        except ParameterError as error:
            set_status(self.status, f"Memory budget: {error}", error=True)
            return
        self.storage.memory = self.settings.memory_budget()
        folder = self.scratch.text().strip()
        self.settings.set_scratch_base(folder or None)
        self.storage.use_scratch_base(folder or None)
        address = self.scheduler.text().strip()
        if any(character.isspace() for character in address):
            set_status(self.status, f"Dask scheduler: an address has no spaces, such as tcp://node1:8786; got "
                                    f"{address!r}", error=True)
            return
        self.settings.set_scheduler(address)
        self.storage.scheduler = address or None
        super().accept()

    def _on_browse_clicked(self) -> None:
        start = self.scratch.text() or str(ScratchFolder().base)
        folder = QFileDialog.getExistingDirectory(self, "Scratch folder", start)
        if folder:
            self.scratch.setText(folder)
