"""Parameter widgets are built from the dataclass metadata: one form for every method."""

from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.params import MethodParams, param
from et_denoise.gui.widgets.param_form import ParamForm


@dataclass(frozen=True)
class _Params(MethodParams):
    size: int = param(5, label="Size", help="Window width in pixels.", minimum=1, maximum=31, step=2)
    strength: float = param(0.05, label="Strength", help="How strongly to smooth.", minimum=0.0, maximum=1.0,
                            step=0.01)
    fast: bool = param(True, label="Fast", help="Use the fast algorithm.")
    mode: str = param("2d", label="Mode", help="Filter slices or the volume.", choices=("2d", "3d"))

    def validate(self):
        if self.size > 20 and self.mode == "3d":
            raise ParameterError("Size above 20 is too slow in 3-D")


def test_each_field_gets_the_matching_widget_with_range_and_tooltip(qtbot):
    form = ParamForm(_Params)
    qtbot.addWidget(form)
    size, strength = form.editor("size"), form.editor("strength")
    assert isinstance(size, QSpinBox) and (size.minimum(), size.maximum(), size.singleStep()) == (1, 31, 2)
    assert isinstance(strength, QDoubleSpinBox) and strength.decimals() == 2
    assert isinstance(form.editor("fast"), QCheckBox)
    mode = form.editor("mode")
    assert isinstance(mode, QComboBox) and [mode.itemText(i) for i in range(2)] == ["2-D", "3-D"]
    assert size.toolTip() == "Window width in pixels."
    assert form.params() == _Params()


def test_editing_emits_and_returns_validated_params(qtbot):
    form = ParamForm(_Params)
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.edited, timeout=1000):
        form.editor("size").setValue(25)
    form.editor("mode").setCurrentIndex(1)
    with pytest.raises(ParameterError, match="too slow"):
        form.params()
    form.set_params(_Params(size=3, strength=0.5, fast=False, mode="3d"))
    assert form.params() == _Params(size=3, strength=0.5, fast=False, mode="3d")


def test_a_value_finer_than_the_step_is_shown_and_returned_exactly(qtbot):
    from et_denoise.engine.filters.nlm import NLMParams

    form = ParamForm(NLMParams)
    qtbot.addWidget(form)
    form.set_params(NLMParams(h=0.65))  # what Auto chose, restored from the settings after a restart
    assert form.params().h == pytest.approx(0.65) and form.editor("h").text().startswith("0.65")


def test_changed_follows_user_edits_and_values_set_by_the_program_edited_only_the_user(qtbot):
    form = ParamForm(_Params)
    qtbot.addWidget(form)
    changed, edited = [], []
    form.changed.connect(lambda: changed.append(form.params()))
    form.edited.connect(lambda: edited.append(form.params()))
    form.editor("size").setValue(7)
    form.set_params(_Params(size=3, strength=0.5))  # e.g. chosen by Auto
    assert edited == [_Params(size=7)]
    assert changed == [_Params(size=7), _Params(size=3, strength=0.5)]  # one signal per set, with every value in


def test_structn2v_fields_read_in_plain_words_while_the_values_stay_n2vs(qtbot):
    from et_denoise.gui.tabs.structn2v.n2v_param_form import N2VParamForm

    form = N2VParamForm()
    qtbot.addWidget(form)
    steps, minutes, replacement = (form.editor(name) for name in ("steps_per_epoch", "minutes", "manipulator"))
    assert steps.value() == 0 and steps.text() == "auto"
    minutes.setValue(0)
    assert minutes.text() == "none (by epochs)"
    assert replacement.currentText() == "random neighbour or itself"
    assert "withCP" not in "".join(replacement.itemText(i) for i in range(replacement.count()))
    replacement.setCurrentIndex(replacement.findText("nearby neighbour (Gaussian)"))
    params = form.params()
    assert params.manipulator == "normal_withoutCP" and params.steps_per_epoch == 0 and params.minutes == 0
