"""The results panel as a user drives it: its menu exports the session where the app's settings say."""

import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMenu

from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import ImageData
from et_denoise.gui.model import Document, Result
from et_denoise.gui.settings import AppSettings
from et_denoise.gui.widgets.results_panel import ResultsPanel


def test_export_session_starts_in_the_folder_of_the_settings_the_panel_was_given(qtbot, tmp_path, monkeypatch):
    settings = AppSettings(QSettings(str(tmp_path / "own.ini"), QSettings.Format.IniFormat))
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    settings.set_last_folder("script", str(scripts))
    document = Document()
    document.open_image(ImageData(np.random.default_rng(0).random((32, 32), dtype=np.float32)), "noisy.tif")
    method = FILTERS["median"]
    result = Result(method.label, method.name, method.label, method.params_type(), document.image.data, 0.1)
    panel = ResultsPanel(document, settings)
    qtbot.addWidget(panel)
    panel.show()
    document.add_result(result)
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda _parent, _title, start, _filter: (offered.append(start), ("", ""))[1]))

    def pick():
        menu = next(menu for menu in panel.findChildren(QMenu) if menu.isVisible())
        next(action for action in menu.actions() if action.text() == "Export session as script…").trigger()
        menu.close()

    QTimer.singleShot(0, pick)
    panel.list.customContextMenuRequested.emit(panel.list.visualItemRect(panel.item_for(result)).center())
    assert offered == [str(scripts / "et-denoise-session.sh")]
