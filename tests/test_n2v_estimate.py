"""The training-time estimate shown before a run: planned batches, scaled speed, the useful minimum."""

import numpy as np
import pytest

from et_denoise.engine.n2v.advice import MIN_USEFUL_PIXELS
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import make_training_data
from et_denoise.engine.n2v.estimate import estimate_training, planned_batches
from et_denoise.engine.n2v.speed import (REFERENCE_SECONDS_PER_STEP, STEP_OVERHEAD, StepSpeed, choose_width,
                                        step_cost)
from et_denoise.engine.n2v.monitor import EventKind, TrainingEvent
from et_denoise.engine.n2v.training import auto_steps_per_epoch


@pytest.mark.parametrize("shape, params", [
    ((96, 160), N2VParams(patch_size=32, epochs=3)),
    ((8, 96, 96), N2VParams(patch_size=32, mask="none")),
    ((6, 100, 70), N2VParams(patch_size=32, mask="vertical:5", augment=False, validation_fraction=0.3)),
    ((40, 64, 64), N2VParams(mode="3d", patch_size=16, epochs=2)),
    ((400, 400), N2VParams(patch_size=16, epochs=1)),  # more patches than the 400-step limit
])
def test_planned_batches_are_what_training_plans_for_the_same_image(shape, params):
    data = make_training_data([np.random.default_rng(0).normal(size=shape).astype(np.float32)], params)
    assert planned_batches(shape, params) == params.epochs * auto_steps_per_epoch(len(data.train), params)
    assert planned_batches(shape, params.replace(steps_per_epoch=7)) == params.epochs * 7


def test_an_image_too_small_for_the_patch_has_no_estimate():
    with pytest.raises(ValueError, match="64-pixel"):
        planned_batches((50, 200), N2VParams())
    with pytest.raises(ValueError, match="3-D"):
        planned_batches((200, 200), N2VParams(mode="3d"))


def test_the_cost_of_a_batch_scales_with_the_network_and_the_batch():
    base = N2VParams(unet_filters=32)
    assert step_cost(base.replace(batch_size=32)) == 2 * step_cost(base)
    assert step_cost(base.replace(patch_size=128)) == 4 * step_cost(base)
    def batch(convolutions):  # 16 patches of 64², multiply-adds per pixel plus the fixed work
        return 16 * 64 * 64 * (convolutions + STEP_OVERHEAD)

    assert step_cost(base) == batch(9 * 32**2 * 10)  # 3×3 kernels, 4 + 4 + 2 convolutions at depth 2
    assert step_cost(base.replace(unet_filters=64)) == batch(9 * 64**2 * 10)
    assert step_cost(base.replace(unet_kernel=5)) == batch(25 * 32**2 * 10)
    assert step_cost(base.replace(unet_depth=3)) == batch(9 * 32**2 * 14)  # 4 + 4 + 4 + 2
    # measured on 2 cores: 229 batches a minute with 32 filters, 948 with 8 (filters² alone says 3664)
    assert step_cost(base.replace(unet_filters=8)) / step_cost(base) == pytest.approx(229 / 948, rel=0.1)
    three_d = N2VParams(mode="3d", patch_size=32)
    assert step_cost(three_d.replace(unet_kernel=5)) == step_cost(three_d)  # 3-D always uses 3


def test_a_measured_speed_gives_the_time_of_the_planned_batches_and_of_a_useful_run():
    params = N2VParams(epochs=10, minutes=0, unet_filters=32)  # by epochs only
    speed = StepSpeed(0.5, params, "CPU")
    estimate = estimate_training((32, 256, 256), params, speed)
    assert estimate.measured and not estimate.reference
    assert estimate.batches == 1160 and estimate.seconds == pytest.approx(580)
    assert estimate.useful_batches == MIN_USEFUL_PIXELS // (16 * 64 * 64) == 400
    assert estimate.useful_seconds == pytest.approx(200) and not estimate.too_short
    assert estimate.describe() == ("About 9 min 40 s on this machine: 1160 batches at 0.5 s (measured). "
                                   "A useful model needs 400 batches, about 3 min 20 s.")
    assert estimate.headline() == "About 9.7 min on this machine (useful after 3.3 min)"


def test_another_network_is_scaled_from_the_measured_one_and_the_reference_stands_in_until_a_run():
    measured = StepSpeed(0.5, N2VParams(unet_filters=32), "CPU")
    bigger = N2VParams(batch_size=32, unet_filters=64, steps_per_epoch=100)
    scaled = estimate_training((32, 256, 256), bigger, measured)
    ratio = 2 * (9 * 64**2 * 10 + STEP_OVERHEAD) / (9 * 32**2 * 10 + STEP_OVERHEAD)  # twice the batch, 64 filters
    assert scaled.seconds_per_step == pytest.approx(0.5 * ratio) and not scaled.measured
    assert scaled.useful_batches == 400 and "scaled from the last run's network" in scaled.describe()
    reference = estimate_training((32, 256, 256), N2VParams(steps_per_epoch=100))
    assert reference.reference and reference.seconds_per_step == REFERENCE_SECONDS_PER_STEP
    assert "on a 2-core CPU" in reference.describe() and "this machine" in reference.describe()


def test_the_time_budget_caps_the_estimate_and_a_short_plan_is_called_too_short():
    speed = StepSpeed(0.5, N2VParams(unet_filters=32), "CPU")
    budget = estimate_training((32, 256, 256), N2VParams(epochs=10, minutes=2, unet_filters=32), speed)
    assert budget.seconds == 120 and budget.too_short  # 240 batches in 2 min, 400 needed
    assert budget.describe().startswith("About 2 min 00 s on this machine: the time budget, about 240 of 1160 "
                                        "batches at 0.5 s (measured). Too short to be useful: a useful model "
                                        "needs 400 batches, about 3 min 20 s; train longer.")
    assert budget.headline() == "Too short: about 2 min on this machine; a useful model needs 3.3 min"
    few = estimate_training((32, 256, 256), N2VParams(epochs=2, steps_per_epoch=50), speed)
    assert few.batches == 100 and few.too_short
    assert not estimate_training((32, 256, 256), N2VParams(epochs=8, steps_per_epoch=50), speed).too_short


def _batch_event(epoch, batch, elapsed_s, steps=50):
    return TrainingEvent(EventKind.BATCH, epoch, 10, batch, steps, 1.0, None, 4e-4, elapsed_s, 0.0, 0.1)


def test_the_speed_of_a_run_leaves_out_its_first_batch_and_survives_the_settings():
    params = N2VParams(batch_size=8)
    speed = StepSpeed.from_events(_batch_event(1, 1, 4.0), _batch_event(2, 11, 34.0), params, "CPU")
    assert speed.seconds_per_step == pytest.approx(30 / 60)  # 60 batches after the first in 30 s
    assert StepSpeed.from_dict(speed.as_dict()) == speed
    assert StepSpeed.from_events(_batch_event(1, 1, 4.0), _batch_event(1, 2, 4.5), params) is None
    with pytest.raises(ValueError):
        StepSpeed.from_dict({**speed.as_dict(), "seconds_per_step": 0})


def test_the_width_is_chosen_from_the_budget_and_the_measured_speed():
    reference = [choose_width(N2VParams(minutes=m)).unet_filters for m in (0.3, 1, 3, 5, 0)]
    assert reference == [8, 8, 32, 32, 32]  # 0.21 s per 32-filter batch: 3 min hold 857, 640 needed; 1 min 706 at 16, 905 needed
    slow = StepSpeed(1.0, N2VParams(unet_filters=32), "CPU")  # a busy machine
    assert choose_width(N2VParams(minutes=3), slow).unet_filters == 8  # 180 batches at 32, 444 at 16, 703 at 8
    assert choose_width(N2VParams(minutes=10), slow).unet_filters == 16  # 600 batches at 32 (640 needed), 1482 at 16 (905 needed)
    measured = StepSpeed(0.236, N2VParams(unet_filters=32), "CPU")  # the width benchmark's wbp run
    assert choose_width(N2VParams(minutes=1), measured).unet_filters == 8  # 628 at 16 were 1.5 dB below 8
    fast = StepSpeed(0.01, N2VParams(unet_filters=32), "GPU")
    assert choose_width(N2VParams(minutes=1), fast).unet_filters == 32
    assert choose_width(N2VParams(minutes=1, unet_filters=64), slow).unet_filters == 64  # a width set is kept
    estimate = estimate_training((32, 256, 256), N2VParams(minutes=10), slow)
    assert estimate.chosen_width == 16 and estimate.seconds_per_step == pytest.approx(0.405, abs=0.001)
    assert "16 first-layer filters, the widest network that fits the budget" in estimate.describe()
    assert not estimate.too_short
    assert estimate_training((32, 256, 256), N2VParams(minutes=5, unet_filters=32), slow).too_short


def test_a_3d_budget_chooses_a_width_that_gets_its_batches_and_plans_enough_of_them():
    """On 2 cores 10 minutes of 3-D training gave 16 filters 460 batches (sirt sample 24.3 dB), 8 filters 640 in 5 (25.8)."""
    from et_denoise.engine.n2v.advice import training_advice
    from et_denoise.engine.n2v.monitor import History

    stack = (32, 256, 256)
    for minutes, width in ((5, 8), (10, 8)):
        params = N2VParams(mode="3d", patch_size=32, mask="square:3", unet_filters=0, minutes=minutes)
        estimate = estimate_training(stack, params)
        assert estimate.chosen_width == width
        assert estimate.batches >= 1200, "10 epochs of the stack's 29 batches ended a run after 290"
    history = History(loss=[1.0], val_loss=[0.9], learning_rate=[4e-4], batches=197)
    advice = training_advice(history, N2VParams(mode="3d", patch_size=32, unet_filters=32))
    assert advice.startswith("Under-trained: 197 batches") and "(400 batches of this size)" in advice
