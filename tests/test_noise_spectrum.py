"""Coefficient variances of a block DCT under correlated noise: exact against Monte-Carlo, measured from data."""

import numpy as np
import pytest
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from et_denoise.engine.analysis.noise_spectrum import coefficient_variance, noise_covariance
from et_denoise.engine.errors import ParameterError

KERNEL = np.array([0.2, 0.6, 1.0, 0.6, 0.2, -0.3])  # asymmetric, with a negative lobe as after a ramp filter


def _correlated_noise(shape, seed=0):
    """White noise convolved along X with KERNEL (rows stay independent)."""
    white = np.random.default_rng(seed).normal(size=(shape[0], shape[1] + len(KERNEL) - 1))
    return sliding_window_view(white, len(KERNEL), axis=1) @ KERNEL[::-1]


def _true_covariance(radius):
    """Covariance of the noise of :func:`_correlated_noise` at shifts (dy, dx), |d| <= radius."""
    lags = np.correlate(KERNEL, KERNEL, mode="full")  # lags -5..5
    covariance = np.zeros((2 * radius + 1, 2 * radius + 1))
    for lag, value in zip(range(-5, 6), lags):
        if abs(lag) <= radius:
            covariance[radius, radius + lag] = value
    return covariance


def _dct(side):
    return scipy.fft.dct(np.eye(side), norm="ortho", axis=0)


def test_exact_variance_matches_the_coefficients_of_correlated_noise():
    noise = _correlated_noise((400, 400))
    blocks = sliding_window_view(noise, (8, 8))[::3, ::3]
    measured = scipy.fft.dctn(blocks, axes=(-2, -1), norm="ortho").var(axis=(0, 1))
    exact = coefficient_variance(_true_covariance(7), [_dct(8), _dct(8)])
    np.testing.assert_allclose(exact, measured, rtol=0.08, atol=0.01 * exact.max())
    assert exact.max() / exact.min() > 20  # the spectrum is far from white: one σ would not do


def test_white_noise_gives_every_coefficient_sigma_squared_also_in_3d():
    covariance = np.zeros((5, 7, 7))
    covariance[2, 3, 3] = 2.5
    variance = coefficient_variance(covariance, [_dct(3), _dct(4), _dct(4)])
    np.testing.assert_allclose(variance, 2.5)


def test_measured_covariance_gives_variances_close_to_the_true_ones():
    y, x = np.mgrid[:256, :256]
    signal = 3.0 * (np.hypot(y - 128, x - 100) < 60) + 0.01 * x  # a disc on a ramp
    noisy = signal + _correlated_noise((256, 256), seed=2)
    estimated = coefficient_variance(noise_covariance(noisy, 7), [_dct(8), _dct(8)])
    exact = coefficient_variance(_true_covariance(7), [_dct(8), _dct(8)])
    ratio = estimated / exact
    high = np.add.outer(np.arange(8), np.arange(8)) >= 4  # the high-pass distorts the lowest frequencies
    assert np.all((ratio[high] > 0.7) & (ratio[high] < 1.4))


def test_covariance_and_bases_must_agree():
    with pytest.raises(ParameterError):
        coefficient_variance(np.ones((3, 3)), [_dct(4)])
