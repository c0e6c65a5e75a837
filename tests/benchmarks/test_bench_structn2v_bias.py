"""Benchmark: StructN2V's mean shift and contrast on every noise model of the sample and on real slices.

Run with ``pytest tests/benchmarks/test_bench_structn2v_bias.py -s -o addopts=""``.

1. Sample, 256×256, each noise model of :data:`engine.sample.NOISE_MODELS`:
   StructN2V trained for 400 steps with the mask the noise analysis suggests;
   printed: PSNR, the mean shift in flat background (the 30 % of pixels where
   the clean image varies least) in % of the input's data range, and the
   contrast (slope of the output against the clean image, both smoothed by a
   Gaussian of σ = 2 px so that resolution does not count) next to the best
   median/diffusion setting's.  Asserted: the shift is within 1 % of the range.
2. Real slices (when /work/shared/data is there): a 256×256 crop of three
   slices, masks square:3 (the suggestion), cross:5 and square:7: mean shift in
   flat background (grey levels and % of the range) and the slope of the
   output against the input, both smoothed (σ = 3 px; no ground truth).
   Asserted for the suggested square:3: the shift is within 1 % of the range.
   Measured (slice 0011, 200 steps, patch 48): square:3 +1.8 grey levels
   (0.7 %), slope 0.68 (n2v's own filling: +9.8, 3.9 %, 0.59); square:7 +5.6
   (2.2 %), slope 0.75 (n2v's: +24.6, 9.6 %, 0.26): the larger masks are not
   within 1 % yet.
"""

import glob

import numpy as np
import pytest
from scipy import ndimage

from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.filters.diffusion import anisotropic_diffusion
from et_denoise.engine.filters.median import median
from et_denoise.engine.io import read_image
from et_denoise.engine.n2v import N2VParams, train
from et_denoise.engine.sample import NOISE_MODELS, make_sample_2d

STEPS = dict(minutes=0, patch_size=64, epochs=4, steps_per_epoch=100, batch_size=16)
ET_SLICES = sorted(glob.glob("/work/shared/data/et_slices/*.tif"))


def _flat(reference, fraction=0.3):
    mean = ndimage.uniform_filter(reference, 9)
    spread = np.sqrt(np.maximum(ndimage.uniform_filter(reference * reference, 9) - mean * mean, 0))
    return spread <= np.quantile(spread, fraction)


def _slope(result, reference, sigma):
    a, b = ndimage.gaussian_filter(result, sigma), ndimage.gaussian_filter(reference, sigma)
    b = b - b.mean()
    return float(np.sum((a - a.mean()) * b) / np.sum(b * b))


def _shift(result, noisy, flat):
    return float(result[flat].mean() - noisy[flat].mean())


@pytest.mark.parametrize("noise", list(NOISE_MODELS))
def test_sample_mean_shift_and_contrast(noise):
    sample = make_sample_2d((256, 256), seed=0, noise=noise)
    suggestion = analyse_noise(sample.noisy).suggestion
    mask = suggestion.spec or "square:3"
    result = train([sample.noisy], N2VParams(mask=mask, **STEPS)).predict(sample.noisy)
    classics = [median(sample.noisy, size=s) for s in (3, 5, 7, 9)]
    classics += [anisotropic_diffusion(sample.noisy, iterations=n) for n in (10, 30, 100)]
    best = max(classics, key=lambda r: psnr(sample.clean, r))
    flat = _flat(sample.clean)
    shift = _shift(result, sample.noisy, flat) / np.ptp(sample.noisy)
    print(f"\n{noise}: mask {mask}; StructN2V {psnr(sample.clean, result):.2f} dB, mean shift {shift:+.2%} of "
          f"the range, contrast {_slope(result, sample.clean, 2):.3f}; best classic "
          f"{psnr(sample.clean, best):.2f} dB, contrast {_slope(best, sample.clean, 2):.3f}")
    assert abs(shift) < 0.01


@pytest.mark.skipif(not ET_SLICES, reason="no real slices here")
@pytest.mark.parametrize("mask", ["square:3", "cross:5", "square:7"])
def test_real_slices_mean_shift(mask):
    for path in ET_SLICES[::7]:
        image = read_image(path).data.astype(np.float32)[200:456, 200:456]
        result = train([image], N2VParams(mask=mask, **STEPS)).predict(image)
        smooth = ndimage.gaussian_filter(image, 3)
        flat = _flat(smooth, 0.2)
        shift = _shift(result, image, flat)
        print(f"\n{path.rsplit('/', 1)[-1]} {mask}: mean shift {shift:+.2f} grey levels "
              f"({shift / np.ptp(image):+.2%} of the range), slope against the input {_slope(result, image, 3):.3f}")
        if mask == "square:3":
            assert abs(shift) < 0.01 * np.ptp(image)
