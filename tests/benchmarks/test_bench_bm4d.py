"""Benchmark: BM4D with the noise power spectrum the app estimates, against the app's noise-aware DCT.

Issue #14's target puts the app's best method within 0.5 dB of BM4D with a
power spectrum estimated from the data.  BM4D is licensed for non-commercial
use only: it is never a dependency, and runs in a separate environment named
by ``ET_BM4D_PYTHON`` (a Python with ``pip install bm4d``), through
``bm4d_reference.py``, which imports nothing of ours.  Without it the test is
skipped.  Run with::

    python3.11 -m venv /tmp/bm4d && /tmp/bm4d/bin/pip install bm4d
    ET_BM4D_PYTHON=/tmp/bm4d/bin/python pytest tests/benchmarks/test_bench_bm4d.py -s -o addopts=""

For each noise model of the sample (``ET_BENCH_MODELS`` chooses), using the
noisy volume only: the 3-D noise covariance is estimated as the DCT shrinkage
estimates it (:func:`engine.analysis.noise_spectrum.noise_covariance`, 3-D,
±8 voxels) and turned into bm4d's power spectrum; BM4D and the auto-tuned DCT
shrinkage are scored by PSNR and SSIM against the noise-free sample.  The
StructN2V rows at the same budgets are in ``test_bench_quality.py``'s table.
"""

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from et_denoise.engine.analysis.autotune import autotune
from et_denoise.engine.analysis.noise_spectrum import noise_covariance
from et_denoise.engine.compare.metrics import psnr, ssim
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.sample import NOISE_MODELS, make_sample

BM4D_PYTHON = os.environ.get("ET_BM4D_PYTHON")
MODELS = os.environ.get("ET_BENCH_MODELS", ",".join(NOISE_MODELS)).split(",")
#: Largest shift (voxels, in-plane and along Z) of the estimated noise covariance.
RADIUS = 8


def power_spectrum(covariance: np.ndarray, shape: tuple) -> np.ndarray:
    """bm4d's noise PSD for a volume of ``shape`` from a centred covariance (2rz+1, 2r+1, 2r+1).

    The covariance is placed circularly (zero shift at index 0; shifts longer
    than the volume wrap around) and Fourier transformed; bm4d's PSD is that
    spectrum times the number of voxels (a white noise of variance σ² has the
    constant PSD σ² N).
    """
    circular = np.zeros(shape)
    shifts = [(np.arange(side) - side // 2) % size for side, size in zip(covariance.shape, shape)]
    np.add.at(circular, np.ix_(*shifts), covariance)  # shifts longer than the volume wrap around
    spectrum = np.fft.fftn(circular).real * circular.size
    return np.maximum(spectrum, 1e-6 * spectrum.max())


def test_white_noise_gives_the_flat_spectrum_bm4d_expects():
    covariance = np.zeros((3, 3, 3))
    covariance[1, 1, 1] = 4.0
    np.testing.assert_allclose(power_spectrum(covariance, (4, 8, 8)), 4.0 * 256)


@pytest.mark.skipif(not BM4D_PYTHON, reason="ET_BM4D_PYTHON (a Python with bm4d installed) is not set")
@pytest.mark.timeout(3 * 3600)
def test_bm4d_with_the_estimated_spectrum_against_the_dct_shrinkage(tmp_path):
    print("\n| noise model | noisy | BM4D PSNR | SSIM | s | DCT PSNR | SSIM | s | DCT - BM4D |")
    for noise in MODELS:
        sample = make_sample(seed=0, noise=noise)
        noisy, clean = sample.noisy, sample.clean
        covariance = noise_covariance(noisy, RADIUS, three_d=True)
        source, target = tmp_path / f"{noise}.npz", tmp_path / f"{noise}.npy"
        np.savez(source, noisy=noisy, psd=power_spectrum(covariance, noisy.shape))
        start = time.perf_counter()
        subprocess.run([BM4D_PYTHON, str(Path(__file__).with_name("bm4d_reference.py")), str(source), str(target)],
                       check=True)
        bm4d_seconds, bm4d = time.perf_counter() - start, np.load(target)
        start = time.perf_counter()
        dct = FILTERS["dct"]
        denoised = dct.apply(noisy, autotune(dct, noisy).params)
        dct_seconds = time.perf_counter() - start
        row = (noise, psnr(clean, noisy), psnr(clean, bm4d), ssim(clean, bm4d), bm4d_seconds,
               psnr(clean, denoised), ssim(clean, denoised), dct_seconds)
        print(f"| `{row[0]}` | {row[1]:.2f} | {row[2]:.2f} | {row[3]:.3f} | {row[4]:.0f} | {row[5]:.2f} | "
              f"{row[6]:.3f} | {row[7]:.0f} | {row[5] - row[2]:+.2f} |", flush=True)
        assert row[2] > row[1] + 3  # a spectrum in the wrong scale leaves BM4D near the noisy input
