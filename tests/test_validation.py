"""One image check for every engine function: the same message for the same bad input, wherever it goes."""

import numpy as np
import pytest

from et_denoise.engine.analysis.autocorr import noise_autocorrelation, residual_autocorrelation
from et_denoise.engine.analysis.autotune import autotune
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.compare.comparison import ComparedImage, compare
from et_denoise.engine.compare.metrics import psnr, ssim
from et_denoise.engine.errors import ImageError
from et_denoise.engine.filters.dct import dct_denoise
from et_denoise.engine.filters.diffusion import anisotropic_diffusion
from et_denoise.engine.filters.median import MEDIAN, median
from et_denoise.engine.filters.nlm import non_local_means
from et_denoise.engine.n2v import N2VParams, train
from et_denoise.engine.validation import check_image

GOOD = np.random.default_rng(0).normal(size=(16, 16)).astype(np.float32)

# name of the checked input in the message, and the call
FUNCTIONS = {
    "median": ("image", lambda image: median(image)),
    "anisotropic_diffusion": ("image", lambda image: anisotropic_diffusion(image)),
    "non_local_means": ("image", lambda image: non_local_means(image)),
    "dct_denoise": ("image", lambda image: dct_denoise(image)),
    "estimate_noise_sigma": ("image", lambda image: estimate_noise_sigma(image)),
    "noise_autocorrelation": ("image", lambda image: noise_autocorrelation(image, radius=2)),
    "residual_autocorrelation": ("raw image", lambda image: residual_autocorrelation(image, GOOD, radius=2)),
    "autotune": ("image", lambda image: autotune(MEDIAN, image)),
    "psnr": ("image", lambda image: psnr(GOOD, image)),
    "ssim": ("image", lambda image: ssim(GOOD, image)),
    "compare": ("original", lambda image: compare(image, [ComparedImage("result", GOOD)])),
    "train": ("image", lambda image: train([image], N2VParams(patch_size=32))),
}

NAN = GOOD.copy()
NAN[3, 4] = np.nan
INF = GOOD.astype(np.float64)
INF[5, 5] = -np.inf
HUGE = GOOD.astype(np.float64)
HUGE[2, 2] = -1e300  # finite, but float32 results would be infinite
BAD = {
    "bool": (GOOD > 0, "the {} must hold real numbers, got data of type bool"),
    "complex": (GOOD.astype(np.complex64), "the {} must hold real numbers, got data of type complex64"),
    "text": (np.full((16, 16), "a"), "the {} must hold real numbers, got data of type <U1"),
    "empty": (np.zeros((0, 16), np.float32), "the {} is empty (shape (0, 16))"),
    "1-D": (np.zeros(16, np.float32), "the {} must be a 2-D image or a 3-D stack (Z, Y, X), got shape (16,)"),
    "4-D": (np.zeros((2, 2, 16, 16), np.float32),
            "the {} must be a 2-D image or a 3-D stack (Z, Y, X), got shape (2, 2, 16, 16)"),
    "NaN": (NAN, "the {} contains NaN or infinite values; replace them first"),
    "infinite": (INF, "the {} contains NaN or infinite values; replace them first"),
    "beyond float32": (HUGE, "the {} holds values up to 1e+300, too large to compute with in float32 "
                             "(at most ±1.8e+19); rescale it first"),
}


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_refuses_bad_input_with_the_same_message(function, bad):
    name, call = FUNCTIONS[function]
    image, message = BAD[bad]
    with pytest.raises(ImageError) as raised:
        call(image)
    assert str(raised.value) == message.format(name)


def test_a_good_image_is_returned_as_it_is_without_a_copy():
    data = np.arange(64, dtype=np.uint16).reshape(8, 8)
    assert check_image(data) is data
    assert check_image(data.tolist()).dtype.kind == "i"
    assert check_image(np.full((4, 4), np.nan), allow_nonfinite=True).shape == (4, 4)


def test_small_images_and_allowed_dimensions_are_named():
    with pytest.raises(ImageError, match=r"the image is 4×5 pixels; at least 8 are needed along Y and X"):
        check_image(np.zeros((4, 5)), min_side=8)
    with pytest.raises(ImageError, match=r"the volume must be a 3-D stack \(Z, Y, X\), got shape \(4, 4\)"):
        check_image(np.zeros((4, 4)), name="volume", ndim=(3,))
