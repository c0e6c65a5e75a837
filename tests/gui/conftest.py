"""Fixtures for the GUI tests: temporary settings, recorded dialogs, windows on a small sample."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from et_denoise.gui.model import Preview
from et_denoise.gui.theme import apply_theme

#: Small enough to keep every test fast.
SAMPLE_SHAPE = (8, 96, 96)


class DialogRecorder:
    """Stands in for QMessageBox and QFileDialog: records what was shown and answers."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.Yes
        self.save_path = ""
        self.save_filter = "TIFF (*.tif *.tiff)"

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.shown]

    def texts(self, kind: str) -> list[str]:
        return [text for shown_kind, _title, text in self.shown if shown_kind == kind]


@pytest.fixture(scope="session", autouse=True)
def themed_app(qapp):
    apply_theme(qapp)
    return qapp


@pytest.fixture(autouse=True)
def temporary_settings(tmp_path):
    """Point QSettings at a temporary folder so tests never touch the user's settings."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    """Scratch files of results too large for memory go under a temporary cache folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Every message box and file dialog is recorded and answered without blocking."""
    recorder = DialogRecorder()

    def message_box(kind):
        def show(parent, title, text, *args, **kwargs):
            recorder.shown.append((kind, title, text))
            return recorder.answer if kind == "question" else QMessageBox.StandardButton.Ok
        return staticmethod(show)

    for kind in ("critical", "warning", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, message_box(kind))

    def save_file_name(*args, **kwargs):
        recorder.shown.append(("save_dialog", "", ""))
        return recorder.save_path, recorder.save_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_file_name))
    return recorder


@pytest.fixture
def sample_shape():
    """Shape of the sample opened by ``sample_window``."""
    return SAMPLE_SHAPE


@pytest.fixture
def window(qtbot):
    """A shown main window with nothing open, made as the app makes it."""
    from et_denoise.gui.app import create_window

    main = create_window()
    qtbot.addWidget(main)
    main.show()
    yield main
    main.document.results.clear()
    main.close()


@pytest.fixture
def sample_window(window, qtbot):
    """The main window on a small sample, with its first live preview shown."""
    window.opener.open_sample(SAMPLE_SHAPE)
    qtbot.waitUntil(lambda: window.document.has_image, timeout=10_000)
    qtbot.waitUntil(lambda: isinstance(window.document.comparison, Preview), timeout=20_000)
    return window
