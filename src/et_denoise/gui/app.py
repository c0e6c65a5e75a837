"""Start the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from et_denoise.gui.about import APP_NAME
from et_denoise.gui.icons import icon
from et_denoise.gui.settings import APPLICATION, ORGANIZATION
from et_denoise.gui.theme import apply_theme


def create_application(argv: list | None = None) -> QApplication:
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
    """A new main window (the application must exist), with the filters warming up in the background.

    Parameter fields of the application change on the mouse wheel only when focused.
    """
    from et_denoise.gui.main_window import MainWindow
    from et_denoise.gui.warm_up import start_warm_up
    from et_denoise.gui.widgets.wheel_guard import install_wheel_guard

    install_wheel_guard(QApplication.instance())
    window = MainWindow()
    window.warm_up_job = start_warm_up(window.jobs)
    return window


def run_gui(path: str | None = None, *, sample: bool = False, screenshot: str | None = None,
            size: tuple | None = None, tab: str | None = None) -> int:
    """Open the main window and run until it closes; returns the exit code.

    Parameters
    ----------
    path : str, optional
        Image file or folder of slices to open.
    sample : bool
        Open the built-in sample tomogram.
    screenshot : str, optional
        Apply the filter of ``tab`` (anisotropic diffusion for other tabs) to
        the sample or ``path``, show the result in split view, save a PNG of
        the window to this path and return 0 (1 if the window had to grow
        beyond ``size``).
    size : (width, height), optional
        The screenshot's window size (default 1440 × 900).
    tab : str, optional
        Key of the tab shown in the screenshot (default ``"diffusion"``).
    """
    app = create_application()
    window = create_window()
    window.show()
    if screenshot:
        from et_denoise.gui.screenshot import DIFFUSION_TAB, WINDOW_SIZE, ScreenshotScript

        try:
            script = ScreenshotScript(window, screenshot, size=size or WINDOW_SIZE, tab=tab or DIFFUSION_TAB,
                                      image_path=None if sample else path)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            window.close()
            return 2
        QTimer.singleShot(0, script.start)
        app.exec()
        return script.exit_code
    from et_denoise.gui.termination import TerminationSignals

    signals = TerminationSignals(window)
    if path:
        QTimer.singleShot(0, lambda: window.open_path(path))
    elif sample:
        QTimer.singleShot(0, window.opener.open_sample)
    code = app.exec()
    return signals.exit_code or code
