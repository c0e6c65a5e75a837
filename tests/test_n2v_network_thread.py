"""Every network call runs on the engine's one network thread, whichever thread calls it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled, ParameterError
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v import History, N2VParams, TrainedModel, train
from et_denoise.engine.n2v.backend import BackendModel
from et_denoise.engine.n2v.mask_sweep import SweepTraining, mask_sweep_params, train_mask_sweep
from et_denoise.engine.n2v.n2v_backend import N2VBackend, N2VModel
from et_denoise.engine.n2v.network_thread import on_network_thread, run_on_network_thread
from et_denoise.engine.sample import make_sample_2d

TINY = dict(patch_size=32, unet_depth=1, unet_filters=8, epochs=1, steps_per_epoch=2, batch_size=4)


def test_a_nested_call_runs_directly_instead_of_waiting_for_itself():
    assert not on_network_thread()
    assert run_on_network_thread(lambda: run_on_network_thread(on_network_thread)) is True


def test_a_waiting_caller_is_released_by_its_cancel_token_and_its_work_never_runs():
    busy, release, ran = threading.Event(), threading.Event(), []
    with ThreadPoolExecutor(1) as pool:
        blocker = pool.submit(run_on_network_thread, lambda: (busy.set(), release.wait(10)))
        assert busy.wait(10)
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            run_on_network_thread(ran.append, 1, waiting=token)
        release.set()
        blocker.result(10)
    assert ran == []
    assert run_on_network_thread(lambda: 42) == 42     # the thread still serves later calls


class _BlockingNetwork(BackendModel):
    """A network whose first call blocks until the test releases it."""

    def __init__(self):
        self.busy, self.release, self.calls = threading.Event(), threading.Event(), 0

    def predict(self, batch):
        self.calls += 1
        self.busy.set()
        assert self.release.wait(10)
        return batch

    def save(self, folder):
        raise NotImplementedError


def test_cancel_releases_a_prediction_at_once_while_its_network_call_is_under_way():
    network = _BlockingNetwork()
    model = TrainedModel(N2VParams(unet_filters=8), None, 0.0, 1.0, History(), network, "n2v")
    token, outcome = CancelToken(), []
    with ThreadPoolExecutor(1) as pool:
        caller = pool.submit(lambda: outcome.append(pytest.raises(Cancelled, model.predict,
                                                                  np.zeros((16, 32, 32), np.float32), cancel=token)))
        assert network.busy.wait(10)
        token.cancel()
        caller.result(10)  # returned while the network call is still blocked
        assert not network.release.is_set() and outcome
        network.release.set()
    assert run_on_network_thread(lambda: network.calls) == 1  # the rest of the work was dropped


def test_started_work_with_side_effects_is_not_abandoned():
    busy, release, token = threading.Event(), threading.Event(), CancelToken()
    with ThreadPoolExecutor(1) as pool:
        caller = pool.submit(run_on_network_thread, lambda: (busy.set(), release.wait(10), "saved")[2],
                             waiting=token)
        assert busy.wait(10)
        token.cancel()
        assert not caller.done()
        release.set()
        assert caller.result(10) == "saved"  # the caller learns that the work was done


def test_errors_of_the_work_reach_the_caller():
    def fail():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        run_on_network_thread(fail)


@pytest.fixture
def network_threads(monkeypatch):
    """The names of the threads that trained or applied a network, in order."""
    names = []

    def recording(method):
        def record(*args, **kwargs):
            names.append(threading.current_thread().name)
            return method(*args, **kwargs)
        return record

    monkeypatch.setattr(N2VModel, "predict", recording(N2VModel.predict))
    monkeypatch.setattr(N2VBackend, "train", recording(N2VBackend.train))
    return names


def test_a_mask_sweep_and_a_preview_from_other_threads_share_the_network_thread(network_threads):
    image = make_sample_2d((64, 64)).noisy
    plane = image[:32, :32]
    model = train([image], N2VParams(mask="horizontal:3", **TINY))
    alone = model.predict(plane)
    training = SweepTraining(patch_size=32, unet_depth=1, unet_filters=8, epochs=1, steps_per_epoch=2)
    runs = [run.replace(batch_size=4) for run in mask_sweep_params("horizontal", [3, 5], training)]
    delivered, previews = [], []
    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:     # a job runner's pool thread
        sweep = pool.submit(train_mask_sweep, image, runs, on_model=delivered.append)
        while not sweep.done():                                        # the user scrolls through slices
            previews.append(model.predict(plane))
        assert sweep.result() == 2

    assert [m.spec for m in delivered] == ["horizontal:3", "horizontal:5"]
    assert all(m.data.shape == image.shape and np.isfinite(m.data).all() for m in delivered)
    assert previews and all(np.array_equal(preview, alone) for preview in previews)
    assert network_threads and {name.split("_")[0] for name in network_threads} == {"network"}


def test_a_cancel_during_training_drops_that_model():
    image = make_sample_2d((64, 64)).noisy
    runs = [N2VParams(mask=mask, **{**TINY, "steps_per_epoch": 3}) for mask in ("horizontal:3", "horizontal:5")]
    cancel, delivered, fractions = CancelToken(), [], []

    def progress(fraction):
        fractions.append(fraction)
        if fraction > 0.5:          # the second model is training
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_mask_sweep(image, runs, on_model=delivered.append, progress=progress, cancel=cancel)
    assert [model.spec for model in delivered] == ["horizontal:3"]
    assert delivered[0].data.shape == image.shape and fractions == sorted(fractions) and max(fractions) < 1


def test_sweep_parameters_refuse_an_unknown_shape():
    with pytest.raises(ParameterError, match="mask shape must be one of horizontal, vertical, cross, square"):
        mask_sweep_params("circle", [3], SweepTraining())
