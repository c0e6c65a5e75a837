"""Screenshot mode: an image with a finished result, one tab shown, the window saved as PNG.

``et-denoise --sample --screenshot FILE.png --size 1024x700 --tab median``
opens the sample (or a file), applies the tab's filter (anisotropic diffusion
for tabs that are not filters), shows the tab at exactly the size asked for,
saves the window and exits.  The exit code is 1 when the window had to grow
beyond that size: its content needs more room than a small screen has.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from et_denoise.gui.canvas.canvas import CompareMode
from et_denoise.gui.main_window import MainWindow
from et_denoise.gui.tabs.filters.filter_tab import FilterTab

#: Give up (exit code 1) if the result is not there after this long.
TIMEOUT_MS = 180_000
#: The screenshot's size, whatever size the window had last time.
WINDOW_SIZE = (1440, 900)
DIFFUSION_TAB = "diffusion"
#: How often the screenshot looks whether the jobs the shown tab started (metrics, a preview) have ended.
_SETTLE_POLL_MS = 100


def parse_size(text: str) -> tuple[int, int]:
    """``"1024x700"`` as ``(1024, 700)``; ValueError with a one-line message otherwise."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size takes WIDTHxHEIGHT in pixels, such as 1024x700, not {text!r}") from None
    if width < 200 or height < 200:
        raise ValueError(f"--size {text} is too small: at least 200x200")
    return width, height


class ScreenshotScript(QObject):
    """Drives a shown window: open the image, apply a filter, show ``tab``, grab the window, quit.

    Every step waits on a signal, never on a fixed delay.  ``exit_code`` is 0
    when the PNG was written and the window kept ``size``.
    """

    def __init__(self, window: MainWindow, path: str, *, size: tuple[int, int] = WINDOW_SIZE,
                 tab: str = DIFFUSION_TAB, image_path: str | None = None) -> None:
        super().__init__(window)
        if tab not in window.tab_keys:
            raise ValueError(f"unknown tab {tab!r}: choose one of {', '.join(window.tab_keys)}")
        self.window = window
        self.path = path
        self.size = tuple(size)
        self.tab_key = tab
        self.image_path = image_path
        self.exit_code = 1
        self.message = ""
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(lambda: self._fail("no result after 180 s"))

    def start(self) -> None:
        """Begin once the event loop runs."""
        self._timeout.start(TIMEOUT_MS)
        self.window.resize(*self.size)
        self.window.document.image_opened.connect(self._on_document_image_opened)
        self.window.document.results.added.connect(self._on_results_added)
        if self.image_path is None:
            job = self.window.opener.open_sample()
        else:
            path = os.path.abspath(self.image_path)
            job = self.window.jobs.submit(f"Opening {os.path.basename(path)}", lambda _p, _c: _read(path))
            job.succeeded.connect(lambda image: self.window.document.open_image(image, os.path.basename(path)))
        job.failed.connect(lambda message: self._fail(f"could not open the image: {message}"))

    def _on_document_image_opened(self, _document) -> None:
        tab = self.window.tab(self.tab_key)
        is_filter = isinstance(tab, FilterTab)
        job = self.window.select_tab(self.tab_key if is_filter else DIFFUSION_TAB).apply()
        job.failed.connect(lambda message: self._fail(f"the filter failed: {message}"))
        job.cancelled.connect(lambda: self._fail("the filter was cancelled"))

    def _on_results_added(self, _result) -> None:
        self.window.select_tab(self.tab_key)
        if self.window.central_stack.currentWidget() is self.window.canvas:
            self.window.canvas.set_mode(CompareMode.SPLIT)
            self.window.canvas.set_wipe_fraction(0.5)
        # Let pending events (layout, status bar) settle, then grab: grab() paints synchronously.
        QTimer.singleShot(0, self._grab)

    def _grab(self) -> None:
        QApplication.processEvents()
        warm_up = getattr(self.window, "warm_up_job", None)
        if any(job is not warm_up for job in self.window.jobs.active_jobs()):
            QTimer.singleShot(_SETTLE_POLL_MS, self._grab)  # the tab is still measuring: show its numbers
            return
        saved = self.window.grab().save(self.path)
        grown = self.window.size().toTuple()
        if not saved:
            self._fail(f"could not write {self.path}")
        elif grown != self.size:
            self._fail(f"the window had to grow from {self.size[0]}x{self.size[1]} to {grown[0]}x{grown[1]} "
                       f"to fit the {self.tab_key} tab (saved anyway)")
        else:
            self._finish(0)

    def _fail(self, message: str) -> None:
        self.message = message
        print(f"error: screenshot: {message}", file=sys.stderr)
        self._finish(1)

    def _finish(self, code: int) -> None:
        self._timeout.stop()
        self.exit_code = code
        self.window.document.results.clear()
        self.window.close()
        QApplication.instance().exit(code)


def _read(path: str):
    from et_denoise.engine.io import read_image

    return read_image(path)
