"""Benchmark: training in the StructN2V tab is as fast as calling ``engine.n2v.train`` directly.

The tab trains on its network thread while the window stays live (loss plot,
progress bar, status bar); a training step must take at most 5 % longer than
in a direct call with the same parameters on the same image.  Runs alternate,
three each; each run's median step time is taken from the training events'
clock (steady state, without graph tracing and validation) and the fastest
run of each side is compared, since other work on the machine only slows runs
down.  Run with ``make bench`` (about 2 minutes on 2 cores).
"""

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import et_denoise.gui as gui  # noqa: E402,F401  (PySide6 reference-count fix first)
from et_denoise.engine.n2v import EventKind, N2VParams, train  # noqa: E402
from et_denoise.gui.theme import apply_theme  # noqa: E402

SHAPE = (16, 128, 128)
PARAMS = N2VParams(minutes=0, patch_size=64, epochs=2, steps_per_epoch=60, batch_size=16, unet_depth=2, unet_filters=16)
TIMEOUT_MS = 300_000


def _step_times(events):
    """Seconds per batch between consecutive batch events of one epoch.

    The tab reports a batch at most every 100 ms, so an interval may span
    several batches; the first batch of an epoch follows validation and is left out.
    """
    stamps = [(e.epoch, e.batch, e.elapsed_s) for e in events if e.kind is EventKind.BATCH]
    return [(t_b - t_a) / (b - a) for (epoch_a, a, t_a), (epoch_b, b, t_b) in zip(stamps, stamps[1:])
            if epoch_a == epoch_b]


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """The main window on a sample, with its settings in a temporary folder."""
    from PySide6.QtCore import QSettings

    from et_denoise.gui.app import create_window

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))
    apply_theme(qapp)
    window = create_window()
    window.resize(1440, 900)
    window.show()
    window.opener.open_sample(SHAPE)
    yield window
    window.document.results.clear()
    window.close()


def _train_in_app(window, qtbot):
    tab = window.select_tab("structn2v")
    tab.form.set_params(PARAMS)
    events = []
    run = tab.train()
    run.event_reported.connect(events.append)
    with qtbot.waitSignal(run.job.finished, timeout=TIMEOUT_MS):
        pass
    assert tab.model is not None and tab.training_panel.loss_plot.epoch_points() == (PARAMS.epochs, PARAMS.epochs)
    return events


def test_training_in_the_tab_is_within_5_percent_of_a_direct_call(window, qtbot):
    qtbot.waitUntil(lambda: window.document.has_image and window.warm_up_job.state.done, timeout=TIMEOUT_MS)
    image = window.document.image.data
    app_steps, direct_steps = [], []
    for _ in range(3):
        app_steps.append(float(np.median(_step_times(_train_in_app(window, qtbot)))))
        events = []
        train([image], PARAMS, progress=events.append)
        direct_steps.append(float(np.median(_step_times(events))))
    app_step, direct_step = min(app_steps), min(direct_steps)
    print(f"\nStructN2V tab vs engine.n2v.train, sample {SHAPE}, {PARAMS.epochs} x {PARAMS.steps_per_epoch} steps "
          f"(batch {PARAMS.batch_size}, patch {PARAMS.patch_size}, {PARAMS.unet_filters} filters), median step "
          f"of the fastest of 3 runs: tab {1000 * app_step:.1f} ms, direct {1000 * direct_step:.1f} ms, "
          f"ratio {app_step / direct_step:.3f}")
    print("all runs (ms): tab " + ", ".join(f"{1000 * t:.1f}" for t in app_steps)
          + "; direct " + ", ".join(f"{1000 * t:.1f}" for t in direct_steps))
    assert app_step <= 1.05 * direct_step
