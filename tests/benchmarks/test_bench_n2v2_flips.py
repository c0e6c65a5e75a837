"""Benchmark: n2v's N2V2 network options and test-time flips, on the sample's structured noise models.

Run with ``make bench`` (or ``pytest tests/benchmarks/test_bench_n2v2_flips.py -s -o addopts=""``).
About 10 minutes on 2 cores.

For each reconstruction noise model of the sample (``wbp``, ``fbp``, ``sirt``), StructN2V
(mask ``horizontal:11``, 2-D, the app's defaults but 16 filters and 360 steps) is trained
twice: with the default network and with N2V2's (Höck et al. 2022: blur pooling and no
top skip connection).  Both predict without flips; the default network also with
test-time flips.  PSNR is against the noise-free sample.  An option is the app's
default only where it gains on every model: the benchmark asserts that the defaults
were chosen so (flips on, N2V2 off).
"""

import pytest

from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.n2v import N2VParams, train
from et_denoise.engine.sample import make_sample

MODELS = ("wbp", "fbp", "sirt")
PARAMS = N2VParams(minutes=0, mask="horizontal:11", unet_filters=16, epochs=3, steps_per_epoch=120, learning_rate=8e-4)


def _scores(noise):
    sample = make_sample(seed=0, noise=noise)
    default = train([sample.noisy], PARAMS)
    n2v2 = train([sample.noisy], PARAMS.replace(blur_pool=True, top_skip=False))
    return {"noisy": psnr(sample.clean, sample.noisy),
            "default": psnr(sample.clean, default.predict(sample.noisy, flips=False)),
            "flips": psnr(sample.clean, default.predict(sample.noisy, flips=True)),
            "n2v2": psnr(sample.clean, n2v2.predict(sample.noisy, flips=False))}


@pytest.fixture(scope="module")
def scores():
    table = {noise: _scores(noise) for noise in MODELS}
    print(f"\nStructN2V horizontal:11, 2-D, {PARAMS.unet_filters} filters, "
          f"{PARAMS.epochs * PARAMS.steps_per_epoch} steps; PSNR (dB)")
    print("| noise model | noisy | default network | + test-time flips | N2V2 network |")
    print("|---|---|---|---|---|")
    for noise, row in table.items():
        print(f"| `{noise}` | {row['noisy']:.2f} | {row['default']:.2f} | {row['flips']:.2f} "
              f"({row['flips'] - row['default']:+.2f}) | {row['n2v2']:.2f} ({row['n2v2'] - row['default']:+.2f}) |")
    return table


def test_test_time_flips_are_on_by_default_because_they_gain_on_every_model(scores):
    assert all(row["flips"] > row["default"] for row in scores.values())
    assert N2VParams().test_time_flips


def test_the_n2v2_network_is_off_by_default_because_it_does_not_gain_everywhere(scores):
    assert not all(row["n2v2"] > row["default"] for row in scores.values())
    assert not N2VParams().blur_pool and N2VParams().top_skip

