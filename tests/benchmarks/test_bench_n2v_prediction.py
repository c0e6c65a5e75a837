"""Benchmark: StructN2V prediction per GB on the CPU against the first release's path.

Run with ``make bench`` (or ``pytest tests/benchmarks/test_bench_n2v_prediction.py -s -o addopts=""``).
About 2 minutes on 2 cores.

The first release predicted with n2v's 5×5 kernel and one eager Keras call per
tile.  Today's default is a 3×3 kernel (its quality at equal training time:
``test_bench_n2v.py::test_kernel_3_beats_kernel_5_after_the_same_time``), a
traced graph of a copy with the batch normalisations folded into the
convolutions, and several planes per call.  Both predict the same 8×1024²
float32 volume (32 filters, depth 2; one pass, without test-time flips),
alternating, twice each; the CPU seconds of the fastest run of each are
compared, since other work on the machine only slows runs down.  Issue #16's
target: at least 2.5× less CPU per GB.  The folded, traced, batched path must
also give the eager path's output (within 1e-5 of the output's range) on the
same network.
"""

import time

import numpy as np
import pytest

from et_denoise.engine.n2v import N2VParams, train
from et_denoise.engine.n2v import tiling
from et_denoise.engine.sample import make_sample

VOLUME_SHAPE = (8, 1024, 1024)


@pytest.fixture(scope="module")
def models():
    sample = make_sample(seed=0)
    return {kernel: train([sample.noisy], N2VParams(mask="horizontal:11", unet_kernel=kernel, epochs=1,
                                                    steps_per_epoch=10))
            for kernel in (5, 3)}


@pytest.fixture(scope="module")
def volume():
    return np.random.default_rng(1).normal(100.0, 20.0, VOLUME_SHAPE).astype(np.float32)


def _eager(network):
    keras_model = network.n2v_model.keras_model
    return lambda batch: np.asarray(keras_model(batch[..., np.newaxis], training=False), dtype=np.float32)[..., 0]


def _first_release(model, monkeypatch):
    """Predict as the first release did: one eager Keras call per tile."""
    def predict(image):
        with monkeypatch.context() as patch:
            patch.setattr(tiling, "MAX_TILES_PER_BATCH", 1)
            patch.setattr(model.network, "predict", _eager(model.network))
            return model.predict(image, flips=False)
    return predict


def _cpu_seconds(predict, volume):
    start = time.process_time()
    out = predict(volume)
    return time.process_time() - start, out


def test_prediction_takes_at_least_2_5x_less_cpu_per_gb_than_the_first_release(models, volume, monkeypatch):
    old, new = _first_release(models[5], monkeypatch), lambda image: models[3].predict(image, flips=False)
    old(volume[:1]), new(volume[:1])  # traced and warmed
    runs = {"old": [], "new": []}
    for _ in range(2):
        for name, predict in (("old", old), ("new", new)):
            runs[name].append(_cpu_seconds(predict, volume)[0])
    gigabytes = volume.nbytes / 1e9
    old_s, new_s = min(runs["old"]), min(runs["new"])
    print(f"\nStructN2V prediction, {'x'.join(map(str, VOLUME_SHAPE))} float32, 32 filters, depth 2, CPU seconds per GB "
          f"(fastest of 2): first release (5x5, eager, one tile per call) {old_s / gigabytes:.0f}, "
          f"today (3x3, folded, traced, batched) {new_s / gigabytes:.0f}, ratio {old_s / new_s:.2f}")
    assert old_s >= 2.5 * new_s


def test_the_traced_batched_path_gives_the_eager_output(models, volume, monkeypatch):
    model = models[3]
    eager = _first_release(model, monkeypatch)(volume[:4])
    traced = model.predict(volume[:4], flips=False)
    assert np.abs(traced - eager).max() <= 1e-5 * float(eager.max() - eager.min())
