"""Noise autocorrelation: values, regions, residuals, the high-pass, progress and errors."""

import numpy as np
import pytest
from scipy import ndimage

from et_denoise.engine.analysis.autocorr import (MATCH_TOLERANCE, noise_autocorrelation, residual_autocorrelation,
                                                 residual_verdict)
from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.region import parse_region
from et_denoise.engine.sample import make_sample_2d


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d(seed=0)


def _noise(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_box_correlated_noise_gives_the_known_profile():
    noise = ndimage.uniform_filter1d(_noise((256, 256)), 5, axis=1, mode="wrap")
    acf = noise_autocorrelation(noise, radius=6, highpass_sigma=0)
    assert acf.values.shape == (13, 13)
    assert acf.values[6, 6] == 1.0
    expected = np.clip(1 - np.abs(acf.shifts) / 5, 0, None)  # a box of 5: 0.8, 0.6, ... 0
    np.testing.assert_allclose(acf.profile_x, expected, atol=0.03)
    assert np.abs(acf.profile_y[acf.shifts != 0]).max() < 0.03


def test_three_d_shifts_match_a_direct_computation():
    base = _noise((10, 40, 50))
    volume = base + np.roll(base, (1, -2, 3), axis=(0, 1, 2))  # correlated at shift (1, -2, 3)
    acf = noise_autocorrelation(volume, radius=4, highpass_sigma=0)
    assert acf.values.shape == (9, 9, 9)
    centred = volume - volume.mean(axis=(1, 2), keepdims=True)
    for shift in [(1, -2, 3), (-1, 2, -3), (0, 1, 0), (2, 0, -1)]:
        # mean of x(p) * x(p + shift) over the pixels where both exist, over the variance
        first = centred[tuple(slice(max(0, -s), n - max(0, s)) for s, n in zip(shift, centred.shape))]
        second = centred[tuple(slice(max(0, s), n - max(0, -s)) for s, n in zip(shift, centred.shape))]
        direct = (first * second).mean() / (centred ** 2).mean()
        assert acf.values[tuple(4 + s for s in shift)] == pytest.approx(direct, abs=1e-4)
    assert acf.values[5, 2, 7] == pytest.approx(0.5, abs=0.05)
    assert len(acf.profile_z) == 9 and acf.profile_z[4] == 1.0


def test_two_d_of_a_volume_averages_planes():
    volume = _noise((4, 64, 64))
    acf = noise_autocorrelation(volume, radius=3, three_d=False)
    assert acf.values.shape == (7, 7)
    np.testing.assert_array_equal(acf.profile_z, [1.0])


def test_region_analyses_only_the_box():
    white = _noise((128, 256))
    correlated = ndimage.uniform_filter1d(_noise((128, 256), seed=1), 7, axis=1)
    image = np.concatenate([white[:, :128], correlated[:, 128:]], axis=1)
    left = noise_autocorrelation(image, region=(0, 128, 0, 128), radius=4, highpass_sigma=0)
    right = noise_autocorrelation(image, region=parse_region("0:128,128:", image.shape), radius=4,
                                  highpass_sigma=0)
    assert abs(left.profile_x[5]) < 0.05
    assert right.profile_x[5] > 0.8
    assert "region 0:128,128:256" in right.source


def test_residual_of_the_sample_is_its_noise(sample):
    acf = residual_autocorrelation(sample.noisy, sample.clean, radius=5, flat_fraction=1)
    direct = noise_autocorrelation(sample.noisy - sample.clean, radius=5, highpass_sigma=0, flat_fraction=1)
    np.testing.assert_allclose(acf.values, direct.values, atol=1e-6)
    assert acf.profile_x[6] > 0.5  # the sample's noise is correlated along X ...
    assert abs(acf.profile_y[6]) < 0.05  # ... and not along Y


def test_a_residual_is_measured_where_the_raw_data_are_flat_so_blurred_edges_hardly_count(sample):
    noise_only = residual_autocorrelation(sample.noisy, sample.clean, radius=6, flat_fraction=1).values
    blurred = ndimage.gaussian_filter(sample.clean, 2)  # a denoiser that blurs: its residual holds edges
    everywhere = residual_autocorrelation(sample.noisy, blurred, radius=6, flat_fraction=1).values
    flattest = residual_autocorrelation(sample.noisy, blurred, radius=6)
    assert np.abs(flattest.values - noise_only).max() < 0.5 * np.abs(everywhere - noise_only).max()
    assert "where the raw data are flattest (50%)" in flattest.source


def test_high_pass_removes_the_signal_correlation_of_raw_data(sample):
    noise_only = residual_autocorrelation(sample.noisy, sample.clean, radius=6).values
    raw = noise_autocorrelation(sample.noisy, radius=6, highpass_sigma=0, flat_fraction=1).values
    high_passed = noise_autocorrelation(sample.noisy, radius=6, flat_fraction=1).values
    flattest = noise_autocorrelation(sample.noisy, radius=6).values  # high-passed, its flattest half
    assert np.abs(raw - noise_only).max() > 0.25  # the structures look like correlated noise
    assert np.abs(high_passed - noise_only).max() < 0.15
    assert np.abs(flattest - noise_only).max() < 0.75 * np.abs(high_passed - noise_only).max()
    assert "flattest 50%" in noise_autocorrelation(sample.noisy, radius=6).source


def test_the_flattest_tiles_are_chosen_without_biasing_pure_noise():
    line = ndimage.uniform_filter1d(_noise((512, 512)), 4, axis=1)  # correlated along X only
    acf = noise_autocorrelation(line, radius=3, highpass_sigma=0)
    assert acf.profile_x[4] > 0.7
    assert abs(acf.profile_y[4]) < 0.04  # choosing single flat pixels gave -0.06 here
    with pytest.raises(ParameterError, match="flat fraction"):
        noise_autocorrelation(line, flat_fraction=0)


def test_progress_reaches_one_once_and_cancel_stops():
    volume = _noise((6, 32, 32))
    reports = []
    noise_autocorrelation(volume, radius=3, progress=reports.append)
    assert reports.count(1.0) == 1 and reports[-1] == 1.0
    assert reports == sorted(reports)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        noise_autocorrelation(volume, radius=3, cancel=token)


def test_bad_inputs_raise_clear_errors():
    image = _noise((64, 64))
    with pytest.raises(ParameterError, match="radius of 12 px needs at least 13"):
        noise_autocorrelation(image, region=(0, 8, 0, 64), radius=12)
    with pytest.raises(ImageError, match="same size"):
        residual_autocorrelation(image, image[:32])
    with pytest.raises(ImageError, match="constant"):
        noise_autocorrelation(np.ones((32, 32)), radius=3)
    with pytest.raises(ImageError, match="a 2-D image or a 3-D stack"):
        noise_autocorrelation(np.ones(32), radius=3)
    with pytest.raises(ImageError, match="NaN"):
        noise_autocorrelation(np.full((32, 32), np.nan), radius=3, highpass_sigma=0)


def test_a_residual_correlated_like_the_noise_matches_and_one_that_kept_structure_does_not():
    noise = ndimage.uniform_filter1d(_noise((256, 256)), 5, axis=1, mode="wrap")
    reference = noise_autocorrelation(noise, radius=6, highpass_sigma=0)
    removed_all = residual_autocorrelation(noise, np.zeros_like(noise), radius=6)
    matches, text = residual_verdict(removed_all, reference)
    assert matches and "correlated like the raw noise" in text
    # predicting each pixel from its horizontal neighbours copies the correlated noise into the result
    neighbours = ndimage.correlate1d(noise, [0.5, 0.0, 0.5], axis=-1, mode="wrap")
    matches, text = residual_verdict(residual_autocorrelation(noise, neighbours, radius=6), reference)
    assert not matches and "Δy +0 px" in text
    largest = float(text.split("by up to ")[1].split(" ")[0])
    assert largest > 3 * MATCH_TOLERANCE
    with pytest.raises(ParameterError, match="same radius"):
        residual_verdict(residual_autocorrelation(noise, neighbours, radius=4), reference)
