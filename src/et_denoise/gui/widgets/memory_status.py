"""Status-bar label: the memory the app holds now, against the budget of its volume jobs."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from et_denoise.engine.io.memory import format_bytes, process_private_memory
from et_denoise.engine.volume.storage import ResultStorage

_TICK_MS = 2000


class MemoryStatus(QLabel):
    """``Memory 1.2 GB of 9.8 GB``, refreshed every two seconds; in the error colour above the budget.

    The tooltip says what the budget is for and where results too large for
    it are kept.
    """

    def __init__(self, storage: ResultStorage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.storage = storage
        self.setObjectName("muted")
        self.setContentsMargins(0, 0, 10, 0)
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Read the memory in use and the budget now."""
        in_use, budget = process_private_memory(), self.storage.budget()
        self.setText(f"Memory {format_bytes(in_use)} of {format_bytes(budget)}")
        self.setProperty("error", in_use > budget)
        self.style().unpolish(self)
        self.style().polish(self)
        origin = "set in Edit ▸ Preferences" if self.storage.memory is not None else \
            "half the memory available now; change it in Edit ▸ Preferences"
        self.setToolTip(f"Memory this app holds now, and the budget of whole-volume jobs ({origin}).\n"
                        f"Results larger than the budget allows are kept on disk in {self.storage.scratch.base} "
                        "and removed when the app closes, unless saved.")
