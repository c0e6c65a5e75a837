"""Export recipe… from the results panel: a setting tuned in the GUI runs unchanged in ``batch --recipe``."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from et_denoise.cli import main
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.recipe import Recipe, load_recipe
from et_denoise.engine.sample import make_sample
from et_denoise.gui.model import Result

SHAPE = (6, 40, 48)


def _open(window, qtbot, path):
    window.opener.open_path(str(path))
    qtbot.waitUntil(lambda: window.document.has_image and window.document.name == path.name, timeout=10_000)


def _apply(window, qtbot, key, params):
    tab = window.select_tab(key)
    tab.form.set_params(params)
    count = len(window.document.results)
    assert tab.apply() is not None
    qtbot.waitUntil(lambda: len(window.document.results) == count + 1, timeout=30_000)
    return window.document.results[count]


def _export_from_menu(window, qtbot, result):
    """Right-click ``result`` and choose "Export recipe…"; returns the action's (enabled, tooltip)."""
    panel = window.results_panel
    seen = []

    def pick():
        menu = next(menu for menu in panel.findChildren(QMenu) if menu.isVisible())
        action = next(action for action in menu.actions() if action.text() == "Export recipe…")
        seen.append((action.isEnabled(), action.toolTip()))
        action.trigger()
        menu.close()

    QTimer.singleShot(0, pick)
    panel.list.customContextMenuRequested.emit(panel.list.visualItemRect(panel.item_for(result)).center())
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    return seen[0]


@pytest.mark.parametrize("key, params", [
    ("median", FILTERS["median"].params_type(size=3, mode="3d")),
    ("diffusion", FILTERS["diffusion"].params_type(iterations=4, mode="3d")),
])
def test_a_recipe_exported_from_a_gui_result_gives_the_same_output_in_batch(window, qtbot, dialogs, tmp_path,
                                                                            capsys, key, params):
    tomogram = write_image(tmp_path / "tomo.mrc", make_sample(shape=SHAPE, seed=3).noisy, voxel_size=(8.0,) * 3)
    _open(window, qtbot, tomogram)
    result = _apply(window, qtbot, key, params)
    dialogs.save_path = str(tmp_path / "recipes" / "tuned")  # no extension: .json is added
    (tmp_path / "recipes").mkdir()

    enabled, _tooltip = _export_from_menu(window, qtbot, result)
    recipe_path = tmp_path / "recipes" / "tuned.json"
    assert enabled and recipe_path.is_file()
    assert load_recipe(recipe_path) == Recipe(key, params)
    assert "tuned.json" in window.statusBar().currentMessage()
    assert window.settings.last_folder("recipe") == str(tmp_path / "recipes")

    out = tmp_path / "out"
    assert main(["batch", str(tomogram), "-o", str(out), "--recipe", str(recipe_path)]) == 0, capsys.readouterr().err
    batch = read_image(out / "tomo.mrc").data
    if key == "median":
        np.testing.assert_array_equal(batch, result.data)
    else:
        span = float(result.data.max() - result.data.min())
        np.testing.assert_allclose(batch, result.data, rtol=0, atol=1e-5 * span)


def test_replacing_an_existing_recipe_asks_first(window, qtbot, dialogs, tmp_path):
    _open(window, qtbot, write_image(tmp_path / "tomo.mrc", make_sample(shape=SHAPE, seed=1).noisy))
    result = _apply(window, qtbot, "median", FILTERS["median"].params_type(size=3))
    target = tmp_path / "taken.json"
    target.write_text("keep me")
    dialogs.save_path = str(target)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    _export_from_menu(window, qtbot, result)
    assert "already exists" in dialogs.texts("question")[-1] and target.read_text() == "keep me"
    dialogs.answer = QMessageBox.StandardButton.Yes
    _export_from_menu(window, qtbot, result)
    assert load_recipe(target) == Recipe("median", result.params)


def test_a_result_not_made_by_a_method_has_the_action_disabled_saying_why(window, qtbot, dialogs, tmp_path):
    _open(window, qtbot, write_image(tmp_path / "tomo.mrc", make_sample(shape=SHAPE, seed=1).noisy))
    loaded = Result("Reference", "loaded", "Loaded image", None, window.document.image.data, 0.0)
    window.document.add_result(loaded)
    enabled, tooltip = _export_from_menu(window, qtbot, loaded)
    assert not enabled and tooltip.startswith("No recipe: it was not made by a denoising method")
    assert "save_dialog" not in dialogs.kinds()


def _n2v_result(window):
    result = Result("StructN2V", "n2v", "StructN2V", N2VParams(mask="vertical:3", epochs=2), window.document.image.data,
                    1.0)
    window.document.add_result(result)
    return result


def test_an_n2v_result_whose_model_was_never_saved_says_so_in_one_line(window, qtbot, dialogs, monkeypatch, tmp_path):
    _open(window, qtbot, write_image(tmp_path / "tomo.mrc", make_sample(shape=SHAPE, seed=1).noisy))
    result = _n2v_result(window)
    empty = tmp_path / "not_a_model"
    empty.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(empty)))
    enabled, tooltip = _export_from_menu(window, qtbot, result)
    assert enabled and "model was saved in" in tooltip
    [message] = dialogs.texts("critical")
    assert "is not a model folder" in message and "never saved, save it first" in message
    assert "\n" not in message and "Traceback" not in message
    assert "save_dialog" not in dialogs.kinds()  # nothing to write, so no file was asked for


def test_an_n2v_result_exports_the_folder_its_model_was_saved_in(window, qtbot, dialogs, monkeypatch, tmp_path):
    _open(window, qtbot, write_image(tmp_path / "tomo.mrc", make_sample(shape=SHAPE, seed=1).noisy))
    result = _n2v_result(window)
    folder = tmp_path / "model"
    folder.mkdir()  # what the model's save writes, as far as the recipe reads it (no TensorFlow needed)
    (folder / "metadata.json").write_text(json.dumps({"format": "et-denoise-n2v", "params": result.params.as_dict()}))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(folder)))
    dialogs.save_path = str(tmp_path / "n2v.json")
    _export_from_menu(window, qtbot, result)
    assert dialogs.texts("critical") == []
    assert load_recipe(tmp_path / "n2v.json") == Recipe("n2v", None, folder)
    assert json.loads((tmp_path / "n2v.json").read_text())["model"] == "model"  # beside the recipe: relative
