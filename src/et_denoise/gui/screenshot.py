"""Screenshot mode: the sample with a finished diffusion result in split view, saved as PNG."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from et_denoise.gui.canvas.canvas import CompareMode
from et_denoise.gui.main_window import MainWindow

#: Give up (exit code 1) if the result is not there after this long.
TIMEOUT_MS = 180_000
#: The screenshot's size, whatever size the window had last time.
WINDOW_SIZE = (1440, 900)
DIFFUSION_TAB = "diffusion"


class ScreenshotScript(QObject):
    """Drives a shown window: open the sample, apply diffusion, grab the window, quit.

    Every step waits on a signal, never on a fixed delay.  ``exit_code`` is 0
    when the PNG was written.
    """

    def __init__(self, window: MainWindow, path: str) -> None:
        super().__init__(window)
        self.window = window
        self.path = path
        self.exit_code = 1
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(lambda: self._finish(1))

    def start(self) -> None:
        """Begin once the event loop runs."""
        self._timeout.start(TIMEOUT_MS)
        self.window.resize(*WINDOW_SIZE)
        self.window.document.image_opened.connect(self._on_document_image_opened)
        self.window.document.results.added.connect(self._on_results_added)
        job = self.window.opener.open_sample()
        job.failed.connect(lambda _message: self._finish(1))

    def _on_document_image_opened(self, _document) -> None:
        tab = self.window.select_tab(DIFFUSION_TAB)
        job = tab.apply()
        job.failed.connect(lambda _message: self._finish(1))
        job.cancelled.connect(lambda: self._finish(1))

    def _on_results_added(self, _result) -> None:
        self.window.canvas.set_mode(CompareMode.SPLIT)
        self.window.canvas.set_wipe_fraction(0.5)
        # Let pending events (layout, status bar) settle, then grab: grab() paints synchronously.
        QTimer.singleShot(0, self._grab)

    def _grab(self) -> None:
        QApplication.processEvents()
        saved = self.window.grab().save(self.path)
        self._finish(0 if saved else 1)

    def _finish(self, code: int) -> None:
        self._timeout.stop()
        self.exit_code = code
        self.window.document.results.clear()
        self.window.close()
        QApplication.instance().exit(code)
