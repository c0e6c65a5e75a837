"""The "Auto" button of the classic filter tabs: autotune's choice lands in the form and a preview follows."""

import pytest
from PySide6.QtCore import Qt

from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS, autotune
from et_denoise.engine.filters import FILTERS
from et_denoise.gui.model import Preview


@pytest.mark.parametrize("key", ["median", "diffusion", "nlm"])
def test_auto_sets_autotunes_choice_and_the_preview_follows(sample_window, qtbot, key):
    window, document = sample_window, sample_window.document
    tab = window.select_tab(key)
    before = tab.form.params()
    expected = autotune(FILTERS[key], document.image.data, base=before)
    assert expected.params != before, "the test needs a choice that differs from the defaults"

    qtbot.mouseClick(tab.auto_tune.button, Qt.MouseButton.LeftButton)
    job = tab.auto_tune.job
    assert job is not None and tab.auto_tune.button.text() == "Stop"
    qtbot.waitUntil(lambda: job.state.done, timeout=60_000)

    assert tab.form.params() == expected.params
    qtbot.waitUntil(lambda: isinstance(document.comparison, Preview)
                    and document.comparison.params == expected.params, timeout=20_000)
    status = tab.auto_tune.status.text()
    for name in DEFAULT_GRIDS[key]:
        assert f"{getattr(expected.params, name):g}" in status
    assert "blind-spot mask a horizontal line of" in status
    assert window.settings.method_params(key, FILTERS[key].params_type) == expected.params
    assert tab.auto_tune.button.text() == "Auto"


def test_stop_leaves_the_parameters_alone(sample_window, qtbot):
    tab = sample_window.select_tab("median")
    before = tab.form.params()
    job = tab.auto_tune.run()
    qtbot.mouseClick(tab.auto_tune.button, Qt.MouseButton.LeftButton)   # "Stop"
    qtbot.waitUntil(lambda: job.state.done, timeout=20_000)
    assert job.token.cancelled and tab.form.params() == before
    assert "stopped" in tab.auto_tune.status.text()
