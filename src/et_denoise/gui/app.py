"""Start the desktop app."""

from __future__ import annotations

import sys
from typing import Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from et_denoise.gui.about import APP_NAME
from et_denoise.gui.icons import icon
from et_denoise.gui.settings import APPLICATION, ORGANIZATION
from et_denoise.gui.theme import apply_theme


def create_application(argv: Optional[list] = None) -> QApplication:
    """The QApplication, created and themed once."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
        app.setApplicationDisplayName(APP_NAME)
        app.setWindowIcon(icon("et-denoise"))
        apply_theme(app)
    return app


def create_window():
    """A new main window (the application must exist), with the filters warming up in the background."""
    from et_denoise.gui.main_window import MainWindow
    from et_denoise.gui.warm_up import start_warm_up

    window = MainWindow()
    window.warm_up_job = start_warm_up(window.jobs)
    return window


def run_gui(path: Optional[str] = None, *, sample: bool = False, screenshot: Optional[str] = None) -> int:
    """Open the main window and run until it closes; returns the exit code.

    Parameters
    ----------
    path : str, optional
        Image file or folder of slices to open.
    sample : bool
        Open the built-in sample tomogram.
    screenshot : str, optional
        With ``sample``: apply anisotropic diffusion, show the result in split
        view, save a PNG of the window to this path and return 0.
    """
    app = create_application()
    window = create_window()
    window.show()
    if screenshot:
        from et_denoise.gui.screenshot import ScreenshotScript

        script = ScreenshotScript(window, screenshot)
        QTimer.singleShot(0, script.start)
        app.exec()
        return script.exit_code
    if path:
        QTimer.singleShot(0, lambda: window.open_path(path))
    elif sample:
        QTimer.singleShot(0, window.opener.open_sample)
    return app.exec()
