import numpy as np
import pytest
from skimage.metrics import structural_similarity

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.compare.metrics import psnr, ssim


@pytest.fixture
def reference():
    image = np.random.default_rng(0).random((128, 128))
    image[0, 0], image[0, 1] = 0.0, 1.0  # data range exactly 1
    return image


def noisy(reference, sigma, seed=1):
    return reference + np.random.default_rng(seed).normal(0, sigma, reference.shape)


def test_psnr_of_gaussian_noise_matches_the_formula(reference):
    assert psnr(reference, noisy(reference, 0.1)) == pytest.approx(20.0, abs=0.1)
    assert psnr(reference, noisy(reference, 0.01)) == pytest.approx(40.0, abs=0.1)


def test_psnr_uses_the_given_data_range(reference):
    image = noisy(reference, 0.1)
    assert psnr(reference, image, data_range=2.0) == pytest.approx(
        psnr(reference, image) + 20 * np.log10(2.0))


def test_psnr_computes_in_float_without_integer_wraparound():
    reference = np.full((8, 8), 10, dtype=np.uint8)
    image = np.full((8, 8), 20, dtype=np.uint8)
    assert psnr(reference, image, data_range=255) == pytest.approx(10 * np.log10(255 ** 2 / 100))
    assert psnr(image, reference, data_range=255) == pytest.approx(10 * np.log10(255 ** 2 / 100))


def test_identical_images_score_perfectly(reference):
    assert psnr(reference, reference.copy()) == np.inf
    assert ssim(reference, reference.copy()) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_an_image_closer_to_the_reference_scores_higher(reference, metric):
    assert metric(reference, noisy(reference, 0.05)) > metric(reference, noisy(reference, 0.2))


def test_ssim_of_a_volume_is_the_mean_of_its_plane_ssims():
    rng = np.random.default_rng(2)
    reference = rng.random((3, 32, 32))
    image = reference.copy()
    image[1] += rng.normal(0, 0.3, (32, 32))
    data_range = reference.max() - reference.min()
    plane_scores = [structural_similarity(r, i, data_range=data_range)
                    for r, i in zip(reference, image)]
    assert plane_scores[0] == plane_scores[2] == 1.0 > plane_scores[1]
    assert ssim(reference, image) == pytest.approx(np.mean(plane_scores))


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_shape_mismatch_is_reported_with_both_shapes(metric):
    with pytest.raises(ParameterError, match=r"\(16, 16\).*\(16, 17\)"):
        metric(np.zeros((16, 16)), np.zeros((16, 17)))


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_invalid_inputs_are_rejected(metric):
    with pytest.raises(ParameterError, match="constant"):
        metric(np.ones((16, 16)), np.zeros((16, 16)))
    with pytest.raises(ParameterError, match="data_range"):
        metric(np.eye(16), np.eye(16), data_range=0)
    with pytest.raises(ImageError, match="NaN"):
        metric(np.eye(16), np.full((16, 16), np.nan))
    with pytest.raises(ImageError, match="2-D"):
        metric(np.zeros(16), np.zeros(16))


def test_ssim_rejects_planes_smaller_than_its_window():
    with pytest.raises(ParameterError, match="7 x 7"):
        ssim(np.eye(5), np.eye(5))
