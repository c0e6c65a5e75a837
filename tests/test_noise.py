"""The noise σ estimate: right for white and for correlated noise, on images with structure."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.restoration import estimate_sigma

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.analysis.noise import estimate_noise_sigma

SHAPE = (256, 256)


def piecewise_smooth(shape, seed):
    """Ellipses of random contrast with gentle internal gradients on a sloping background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(float)
    image = 0.3 * np.sin(xx / 40) + 0.2 * yy / shape[0]
    for _ in range(25):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        ry, rx = rng.uniform(5, 40, 2)
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        image[inside] += rng.uniform(-1, 1) + 0.01 * (xx[inside] - cx)
    return image


def noise(shape, kind, sigma, seed):
    """Gaussian noise of standard deviation ``sigma``: white, or a 7-pixel box along X or Y."""
    rng = np.random.default_rng(seed)
    n = rng.standard_normal((shape[0] + 20, shape[1] + 20))
    if kind == "x":
        n = ndimage.convolve1d(n, np.ones(7), axis=1)
    elif kind == "y":
        n = ndimage.convolve1d(n, np.ones(7), axis=0)
    n = n[10:-10, 10:-10]
    return n * (sigma / n.std())


@pytest.mark.parametrize("kind", ["white", "x", "y"])
@pytest.mark.parametrize("sigma", [0.1, 0.3])
@pytest.mark.parametrize("seed", [0, 1])
def test_sigma_within_20_percent_for_white_and_correlated_noise(kind, sigma, seed):
    image = piecewise_smooth(SHAPE, seed) + noise(SHAPE, kind, sigma, seed + 10)
    assert estimate_noise_sigma(image) == pytest.approx(sigma, rel=0.2)


def test_correlated_noise_where_wavelet_estimate_fails():
    image = piecewise_smooth(SHAPE, 2) + noise(SHAPE, "x", 0.2, 3)
    assert estimate_sigma(image) < 0.1  # scikit-image's estimate: over 2x too low
    assert estimate_noise_sigma(image) == pytest.approx(0.2, rel=0.2)


def test_noise_correlated_along_both_axes():
    rng = np.random.default_rng(4)
    correlated = ndimage.gaussian_filter(rng.standard_normal(SHAPE), 1.2)
    correlated *= 0.2 / correlated.std()
    image = piecewise_smooth(SHAPE, 4) + correlated
    assert estimate_noise_sigma(image) == pytest.approx(0.2, rel=0.2)


def test_pure_noise_without_signal():
    assert estimate_noise_sigma(noise(SHAPE, "x", 5.0, 5)) == pytest.approx(5.0, rel=0.1)


def test_integer_data_are_not_quantised():
    clean = 100 + 60 * piecewise_smooth(SHAPE, 6)
    image = np.clip(np.round(clean + noise(SHAPE, "x", 3.0, 7)), 0, 255).astype(np.uint8)
    assert estimate_noise_sigma(image) == pytest.approx(3.0, rel=0.2)
    assert estimate_noise_sigma(image.astype(np.float32)) == estimate_noise_sigma(image)


def test_scales_with_the_data():
    image = piecewise_smooth(SHAPE, 8) + noise(SHAPE, "white", 0.2, 9)
    assert estimate_noise_sigma(1000 * image) == pytest.approx(1000 * estimate_noise_sigma(image))


def test_volume_uses_inner_planes():
    planes = [piecewise_smooth((128, 128), seed) + noise((128, 128), "x", sigma, seed)
              for seed, sigma in enumerate([5.0, 0.2, 0.2, 0.2, 5.0])]
    # The middle three planes are examined; the noisy first and last ones are not.
    assert estimate_noise_sigma(np.stack(planes)) == pytest.approx(0.2, rel=0.2)


def test_constant_image_has_no_noise():
    assert estimate_noise_sigma(np.full((32, 32), 7, dtype=np.uint16)) == 0.0


@pytest.mark.parametrize("bad", [np.zeros(50), np.zeros((4, 64)), np.zeros((2, 2, 2, 2)),
                                 np.zeros((16, 16), dtype=complex), np.full((16, 16), np.nan)])
def test_unusable_images_are_refused(bad):
    with pytest.raises(ImageError):
        estimate_noise_sigma(bad)


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        estimate_noise_sigma(np.zeros((16, 16)), max_shift=0)


@pytest.mark.parametrize("dtype, high", [(np.int32, 2**28), (np.int32, None), (np.uint32, None),
                                         (np.uint64, None), (np.int64, None)])
def test_wide_integer_ranges_cost_time_by_pixel_count_only(dtype, high):
    """Values spread up to 2**28 or over a full 32/64-bit range are estimated at once
    (a histogram of the differences' range took minutes and GBs, or failed)."""
    import time

    info = np.iinfo(dtype)
    low, high = (0, high) if high is not None else (info.min, info.max)
    image = np.random.default_rng(0).integers(low, high, size=(64, 64), dtype=dtype, endpoint=True)
    start = time.perf_counter()
    sigma = estimate_noise_sigma(image)
    assert time.perf_counter() - start < 2.0
    # Differences of uniform values are triangular: IQR 0.586 of the range, so σ ≈ 0.307 of it.
    assert sigma == pytest.approx(0.307 * (float(high) - float(low)), rel=0.1)
