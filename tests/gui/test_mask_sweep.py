"""Mask sweep: one StructN2V result per mask size, one job; cancelling adds no half-trained result."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from et_denoise.engine.n2v.mask_sweep import SweepTraining
from et_denoise.gui.jobs.job_runner import JobState
from et_denoise.gui.tabs.noise.noise_tab import SourceKind

TINY = dict(patch_size=32, unet_depth=1, unet_filters=8, epochs=1, steps_per_epoch=2)


@pytest.mark.slow
def test_two_sizes_give_two_results_to_compare(sample_window, qtbot, sample_shape):
    window, document = sample_window, sample_window.document
    tab = window.select_tab("noise")
    sweep = tab.sweep
    sweep.form.set_params(SweepTraining(**TINY))
    sweep.set_choice("cross", [5, 9])
    adding_threads = []
    document.results.added.connect(lambda _result: adding_threads.append(threading.current_thread()))
    assert sweep.start_button.text() == "Train 2 models"
    qtbot.mouseClick(sweep.start_button, Qt.MouseButton.LeftButton)
    job = sweep.job
    assert job is not None and sweep.start_button.text() == "Stop sweep"
    qtbot.waitUntil(lambda: job.state.done, timeout=120_000)

    assert job.state is JobState.SUCCEEDED
    results = list(document.results)
    assert [r.name for r in results] == ["StructN2V cross:5", "StructN2V cross:9"]
    for result, size in zip(results, (5, 9)):
        assert result.method == "n2v" and result.params.mask == f"cross:{size}"
        assert result.params.patch_size == 32 and result.params.epochs == 1
        assert result.data.shape == sample_shape and np.isfinite(result.data).all()
        assert not np.allclose(result.data, document.image.data)
    assert adding_threads == [threading.main_thread()] * 2     # results reach the document on the GUI thread
    assert document.comparison is results[-1]
    # The noise analysis now looks at the newest StructN2V result's residual.
    assert tab.source().kind is SourceKind.RESIDUAL and tab.source().result is results[-1]
    assert "Done: 2 models" in sweep.status.text() and sweep.start_button.text() == "Train 2 models"


@pytest.mark.slow
def test_cancel_keeps_the_finished_models_and_adds_no_half_result(sample_window, qtbot):
    document = sample_window.document
    sweep = sample_window.select_tab("noise").sweep
    sweep.form.set_params(SweepTraining(**{**TINY, "steps_per_epoch": 10}))
    sweep.set_choice("horizontal", [3, 5, 7])
    job = sweep.start()
    document.results.added.connect(lambda _result: sweep.stop())   # stop while the second model trains
    qtbot.waitUntil(lambda: job.state.done, timeout=120_000)

    assert job.state is JobState.CANCELLED
    assert [r.name for r in document.results] == ["StructN2V horizontal:3"]
    assert "kept" in sweep.status.text() and sweep.job is None
