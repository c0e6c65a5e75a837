"""DCT shrinkage with the measured noise spectrum: beats the other filters on ET noise, 2-D and 3-D,
behaves as a long job (cancel, progress, batches), float32 out, input untouched."""

import numpy as np
import pytest

import et_denoise.engine.filters.dct as dct_module
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.filters.dct import DCT, DCTParams, dct_denoise
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.sample import make_sample, make_sample_2d

OTHERS = ("median", "diffusion", "nlm")


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d((128, 128), seed=3)


@pytest.fixture(scope="module")
def volume():
    return make_sample((16, 96, 96), seed=2)


def _best_other(sample):
    return max(psnr(sample.clean, FILTERS[name].apply(sample.noisy)) for name in OTHERS)


def test_2d_beats_the_noisy_image_and_every_other_filter(sample):
    """Measured: noisy 14.2 dB, median 19.7, diffusion 21.6, NLM 23.0, DCT 27.1."""
    denoised = DCT.apply(sample.noisy)
    assert psnr(sample.clean, denoised) > psnr(sample.clean, sample.noisy) + 9.0
    assert psnr(sample.clean, denoised) > _best_other(sample) + 2.5


def test_3d_beats_the_noisy_volume_and_every_other_filter(volume):
    """Measured: noisy 12.9 dB, median 18.4, diffusion 19.7, NLM 20.4, DCT 3-D 22.3 (2-D mode 20.4)."""
    denoised = DCT.apply(volume.noisy, DCTParams(mode="3d"))
    assert psnr(volume.clean, denoised) > psnr(volume.clean, volume.noisy) + 7.0
    assert psnr(volume.clean, denoised) > _best_other(volume) + 1.0


def test_the_noise_spectrum_is_what_gains(sample):
    """The same filter told the noise is white (one σ for every frequency) does worse at any strength."""
    white = np.zeros((31, 31))
    white[15, 15] = np.var(sample.noisy - sample.clean)
    real_covariance = dct_module.noise_covariance
    coloured = psnr(sample.clean, dct_denoise(sample.noisy))
    try:
        dct_module.noise_covariance = lambda *args, **kwargs: white
        best_white = max(psnr(sample.clean, dct_denoise(sample.noisy, strength=s)) for s in (0.5, 1.0, 1.5))
    finally:
        dct_module.noise_covariance = real_covariance
    assert coloured > best_white + 1.0


def test_float32_out_and_input_unchanged(sample):
    image = (1000 * (sample.noisy - sample.noisy.min())).astype(np.uint16)
    before = image.copy()
    out = dct_denoise(image)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(image, before)


def test_scales_with_the_data(sample):
    small = dct_denoise(sample.noisy)
    large = dct_denoise(100 * sample.noisy)
    np.testing.assert_allclose(large, 100 * small, atol=1e-3 * np.ptp(large))


def test_noise_free_image_comes_back_unchanged():
    flat = np.full((32, 40), 7.0)
    np.testing.assert_array_equal(dct_denoise(flat), flat.astype(np.float32))


def test_batches_give_the_one_batch_result(volume, monkeypatch):
    stack = volume.noisy[:6, :40, :48]
    whole = dct_denoise(stack, mode="3d", cube_size=4)
    monkeypatch.setattr(dct_module, "_BATCH_COEFFICIENTS", 4096)
    fractions = []
    batched = dct_denoise(stack, mode="3d", cube_size=4, progress=fractions.append)
    # float rounding differs between batch shapes and can flip a coefficient at the threshold
    np.testing.assert_allclose(batched, whole, rtol=0, atol=2e-3 * np.ptp(whole))
    assert len(fractions) > 10 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert fractions.count(1.0) == 1


def test_cancel_between_batches(volume, monkeypatch, cancel_at_first_report):
    monkeypatch.setattr(dct_module, "_BATCH_COEFFICIENTS", 4096)
    cancelling = cancel_at_first_report
    with pytest.raises(Cancelled):
        dct_denoise(volume.noisy, mode="3d", cube_size=4, progress=cancelling, cancel=cancelling.token)
    assert len(cancelling.reports) == 1  # stopped at the first check after the request


def test_cancelled_before_start_in_2d(sample):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        dct_denoise(sample.noisy, cancel=token)


def test_small_stacks_and_odd_shapes_are_covered_everywhere():
    stack = make_sample((4, 20, 37), seed=5).noisy[:3]
    for mode in ("2d", "3d"):
        out = dct_denoise(stack, mode=mode, step=5, block_size=8, cube_size=6)
        assert out.shape == stack.shape and np.all(np.isfinite(out))


def test_bad_input_and_parameters():
    with pytest.raises(ImageError):
        dct_denoise(np.ones((4, 64)))
    with pytest.raises(ImageError):
        dct_denoise(np.full((16, 16), np.nan))
    with pytest.raises(ParameterError):
        DCTParams(strength=0.0)
    with pytest.raises(ParameterError):
        DCTParams(mode="4d")
