"""Benchmark: self-tuned filter parameters against the best setting and against plain J-invariance.

Run with ``make bench`` (or ``pytest tests/benchmarks/test_bench_autotune.py -s -o addopts=""``).

1. On four seeds of the 256×256 built-in sample, for every noise model
   (:data:`engine.sample.NOISE_MODELS`) and each filter with a default grid:
   the PSNR of the setting chosen by :func:`engine.autotune.autotune`
   (structured mask from the autocorrelation), of the one chosen by
   scikit-image's ``calibrate_denoiser`` (single-pixel J-invariance, same
   grid), of the filter's defaults and of the grid's best (against the ground
   truth), and the time autotune took.  Autotune must stay within 0.5 dB of the
   best on every seed (issue #14) and, where the noise is correlated in-plane,
   beat single-pixel J-invariance on average, by more than 1 dB where the
   correlation is positive (``wbp``, ``sirt``): there single-pixel J-invariance
   picks the weakest smoothing in the grid, the failure MEASUREMENTS.md
   describes (its loss is bounded by the grid, so the gap is larger with grids
   reaching weaker settings).  With ``fbp``'s negative side lobes the
   neighbours betray less of a pixel's noise and it loses less (0.3-3 dB).
2. On a real 750×750 tomogram slice (when /work/shared/data is there): the
   suggested mask, the chosen settings and the time (no ground truth).
"""

import glob
import itertools
import time

import numpy as np
import pytest
from skimage.restoration import calibrate_denoiser

from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS, autotune
from et_denoise.engine.filters.diffusion import DIFFUSION
from et_denoise.engine.filters.median import MEDIAN
from et_denoise.engine.filters.nlm import NLM
from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.sample import NOISE_MODELS, make_sample_2d

METHODS = [MEDIAN, DIFFUSION, NLM]
#: The noise models whose noise is correlated within a plane (white and wedge noise are not, in-plane).
CORRELATED_IN_PLANE = ("wbp", "fbp", "sirt")
#: Those whose in-plane correlation is positive next to a pixel.
POSITIVELY_CORRELATED = ("wbp", "sirt")
SEEDS = (0, 1, 2, 3)
ET_SLICES = sorted(glob.glob("/work/shared/data/et_slices/*.tif"))


def _grid_settings(method):
    grid = DEFAULT_GRIDS[method.name]
    return [method.params_type().replace(**dict(zip(grid, values))) for values in itertools.product(*grid.values())]


def _single_pixel_choice(method, noisy):
    grid = DEFAULT_GRIDS[method.name]
    _, (tested, losses) = calibrate_denoiser(
        noisy, lambda image, **values: method.apply(image, method.params_type().replace(**values)),
        {name: list(values) for name, values in grid.items()}, extra_output=True)
    return method.params_type().replace(**tested[int(np.argmin(losses))])


def _short(params, method):
    return ", ".join(f"{name} {getattr(params, name)}" for name in DEFAULT_GRIDS[method.name])


@pytest.mark.parametrize("noise", NOISE_MODELS)
@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_autotune_against_best_and_single_pixel(method, noise):
    rows, gaps, gains = [], [], []
    for seed in SEEDS:
        sample = make_sample_2d(seed=seed, noise=noise)
        truth = {params: psnr(sample.clean, method.apply(sample.noisy, params)) for params in _grid_settings(method)}
        start = time.perf_counter()
        tuned = autotune(method, sample.noisy)
        seconds = time.perf_counter() - start
        single = _single_pixel_choice(method, sample.noisy)
        best = max(truth, key=truth.get)
        default = psnr(sample.clean, method.apply(sample.noisy))
        gaps.append(truth[tuned.params] - truth[best])
        gains.append(truth[tuned.params] - truth[single])
        rows.append(f"{method.name:9s} {noise:5s} seed {seed}: autotune {truth[tuned.params]:5.2f} dB ({_short(tuned.params, method)}) "
                    f"in {seconds:4.1f} s | single-pixel {truth[single]:5.2f} ({_short(single, method)}) | "
                    f"default {default:5.2f} | best {truth[best]:5.2f} ({_short(best, method)}) | "
                    f"noisy {psnr(sample.clean, sample.noisy):5.2f}")
    print("\n" + "\n".join(rows))
    print(f"{method.name} {noise}: autotune - best {np.mean(gaps):+.2f} dB on average, worst {min(gaps):+.2f}; "
          f"autotune - single-pixel {np.mean(gains):+.2f} dB on average")
    assert min(gaps) > -0.5
    if noise in CORRELATED_IN_PLANE:
        assert np.mean(gains) > (1.0 if noise in POSITIVELY_CORRELATED else 0.0)


@pytest.mark.skipif(not ET_SLICES, reason="real tomogram slices not available")
def test_autotune_on_a_real_slice():
    import tifffile

    image = tifffile.imread(ET_SLICES[0]).astype(np.float32)
    analysis = analyse_noise(image)
    print(f"\nreal slice {image.shape}: {analysis.suggestion.explanation}")
    for method in METHODS:
        start = time.perf_counter()
        result = autotune(method, image)
        seconds = time.perf_counter() - start
        print(f"  {method.name:9s}: {_short(result.params, method)} in {seconds:.1f} s (mask {result.mask.shape})")
        assert seconds < 60
