"""The StructN2V tab in the main window: tiny models (patch 32, depth 1, 8 filters, 2 epochs × 3 steps)
trained on the small sample (8, 96, 96)."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from et_denoise.engine.n2v import EventKind, N2VParams, StopReason, preset_mask
from et_denoise.gui.jobs.job_runner import JobState
from et_denoise.gui.model import Preview

TINY = N2VParams(patch_size=32, unet_depth=1, unet_filters=8, epochs=2, steps_per_epoch=3, batch_size=8)
TIMEOUT_MS = 60_000


@pytest.fixture
def tab(sample_window, qtbot):
    """The StructN2V tab, shown, with tiny parameters and its device known (TensorFlow imported)."""
    qtbot.waitUntil(lambda: sample_window.warm_up_job.state.done, timeout=TIMEOUT_MS)
    shown = sample_window.select_tab("structn2v")
    shown.form.set_params(TINY)
    qtbot.waitUntil(lambda: bool(shown.device), timeout=TIMEOUT_MS)
    return shown


def _train(tab, qtbot, params=None, on_event=None):
    """Train with ``params`` (the form's when None) and wait for the end; returns the run."""
    if params is not None:
        tab.form.set_params(params)
    run = tab.train()
    assert run is not None
    if on_event is not None:
        run.event_reported.connect(on_event)
    with qtbot.waitSignal(run.job.finished, timeout=TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: not tab.training)
    return run


def _apply(tab, qtbot):
    results = tab.document.results
    count = len(results)
    tab.model_panel.apply_button.click()
    qtbot.waitUntil(lambda: len(results) == count + 1, timeout=TIMEOUT_MS)
    return results[count]


def _folder_dialog(monkeypatch, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(folder)))


@pytest.mark.slow
def test_training_shows_each_epoch_while_it_trains_then_previews_and_applies(tab, qtbot, dialogs):
    assert tab.training_panel.title().startswith("Training on CPU") or "GPU" in tab.training_panel.title()
    shown = []  # (what the canvas was asked to show, whether training was still running)
    tab.document.comparison_changed.connect(lambda comparison: shown.append((comparison, tab.training)))
    run = _train(tab, qtbot)
    epoch_previews = [(c, training) for c, training in shown if isinstance(c, Preview) and "epoch" in c.method_label]
    assert [c.method_label for c, _ in epoch_previews] == ["StructN2V epoch 1", "StructN2V epoch 2"]
    assert all(training for _, training in epoch_previews), "each epoch is shown while the network trains"
    assert all(c.data.shape == tab.document.current_slice().shape for c, _ in epoch_previews)
    assert run.job.state is JobState.SUCCEEDED
    assert tab.training_panel.loss_plot.epoch_points() == (2, 2)
    batch_x, _ = tab.training_panel.loss_plot.batch_curve.getData()
    assert 2 <= len(batch_x) <= 2 * 3 and batch_x[-1] == 2.0  # at most one point per batch; the last one drawn
    assert tab.training_panel.progress.value() == 1000 and tab.training_panel.progress.text().startswith("Trained 2 epochs")
    assert tab.model.history.stopped is None and len(tab.model.history.loss) == 2
    assert tab.training_panel.advice.text().startswith("Under-trained: 6 batches saw 49 k pixels")

    qtbot.waitUntil(lambda: isinstance(tab.document.comparison, Preview)
                    and tab.document.comparison.method_label == "StructN2V", timeout=TIMEOUT_MS)
    preview = tab.document.comparison
    assert preview.z == tab.document.z
    assert preview.data.shape == tab.document.current_slice().shape

    result = _apply(tab, qtbot)
    assert (result.method, result.method_label, result.name) == ("n2v", "StructN2V", "StructN2V")
    assert result.params == TINY and result.elapsed_s > 0
    assert result.data.shape == tab.document.image.data.shape and np.isfinite(result.data).all()
    np.testing.assert_allclose(result.data[tab.document.z], preview.data, atol=1e-4 * result.data.std())
    assert tab.document.comparison is result and not dialogs.shown


def _in_viewport(widget, scroll) -> bool:
    """Shown and wholly inside the visible part of the scroll area."""
    viewport = scroll.viewport()
    return widget.isVisible() and viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))


@pytest.mark.slow
def test_the_under_trained_advice_is_in_sight_next_to_train_at_1024_by_700(tab, qtbot):
    window, panel = tab.window(), tab.training_panel
    window.resize(QSize(1024, 700))
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 700))
    assert not panel.advice.isVisible()
    _train(tab, qtbot, TINY.replace(epochs=1, steps_per_epoch=2))
    QApplication.processEvents()
    assert panel.advice.text().startswith("Under-trained: 2 batches")
    assert window.size() == QSize(1024, 700)
    assert _in_viewport(panel.advice, tab.scroll), "the advice is below the fold"
    assert _in_viewport(panel.train_button, tab.scroll) and _in_viewport(panel.progress, tab.scroll)
    tab.train()
    assert not panel.advice.isVisible(), "a new run clears the advice of the last one"
    with qtbot.waitSignal(tab.run.job.finished, timeout=TIMEOUT_MS):
        pass


@pytest.mark.slow
def test_stop_ends_training_early_and_the_model_still_denoises(tab, qtbot):
    buttons = (tab.training_panel.train_button, tab.training_panel.stop_button, tab.model_panel.load_button,
               tab.model_panel.save_button, tab.model_panel.export_button, tab.model_panel.apply_button)
    enabled = []  # (Train, Stop, Load, Save, Export, Apply) while training, then once Stop was pressed

    def stop_after_first_batch(event):
        if event.kind is EventKind.BATCH and event.batch == 1 and tab.training_panel.stop_button.isEnabled():
            enabled.append([button.isEnabled() for button in buttons])
            tab.training_panel.stop_button.click()
            enabled.append([button.isEnabled() for button in buttons])

    run = _train(tab, qtbot, TINY.replace(epochs=50), on_event=stop_after_first_batch)
    assert run.job.state is JobState.SUCCEEDED
    assert enabled == [[False, True, False, False, False, False], [False] * 6]
    assert [button.isEnabled() for button in buttons] == [True, False, True, True, True, True]
    assert tab.model.history.stopped is StopReason.CANCELLED and len(tab.model.history.loss) == 1
    assert tab.training_panel.progress.text().startswith("Stopped after 1 epoch")
    assert tab.training_panel.loss_plot.epoch_points() == (1, 1)
    assert tab.status.text() == "Stopped early: the best weights so far are kept."
    assert tab.training_panel.advice.text().startswith("Under-trained: ")
    result = _apply(tab, qtbot)
    assert result.method == "n2v" and np.isfinite(result.data).all()
    assert "Epochs 1 of 50" in result.summary()  # what it was trained for, not the 50 planned


@pytest.mark.slow
def test_a_saved_model_reloads_with_the_load_button_predicts_the_same_and_exports(tab, qtbot, dialogs,
                                                                                   monkeypatch, tmp_path):
    _train(tab, qtbot, TINY.replace(mask="vertical:3"))
    trained = tab.model
    before = _apply(tab, qtbot)
    assert before.model_folder is None  # its model is saved nowhere yet: no recipe names it
    dialogs.save_path = str(tmp_path / "new" / "model")  # a folder that does not exist yet
    job = tab.choose_folder_to_save()
    qtbot.waitUntil(lambda: job.state.done, timeout=TIMEOUT_MS)
    assert job.state is JobState.SUCCEEDED and (tmp_path / "new" / "model" / "metadata.json").is_file()
    assert before.model_folder == str(tmp_path / "new" / "model")  # its recipe names the folder now
    (tmp_path / "a_file").write_text("")
    dialogs.save_path = str(tmp_path / "a_file")
    assert tab.choose_folder_to_save() is None and "is a file" in dialogs.texts("critical")[-1]

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    _folder_dialog(monkeypatch, folder)  # for the Load button
    dialogs.save_path = str(folder)

    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert tab.choose_folder_to_save() is None  # a non-empty folder: asked first, and the user declined
    assert "not empty" in dialogs.texts("question")[-1] and not (folder / "metadata.json").exists()

    dialogs.answer = QMessageBox.StandardButton.Yes
    job = tab.choose_folder_to_save()
    qtbot.waitUntil(lambda: job.state.done, timeout=TIMEOUT_MS)
    assert job.state is JobState.SUCCEEDED and (folder / "metadata.json").is_file()
    assert (folder / "notes.txt").read_text() == "keep me"

    tab.mask_editor.set_mask(None)  # something else in the editor, to see the loaded model's mask come back
    qtbot.waitUntil(tab.model_panel.load_button.isEnabled)  # enabled again once the saving job has finished
    tab.model_panel.load_button.click()
    qtbot.waitUntil(lambda: tab.model is not trained, timeout=TIMEOUT_MS)
    assert tab.mask_editor.value() == "vertical:3" and tab.form.params() == TINY.replace(mask="vertical:3")
    np.testing.assert_array_equal(tab.document.blind_spot_mask, preset_mask("vertical", 3).astype(bool))
    assert tab.training_panel.loss_plot.epoch_points() == (2, 2) and "Loaded from" in tab.model_panel.model_info.text()
    result = _apply(tab, qtbot)
    assert result.model_folder == str(folder)
    expected = trained.predict(tab.document.image.data)
    np.testing.assert_allclose(result.data, expected, atol=1e-5 * expected.std())

    dialogs.save_path = str(tmp_path / "tiny")  # no extension given: .zip is added
    qtbot.waitUntil(tab.model_panel.export_button.isEnabled)
    job = tab.choose_export_path()  # what the Export button does
    qtbot.waitUntil(lambda: job.state.done, timeout=TIMEOUT_MS)
    assert job.state is JobState.SUCCEEDED, dialogs.shown
    assert (tmp_path / "tiny.zip").stat().st_size > 10_000 and "Exported to" in tab.status.text()


def _patch_larger_than_the_image(tab):
    tab.form.editor("patch_size").setValue(128)


def _mask_larger_than_the_patch(tab):
    tab.form.editor("patch_size").setValue(16)
    tab.mask_editor.preset.setCurrentIndex(tab.mask_editor.preset.findData("horizontal"))
    tab.mask_editor.length.setValue(21)


def _empty_mask(tab):
    tab.mask_editor.preset.setCurrentIndex(tab.mask_editor.preset.findData("custom"))
    tab.mask_editor.set_mask(np.ones((1, 1), bool))  # the blind spot alone: hides nothing


def _message_after(tab, qtbot, dialogs, action):
    """Do ``action`` and return the error message it led to, once the tab is idle again."""
    count = len(dialogs.texts("critical"))
    action()
    qtbot.waitUntil(lambda: len(dialogs.texts("critical")) > count, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not tab.training and tab.model_panel.load_button.isEnabled(), timeout=TIMEOUT_MS)
    return dialogs.texts("critical")[-1]


@pytest.mark.slow
def test_bad_input_gives_a_message_and_the_tab_keeps_working(tab, qtbot, dialogs, monkeypatch, tmp_path,
                                                             poison_training_data):
    for edit, message in ((_patch_larger_than_the_image, "smaller than the training patch"),
                          (_mask_larger_than_the_patch, "larger than the patch"),
                          (_empty_mask, "hides no pixel besides the centre")):
        tab.form.set_params(TINY)
        edit(tab)
        assert message in _message_after(tab, qtbot, dialogs, tab.training_panel.train_button.click)
        assert tab.training_panel.train_button.isEnabled()

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "metadata.json").write_text(json.dumps({"format": "et-denoise-n2v", "params": {}}))
    for folder, message in ((tmp_path / "missing", "no such model folder"), (corrupt, "damaged")):
        _folder_dialog(monkeypatch, folder)
        assert message in _message_after(tab, qtbot, dialogs, tab.model_panel.load_button.click)
    assert tab.model is None and not tab.model_panel.save_button.isEnabled() and not tab.model_panel.apply_button.isEnabled()

    tab.form.set_params(TINY)
    with monkeypatch.context() as patch:
        poison_training_data(patch)
        assert "loss became NaN" in _message_after(tab, qtbot, dialogs, tab.training_panel.train_button.click)
    assert tab.model is None and tab.training_panel.progress.text() == "Training failed"

    run = _train(tab, qtbot)  # after all that, training works
    assert run.job.state is JobState.SUCCEEDED and tab.model_panel.apply_button.isEnabled()


def test_the_mask_travels_between_the_document_and_the_editor_without_echo(window):
    tab = window.tab("structn2v")
    document = window.document
    np.testing.assert_array_equal(document.blind_spot_mask, tab.mask_editor.mask())  # the tab's mask is published
    changes = []
    document.blind_spot_mask_changed.connect(changes.append)
    document.set_blind_spot_mask(preset_mask("vertical", 5))  # e.g. suggested by the noise analysis
    assert tab.mask_editor.value() == "vertical:5" and tab.form.params().mask == "vertical:5"
    assert window.settings.method_params("n2v", N2VParams).mask == "vertical:5"
    tab.mask_editor.preset.setCurrentIndex(tab.mask_editor.preset.findData("cross"))
    np.testing.assert_array_equal(document.blind_spot_mask, preset_mask("cross", 5).astype(bool))
    tab.mask_editor.preset.setCurrentIndex(tab.mask_editor.preset.findData("none"))
    assert document.blind_spot_mask is None
    assert len(changes) == 3  # one per change, no echoes


def test_the_parameter_section_opens_to_the_form_and_closes_to_its_summary(window, qtbot):
    panel = window.select_tab("structn2v").training_panel
    section = panel.params_section.content()
    assert panel.params_summary.isVisible() and "epochs" in panel.params_summary.text()
    assert section.height() == 0
    panel.params_section.toggleButton().click()
    qtbot.waitUntil(lambda: section.height() >= panel.form.sizeHint().height())
    assert not panel.params_summary.isVisible()
    panel.params_section.toggleButton().click()
    qtbot.waitUntil(lambda: section.height() == 0 and panel.params_summary.isVisible())


def test_before_training_the_tab_says_how_long_it_takes_and_follows_the_parameters(sample_window, sample_shape):
    from et_denoise.engine.n2v.estimate import estimate_training

    tab = sample_window.select_tab("structn2v")
    estimate = tab.training_panel.estimate
    tab.form.set_params(N2VParams(patch_size=32, epochs=100))  # 17 batches an epoch on the small sample
    assert estimate.text() == estimate_training(sample_shape, tab.form.params()).headline()
    assert estimate.text().startswith("About ") and "on a 2-core CPU" in estimate.text()  # nothing measured yet
    assert "A useful model needs 1600 batches" in estimate.toolTip() and not estimate.property("error")
    chosen = estimate_training(sample_shape, tab.form.params()).chosen_width
    assert f"with {chosen} filters" in estimate.text()  # the width chosen for the budget (filters: auto)
    tab.form.editor("unet_filters").setValue(24)
    assert "filters" not in estimate.text()  # a width the user set is not news
    tab.form.editor("epochs").setValue(1)
    assert estimate.text().startswith("Too short: ") and estimate.property("error")
    tab.form.editor("patch_size").setValue(128)  # larger than the 96-pixel sample
    assert estimate.text().startswith("Cannot train on this image") and estimate.property("error")


@pytest.mark.slow
def test_a_run_measures_the_speed_that_the_next_estimate_uses(tab, qtbot):
    from et_denoise.engine.n2v.speed import StepSpeed

    assert "on a 2-core CPU" in tab.training_panel.estimate.text()
    _train(tab, qtbot, TINY.replace(epochs=1, steps_per_epoch=6))
    speed = StepSpeed.from_dict(tab.settings.json_value("n2v/step_speed", {}))
    assert speed.params == TINY.replace(epochs=1, steps_per_epoch=6) and speed.device == tab.device
    assert "on this machine" in tab.training_panel.estimate.text()
    assert "(measured)" in tab.training_panel.estimate.toolTip()
    tab.form.editor("unet_filters").setValue(16)
    assert "(scaled from the last run's network)" in tab.training_panel.estimate.toolTip()


def test_the_collapsed_summary_follows_values_set_by_the_program(window):
    tab = window.select_tab("structn2v")
    summary = tab.training_panel.params_summary
    tab.form.set_params(N2VParams(epochs=3, steps_per_epoch=7, patch_size=32, minutes=2))  # as a loaded model does
    assert summary.text() == "2-D · patch 32 · 3 epochs × 7 steps · at most 2 min"
    assert "Blind-spot mask horizontal:11" in summary.toolTip()
    window.document.set_blind_spot_mask(preset_mask("vertical", 5))  # e.g. from the noise analysis
    assert "Blind-spot mask vertical:5" in summary.toolTip()
    tab.form.set_params(N2VParams(patch_size=48))
    tab.form.editor("unet_depth").setValue(5)
    assert summary.property("error") and "multiple of 32" in summary.text()


def test_the_model_info_names_a_custom_mask_by_its_shape_not_by_its_file(qtbot, tmp_path):
    from et_denoise.engine.n2v import History, TrainedModel
    from et_denoise.gui.tabs.structn2v.model_panel import ModelPanel

    mask_file = tmp_path / "config" / "mask.txt"
    mask_file.parent.mkdir()
    mask_file.write_text("110\n111\n011\n")  # no preset
    model = TrainedModel(N2VParams(mask=str(mask_file)), np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]]), 0.0, 1.0,
                         History(loss=[0.3]), None, "n2v")
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.show_model(model, "Loaded from my model")
    assert "mask custom 3×3" in panel.model_info.text() and str(tmp_path) not in panel.model_info.text()
