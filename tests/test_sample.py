import time

import numpy as np
import pytest
from scipy import ndimage

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.sample import make_sample, make_sample_2d


@pytest.fixture(scope="module")
def timed_default():
    start = time.perf_counter()
    sample = make_sample()
    return sample, time.perf_counter() - start


@pytest.fixture(scope="module")
def default(timed_default):
    return timed_default[0]


def correlation(noise, shift, axis):
    """Normalised autocorrelation of ``noise`` at ``shift`` pixels along ``axis``."""
    noise = noise - noise.mean()
    a = np.moveaxis(noise, axis, -1)
    return float(np.mean(a[..., shift:] * a[..., :-shift]) / np.mean(a * a))


def test_default_generates_in_a_few_seconds(timed_default):
    sample, seconds = timed_default
    assert sample.noisy.shape == (32, 256, 256)
    assert seconds < 15


def test_arrays_are_float32_of_the_requested_shape():
    sample = make_sample((12, 40, 56), seed=1)
    for array in (sample.noisy, sample.clean):
        assert array.shape == (12, 40, 56) and array.dtype == np.float32
    assert sample.voxel_size == (10.0, 10.0, 10.0)
    flat = make_sample_2d((48, 72), seed=1)
    for array in (flat.noisy, flat.clean):
        assert array.shape == (48, 72) and array.dtype == np.float32


def test_same_seed_gives_identical_arrays_and_another_seed_other_noise():
    first, again = make_sample((8, 48, 48), seed=3), make_sample((8, 48, 48), seed=3)
    np.testing.assert_array_equal(first.noisy, again.noisy)
    np.testing.assert_array_equal(first.clean, again.clean)
    other = make_sample((8, 48, 48), seed=4)
    assert not np.allclose(first.noisy - first.clean, other.noisy - other.clean, atol=0.05)
    flat, flat_again = make_sample_2d((48, 48), seed=3), make_sample_2d((48, 48), seed=3)
    np.testing.assert_array_equal(flat.noisy, flat_again.noisy)


def test_noise_level_is_realistic_and_unbiased(default):
    # measured 15.6 dB at seed 0 (14.7-15.8 over seeds 0-5)
    assert 13 < psnr(default.clean, default.noisy) < 18
    noise = default.noisy - default.clean
    assert abs(noise.mean()) < 0.02 * noise.std()


def test_higher_dose_gives_a_cleaner_tomogram():
    shape = (16, 64, 64)
    low = make_sample(shape, seed=2)
    high = make_sample(shape, seed=2, dose=400)  # 4x the default dose: about +6 dB
    np.testing.assert_array_equal(low.clean, high.clean)
    gain = psnr(high.clean, high.noisy) - psnr(low.clean, low.noisy)
    assert 5 < gain < 7


def test_noise_is_correlated_along_x_and_independent_along_y(default):
    # measured: +0.62 at one pixel along X, 0.00 along Y
    noise = default.noisy - default.clean
    assert correlation(noise, 1, axis=2) > 0.5
    assert abs(correlation(noise, 1, axis=1)) < 0.03
    assert abs(correlation(noise, 2, axis=1)) < 0.03


def test_2d_sample_has_the_same_noise_structure():
    sample = make_sample_2d(seed=0)
    noise = sample.noisy - sample.clean
    assert correlation(noise, 1, axis=1) > 0.5
    assert abs(correlation(noise, 1, axis=0)) < 0.03
    assert 12 < psnr(sample.clean, sample.noisy) < 18


def test_clean_plane_shows_membranes_and_particles(default):
    plane = default.clean[16]
    dark = plane < plane.mean() - 2 * plane.std()  # dense matter is dark
    labels, count = ndimage.label(dark)
    sizes = ndimage.sum_labels(dark, labels, np.arange(1, count + 1))
    extents = [max(s.stop - s.start for s in box) for box in ndimage.find_objects(labels)]
    assert np.sum(sizes > 20) >= 15  # ribosome-sized blobs
    assert max(extents) > plane.shape[1] / 2  # a membrane crossing the field


@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=(64, 64)), "shape"),
    (dict(shape=(2, 64, 64)), "shape"),
    (dict(dose=0), "dose"),
    (dict(tilt_range=95), "tilt_range"),
    (dict(tilt_step=0), "tilt_step"),
])
def test_invalid_parameters_are_rejected(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        make_sample(**kwargs)


@pytest.fixture(scope="module")
def models():
    from et_denoise.engine.sample import NOISE_MODELS

    return {name: make_sample((32, 96, 96), seed=0, noise=name) for name in NOISE_MODELS}


def test_each_noise_model_has_its_own_autocorrelation(models):
    # measured (seed 0) at 1, 2, 3 px:  X                     Z (planes)
    #   wbp    +0.63 -0.05 -0.39     +0.83 +0.46
    #   fbp    -0.20 -0.26 -0.04     +0.38 -0.05
    #   sirt   +0.75 +0.29 -0.02     +0.88 +0.63
    #   white   0.00  0.00  0.00      0.00
    #   wedge   0.00  0.00  0.00     +0.78 +0.37
    # and about 0 along Y for all of them.
    noise = {name: s.noisy - s.clean for name, s in models.items()}
    x = {name: [correlation(n, k, axis=2) for k in (1, 2, 3)] for name, n in noise.items()}
    z = {name: [correlation(n, k, axis=0) for k in (1, 2)] for name, n in noise.items()}
    assert x["wbp"][0] > 0.5 and x["wbp"][2] < -0.25          # positive at 1 px, negative lobe at 3
    assert x["fbp"][0] < -0.1 and x["fbp"][1] < -0.1          # negative side lobes next to the centre
    assert x["sirt"][0] > x["wbp"][0] and x["sirt"][1] > 0.2  # a wider positive lobe
    for name in ("white", "wedge"):
        assert max(abs(v) for v in x[name]) < 0.03
    assert abs(z["white"][0]) < 0.03
    assert z["wedge"][0] > 0.6 and z["wedge"][1] > 0.25
    assert z["wbp"][0] > 0.6
    for name, n in noise.items():
        assert abs(correlation(n, 1, axis=1)) < 0.03, name


def test_every_noise_model_has_the_default_signal_to_noise_ratio(models):
    # noise sigma over the clean image's sigma is that of wbp (0.265 / clean sigma) for every model
    ratio = {name: np.std(s.noisy - s.clean) / np.std(s.clean) for name, s in models.items()}
    for name, value in ratio.items():
        assert value == pytest.approx(ratio["wbp"], rel=0.01), name
    np.testing.assert_array_equal(models["white"].clean, models["wbp"].clean)
    assert not np.allclose(models["sirt"].clean, models["wbp"].clean)


def test_noise_models_in_2d_and_unknown_names():
    flat = make_sample_2d((64, 64), seed=1, noise="fbp")
    assert correlation(flat.noisy - flat.clean, 1, axis=1) < -0.1
    with pytest.raises(ParameterError, match="unknown noise model 'ramp'.*fbp"):
        make_sample((8, 32, 32), noise="ramp")
