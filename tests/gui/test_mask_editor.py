"""The blind-spot mask editor and the document's mask hand-over (no TensorFlow needed)."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.n2v import N2VParams, parse_mask, preset_mask
from et_denoise.engine.n2v.masks import preset_of, trim_mask
from et_denoise.gui.tabs.structn2v.mask_editor import MaskEditor, mask_spec
from et_denoise.gui.model import Document
from et_denoise.gui.tabs.structn2v.n2v_param_form import N2VParamForm


@pytest.fixture
def editor(qtbot):
    widget = MaskEditor()
    qtbot.addWidget(widget)
    widget.resize(380, 200)
    widget.show()
    return widget


def _click(qtbot, editor, row, column):
    qtbot.mouseClick(editor.grid, Qt.MouseButton.LeftButton, pos=editor.grid.cell_centre(row, column).toPoint())


def _choose(editor, kind):
    editor.preset.setCurrentIndex(editor.preset.findData(kind))


def test_presets_and_length_give_the_engine_masks(editor, qtbot):
    emitted = []
    editor.mask_changed.connect(emitted.append)
    for kind in ("horizontal", "vertical", "cross", "square"):
        _choose(editor, kind)
        editor.length.setValue(5)
        np.testing.assert_array_equal(editor.mask(), preset_mask(kind, 5).astype(bool))
        assert editor.value() == f"{kind}:5"
    _choose(editor, "none")
    assert editor.mask() is None and editor.value() == "none"
    assert emitted[-1] is None and len(emitted) == 6  # one per change
    assert "Plain Noise2Void" in editor.summary.text()


def test_clicking_cells_draws_a_custom_mask_that_round_trips_through_its_file(editor, qtbot, temporary_settings):
    _choose(editor, "horizontal")
    editor.length.setValue(3)
    rows, columns = editor.grid._plane.shape
    _click(qtbot, editor, 0, columns // 2)  # hide the pixel above the blind spot
    expected = np.array([[0, 1, 0], [1, 1, 1], [0, 0, 0]], bool)
    np.testing.assert_array_equal(editor.mask(), expected)
    assert editor.preset.currentData() == "custom"
    spec = editor.value()
    assert spec.startswith(str(temporary_settings))  # written beside the (temporary) settings
    np.testing.assert_array_equal(parse_mask(spec).astype(bool), expected)
    _click(qtbot, editor, rows // 2, columns // 2)  # the blind spot itself cannot be switched off
    _click(qtbot, editor, 0, columns // 2)  # clicking again shows the pixel again: back to the preset
    assert editor.value() == "horizontal:3" and editor.preset.currentData() == "horizontal"


def test_an_emptied_mask_is_refused_with_a_message(editor, qtbot):
    _choose(editor, "horizontal")
    editor.length.setValue(3)
    rows, columns = editor.grid._plane.shape
    for column in (columns // 2 - 1, columns // 2 + 1):
        _click(qtbot, editor, rows // 2, column)
    assert not editor.has_hidden_neighbours()
    assert editor.summary.property("error") is True and "hides nothing" in editor.summary.text()
    with pytest.raises(ParameterError, match="hides no pixel besides the centre"):
        N2VParams(mask=editor.value())


def test_resizing_the_grid_crops_and_pads_around_the_blind_spot(editor):
    _choose(editor, "horizontal")
    editor.length.setValue(9)
    editor.width_spin.setValue(5)
    assert editor.value() == "horizontal:5"
    editor.width_spin.setValue(11)
    editor.height_spin.setValue(7)
    assert editor.value() == "horizontal:5" and editor.grid._plane.shape == (7, 11)
    editor.depth_spin.setValue(3)
    assert editor.plane_spin.isVisibleTo(editor) and editor.mask().shape == (1, 5)  # empty planes trim away
    editor.plane_spin.setValue(1)
    editor._on_grid_cell_painted(3, 5, True)  # the pixel behind the blind spot, one plane up
    assert editor.mask().shape == (3, 1, 5) and "needs Mode 3-D" in editor.summary.text()
    with pytest.raises(ParameterError, match="3-D mask needs 3-D training"):
        N2VParams(mask=editor.value())
    assert N2VParams(mode="3d", mask=editor.value()).blind_spot_mask.shape == (3, 1, 5)


def test_set_mask_shows_without_emitting(editor):
    emitted = []
    editor.mask_changed.connect(emitted.append)
    editor.set_mask(preset_mask("vertical", 7))
    assert editor.preset.currentData() == "vertical" and editor.length.value() == 7 and not emitted
    editor.setValue("cross:3")
    assert editor.value() == "cross:3" and not emitted


def test_mask_helpers():
    padded = np.pad(preset_mask("cross", 3).astype(bool), 3)
    assert trim_mask(padded).shape == (3, 3)
    assert preset_of(padded) == ("cross", 3) and preset_of(None) == ("none", 0)
    assert preset_of(np.eye(3, dtype=bool)) is None
    assert mask_spec(np.pad(np.ones((1, 5), bool), ((2, 2), (0, 0)))) == "horizontal:5"


def test_the_form_edits_every_parameter_and_the_mask_through_the_editor(qtbot):
    form = N2VParamForm()
    qtbot.addWidget(form)
    edited = []
    form.edited.connect(lambda: edited.append(1))
    assert form.mask_editor.parent() is None  # out of the form's rows: the tab places it
    form.set_params(N2VParams(mask="square:3", epochs=7))
    assert form.params() == N2VParams(mask="square:3", epochs=7) and not edited
    _choose(form.mask_editor, "vertical")
    assert form.params().mask == "vertical:3" and edited


def test_document_hands_over_a_mask_once_and_checks_it():
    document = Document()
    seen = []
    document.blind_spot_mask_changed.connect(seen.append)
    mask = preset_mask("horizontal", 5)
    document.set_blind_spot_mask(mask)
    document.set_blind_spot_mask(mask.copy())  # the same mask again: no signal, so views cannot loop
    assert len(seen) == 1 and document.blind_spot_mask.dtype == bool
    document.set_blind_spot_mask(None)
    assert seen[-1] is None and len(seen) == 2
    with pytest.raises(ValueError, match="odd sizes"):
        document.set_blind_spot_mask(np.ones((2, 4), bool))
