"""Benchmark: the noise-analysis pipeline on the built-in sample, end to end.

Run with ``make bench`` (or ``pytest tests/benchmarks/test_bench_noise_pipeline.py -s -o addopts=""``);
the table is printed for the README.  About 5 minutes on 2 cores.

On the 32×256×256 sample (noise correlated along X), using only the noisy
volume until the scores are computed:

1. :func:`engine.mask_suggestion.analyse_noise` suggests the blind-spot mask
   (a horizontal line, ``horizontal:11``).
2. Each classic filter (median, anisotropic diffusion, non-local means) is
   tuned by :func:`engine.autotune.autotune` and applied to the whole volume
   with the chosen setting; the best of the three is the classic baseline.
3. StructN2V with the suggested mask and plain N2V (mask ``none``) train the
   same network with the same settings and the same number of steps (2-D mode).

Every result is scored by PSNR against the noise-free ground truth.  StructN2V
must beat plain N2V (which learns the correlated noise) and the best of the
auto-tuned classic filters.  The network's settings are the app's defaults
(cosine learning-rate schedule, 1 % blind spots) except for a short training
(6 x 100 steps, about 2 minutes on 2 cores) and a higher learning rate.
"""

import time

import pytest

from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS, autotune
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.n2v import EventKind, N2VParams, train
from et_denoise.engine.sample import make_sample

TRAINING = N2VParams(minutes=0, mode="2d", patch_size=64, unet_depth=2, unet_filters=32, batch_size=16,
                     learning_rate=8e-4, epochs=6, steps_per_epoch=100, seed=0)
CLASSIC = ("median", "diffusion", "nlm")


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _tuned_filter(name, noisy):
    """Autotune on the noisy volume, then filter the whole volume with the chosen setting."""
    method = FILTERS[name]
    tuned = autotune(method, noisy)
    return method.apply(noisy, tuned.params), tuned.params


def _trained_network(mask, noisy):
    """Train on the noisy volume and denoise it; the parameters string names the mask and the steps run."""
    events = []
    model = train([noisy], TRAINING.replace(mask=mask), progress=events.append)
    steps = sum(event.kind is EventKind.BATCH for event in events)
    return model.predict(noisy), f"mask {mask}, {steps} steps"


def _short(params, names):
    return ", ".join(f"{name} {getattr(params, name)}" for name in names)


@pytest.fixture(scope="module")
def sample():
    return make_sample(seed=0)


@pytest.mark.timeout(2400)
def test_structn2v_with_suggested_mask_against_plain_n2v_and_tuned_filters(sample):
    noisy, clean = sample.noisy, sample.clean
    noisy_psnr = psnr(clean, noisy)
    analysis, analysis_s = _timed(analyse_noise, noisy)
    suggested = analysis.suggestion.spec
    assert suggested == "horizontal:11", analysis.suggestion.explanation

    rows = [("noisy input", "", noisy_psnr, 0.0)]
    classic = {}
    for name in CLASSIC:
        (denoised, params), seconds = _timed(_tuned_filter, name, noisy)
        classic[name] = psnr(clean, denoised)
        rows.append((f"{name} (auto-tuned)", _short(params, DEFAULT_GRIDS[name]), classic[name], seconds))
        print(f"\n{rows[-1]}", flush=True)
    networks = {}
    for label, mask in (("plain N2V", "none"), ("StructN2V", suggested)):
        (denoised, description), seconds = _timed(_trained_network, mask, noisy)
        networks[label] = psnr(clean, denoised)
        rows.append((label, description, networks[label], seconds))
        print(f"\n{rows[-1]}", flush=True)

    print(f"\nsample {noisy.shape}; noise analysis {analysis_s:.1f} s: {analysis.suggestion.explanation}")
    print(f"networks: 2-D, patch {TRAINING.patch_size}, U-Net depth {TRAINING.unet_depth}, "
          f"{TRAINING.unet_filters} filters, batch {TRAINING.batch_size}, learning rate {TRAINING.learning_rate:g}, "
          f"{TRAINING.epochs} x {TRAINING.steps_per_epoch} steps, {TRAINING.lr_schedule} schedule, "
          f"{TRAINING.masked_fraction:g} % blind spots (best validation epoch kept)")
    print(f"| {'method':22s} | {'parameters':40s} | PSNR (dB) | gain (dB) | time (s) |")
    print(f"|{'-' * 24}|{'-' * 42}|-----------|-----------|----------|")
    for method, params, value, seconds in rows:
        print(f"| {method:22s} | {params:40s} | {value:9.2f} | {value - noisy_psnr:+9.2f} | {seconds:8.1f} |")
    best_classic = max(classic, key=classic.get)
    print(f"StructN2V {networks['StructN2V'] - classic[best_classic]:+.2f} dB against the best classic filter "
          f"({best_classic})")
    assert networks["StructN2V"] > networks["plain N2V"] + 3.0
    assert networks["StructN2V"] > classic[best_classic]
