"""The median filter gives scipy's result, fast paths included, and behaves as a long job."""

import numpy as np
import pytest
import scipy.ndimage as ndi

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters.median import MEDIAN, SLAB_PLANES, MedianParams, median, median_footprint

DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.float64]


def _random(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _reference(image, size, footprint, mode):
    """scipy's median with the same window and mirrored borders, per plane in 2-D mode."""
    window = median_footprint(size, footprint, 3 if mode == "3d" else 2)
    if mode == "2d" and image.ndim == 3:
        window = window[np.newaxis]
    return ndi.median_filter(image, footprint=window, mode="reflect").astype(np.float32)


def _half_level(image):
    """The documented bound for large windows on data with many distinct values."""
    return (float(image.max()) - float(image.min())) / 131070


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("footprint", ["square", "disk"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
def test_small_windows_equal_scipy_exactly_2d(dtype, footprint, size):
    stack = _random((3, 21, 26), dtype)
    out = median(stack, size=size, footprint=footprint)
    np.testing.assert_array_equal(out, _reference(stack, size, footprint, "2d"))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("footprint", ["square", "disk"])
@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_small_windows_equal_scipy_exactly_3d(dtype, footprint, size):
    volume = _random((9, 14, 17), dtype)
    out = median(volume, size=size, footprint=footprint, mode="3d")
    np.testing.assert_array_equal(out, _reference(volume, size, footprint, "3d"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("footprint", ["square", "disk"])
@pytest.mark.parametrize("size", [14, 15])
def test_large_windows_equal_scipy_2d(dtype, footprint, size):
    image = _random((40, 45), dtype, seed=1)
    out = median(image, size=size, footprint=footprint)
    reference = _reference(image, size, footprint, "2d")
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(out, reference)
    else:
        assert np.all(np.abs(out - reference) <= _half_level(image) + np.spacing(reference))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("footprint, size", [("square", 6), ("disk", 7)])
def test_large_windows_equal_scipy_3d(dtype, footprint, size):
    volume = _random((8, 12, 13), dtype, seed=2)
    out = median(volume, size=size, footprint=footprint, mode="3d")
    reference = _reference(volume, size, footprint, "3d")
    if dtype == np.uint16:
        np.testing.assert_array_equal(out, reference)
    else:
        assert np.all(np.abs(out - reference) <= _half_level(volume) + np.spacing(reference))


@pytest.mark.parametrize("dtype, offset", [(np.uint8, 0), (np.uint16, 3000), (np.int16, -700)])
@pytest.mark.parametrize("size", [13, 31])
def test_8bit_values_in_large_windows_are_exact(dtype, offset, size):
    image = (np.random.default_rng(3).integers(0, 256, (2, 45, 40)) + offset).astype(dtype)
    np.testing.assert_array_equal(median(image, size=size), _reference(image, size, "square", "2d"))


def test_float_data_with_many_values_stays_within_half_a_level():
    rng = np.random.default_rng(4)
    image = rng.normal(size=(50, 50)).astype(np.float32)
    image[0, 0] = 3000.0  # one outlier makes the 65,536 levels coarse: 0.046 wide
    out = median(image, size=13)
    error = np.abs(out - _reference(image, 13, "square", "2d"))
    assert error.max() > 0  # the quantisation is visible ...
    assert np.all(error <= _half_level(image) + np.spacing(out))  # ... and bounded


def test_windows_larger_than_the_image_mirror_like_scipy():
    image = _random((3, 4), np.float32, seed=5)
    for size in (3, 9, 12):
        np.testing.assert_array_equal(median(image, size=size),
                                      _reference(image, size, "square", "2d"))
    volume = _random((2, 3, 4), np.uint16, seed=5)
    np.testing.assert_array_equal(median(volume, size=5, mode="3d"),
                                  _reference(volume, 5, "square", "3d"))


def test_footprints():
    assert median_footprint(4).shape == (4, 4) and median_footprint(4).all()
    disk = median_footprint(5, "disk")
    assert disk.sum() == 21 and not disk[0, 0] and disk[0, 2] and disk[2, 0]
    ball = median_footprint(3, "disk", ndim=3)
    assert ball.sum() == 19 and not ball[0, 0, 0]


def test_returns_a_new_float32_array_and_leaves_the_input_alone():
    image = _random((20, 20), np.float32)
    kept = image.copy()
    out = median(image, size=3)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert not np.shares_memory(out, image)
    np.testing.assert_array_equal(image, kept)
    assert median(image.astype(np.uint8), size=15).dtype == np.float32


def test_whole_number_sizes_given_as_floats_are_accepted():
    image = _random((20, 20), np.float32)
    np.testing.assert_array_equal(median(image, size=15.0), median(image, size=15))


def test_constant_image_stays_constant():
    for size in (3, 20):
        np.testing.assert_array_equal(median(np.full((25, 25), 7.5), size=size), 7.5)


def test_thread_count_does_not_change_the_result():
    image = _random((2, 30, 33), np.float32, seed=6)
    for size in (5, 14):
        np.testing.assert_array_equal(median(image, size=size, workers=1),
                                      median(image, size=size, workers=3))


def test_method_applies_its_parameters():
    image = _random((30, 30), np.float32, seed=7)
    params = MedianParams(size=3, footprint="disk")
    np.testing.assert_array_equal(MEDIAN.apply(image, params),
                                  median(image, size=3, footprint="disk"))
    assert MEDIAN.name == "median" and MEDIAN.params_type is MedianParams


@pytest.mark.parametrize("kwargs, words", [
    (dict(size=0), "at least 1"),
    (dict(size=100), "at most 99"),
    (dict(size=2.5), "whole number"),
    (dict(footprint="circle"), "square, disk"),
    (dict(mode="4d"), "2d, 3d"),
    (dict(mode="3d"), "stack of planes"),
])
def test_bad_parameters_are_refused_with_a_clear_message(kwargs, words):
    with pytest.raises(ParameterError, match=words):
        median(np.zeros((10, 10), np.float32), **kwargs)


@pytest.mark.parametrize("image, words", [
    (np.zeros(10), "a 2-D image or a 3-D stack"),
    (np.zeros((2, 2, 2, 2)), "a 2-D image or a 3-D stack"),
    (np.zeros((0, 5)), "empty"),
    (np.zeros((5, 5), bool), "real numbers"),
    (np.zeros((5, 5), complex), "real numbers"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
    (np.array([[1.0, np.inf], [0.0, 1.0]], np.float32), "infinite"),
])
def test_bad_images_are_refused_with_a_clear_message(image, words):
    with pytest.raises(ImageError, match=words):
        median(image, size=3)


@pytest.mark.parametrize("mode, depth, steps", [("2d", 5, 5), ("3d", 2 * SLAB_PLANES + 1, 3)])
def test_progress_is_monotone_and_reaches_one_once(mode, depth, steps):
    fractions = []
    median(_random((depth, 16, 16), np.float32), size=3, mode=mode, progress=fractions.append)
    assert fractions == sorted(fractions) and len(fractions) == steps + 1
    assert fractions.count(1.0) == 1 and fractions[-1] == 1.0


@pytest.mark.parametrize("mode, size", [("2d", 3), ("2d", 14), ("3d", 3)])
def test_cancel_after_the_first_plane_stops_the_filter(mode, size, cancel_at_first_report):
    cancelling = cancel_at_first_report
    with pytest.raises(Cancelled):
        median(_random((4 * SLAB_PLANES, 16, 16), np.float32), size=size, mode=mode,
               progress=cancelling, cancel=cancelling.token)
    assert len(cancelling.reports) == 1 and cancelling.reports[0] < 1.0


def _psnr(image, clean):
    return 10 * np.log10(np.ptp(clean) ** 2 / np.mean((image - clean) ** 2))


@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_denoising_raises_psnr(mode):
    rng = np.random.default_rng(8)
    z, y, x = np.mgrid[0:8, 0:64, 0:64]
    clean = ((np.hypot(y - 32, x - 32) < 18) * 100.0 + (z * 5.0)).astype(np.float32)
    noisy = clean + rng.normal(0, 20, clean.shape).astype(np.float32)
    spikes = rng.random(clean.shape) < 0.05
    noisy[spikes] = rng.choice([-300.0, 400.0], spikes.sum())
    denoised = median(noisy, size=5, mode=mode)
    assert _psnr(denoised, clean) > _psnr(noisy, clean) + 10
