"""Non-local means: denoises the sample, is scale-free, threads and blocks change nothing, cancellable."""

import numpy as np
import pytest
from skimage.restoration import denoise_nl_means

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters.nlm import NLM, NLMParams, non_local_means
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.sample import make_sample, make_sample_2d


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d((128, 128), seed=3)


@pytest.fixture(scope="module")
def stack():
    return make_sample((4, 64, 64), seed=2).noisy


def test_defaults_denoise_the_sample(sample):
    before = psnr(sample.clean, sample.noisy)
    after = psnr(sample.clean, NLM.apply(sample.noisy))
    assert after > before + 6.0


def test_h_is_applied_on_the_data_scale(sample):
    """h = 0.9 σ with σ estimated on the very values the kernel filters (the notebook's bug was 255×)."""
    sigma = estimate_noise_sigma(sample.noisy)
    expected = denoise_nl_means(sample.noisy, 7, 5, 0.9 * sigma, True, sigma, preserve_range=True)
    np.testing.assert_allclose(non_local_means(sample.noisy), expected, atol=1e-6)


def test_relative_h_is_independent_of_the_intensity_scale(sample):
    small = non_local_means(sample.noisy)
    large = non_local_means(255 * sample.noisy)
    np.testing.assert_allclose(large, 255 * small, atol=1e-4 * np.ptp(large))
    absolute = non_local_means(255 * sample.noisy, h=0.9, h_relative=False)
    assert np.abs(absolute - large).max() > 0.01 * np.ptp(large)  # h = 0.9 grey levels: other result


def test_thread_pool_gives_the_single_thread_result(stack):
    one = non_local_means(stack, workers=1)
    two = non_local_means(stack, workers=2)
    np.testing.assert_array_equal(one, two)
    assert one.dtype == np.float32 and one.shape == stack.shape


@pytest.mark.parametrize("shape, patch_size, patch_distance", [
    ((6, 40, 24), 3, 2), ((9, 37, 50), 6, 3), ((10, 70, 40), 7, 5)])
def test_3d_equals_scikit_image_3d(shape, patch_size, patch_distance):
    """The compiled 3-D kernel gives scikit-image's 3-D fast-mode result (within 1e-4 of the range)."""
    volume = make_sample(shape, seed=4).noisy
    sigma = estimate_noise_sigma(volume)
    reference = denoise_nl_means(volume, patch_size, patch_distance, 0.9 * sigma, True, sigma,
                                 preserve_range=True)
    ours = non_local_means(volume, patch_size=patch_size, patch_distance=patch_distance, mode="3d")
    assert ours.dtype == np.float32 and ours.shape == volume.shape
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(volume)
    in_2d = non_local_means(volume, patch_size=patch_size, patch_distance=patch_distance, mode="2d")
    assert np.abs(in_2d - reference).max() > 1e-3 * np.ptp(volume)  # 3-D really compares across planes


def test_3d_result_does_not_depend_on_the_number_of_threads():
    volume = make_sample((5, 80, 48), seed=5).noisy
    one = non_local_means(volume, patch_size=5, patch_distance=2, mode="3d", workers=1)
    two = non_local_means(volume, patch_size=5, patch_distance=2, mode="3d", workers=2)
    np.testing.assert_array_equal(one, two)


def test_a_2d_image_in_3d_mode_is_filtered_in_2d(sample):
    np.testing.assert_array_equal(non_local_means(sample.noisy, mode="3d"), non_local_means(sample.noisy))


def test_noise_free_image_is_left_unchanged():
    image = np.zeros((32, 32), np.float32)
    image[8:24, 8:24] = 5.0
    np.testing.assert_array_equal(non_local_means(image), image)


@pytest.mark.parametrize("changes", [{"h": 0.0}, {"h": -1.0}, {"patch_size": 0},
                                     {"patch_distance": 0}, {"mode": "4d"}, {"fast_mode": 1}])
def test_bad_parameters_are_refused(changes):
    with pytest.raises(ParameterError):
        NLMParams(**changes)
    with pytest.raises(ParameterError):
        non_local_means(np.zeros((16, 16)), **changes)


@pytest.mark.parametrize("bad", [np.zeros(16), np.zeros((16, 16), complex),
                                 np.full((16, 16), np.nan), np.zeros((4, 4))])
def test_unusable_images_are_refused(bad):
    with pytest.raises(ImageError):
        non_local_means(bad)


@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_progress_rises_to_one_exactly_once(stack, mode):
    reports = []
    non_local_means(stack, patch_size=3, patch_distance=1, mode=mode, progress=reports.append)
    assert reports.count(1.0) == 1 and reports[-1] == 1.0
    assert all(0 <= fraction < 1 for fraction in reports[:-1]) and len(reports) > 2


@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_cancel_from_progress_stops_early(stack, mode, cancel_at_first_report):
    cancelling = cancel_at_first_report
    with pytest.raises(Cancelled):
        non_local_means(stack, patch_size=3, patch_distance=1, mode=mode, progress=cancelling,
                        cancel=cancelling.token, workers=1)
    assert len(cancelling.reports) == 1 and cancelling.reports[0] < 0.5
