"""StructN2V keeps the mean: no shift of flat background.

n2v filled the hidden neighbours of each blind spot with uniform random values
around the image mean, which shifted StructN2V's output and compressed its
contrast; :func:`engine.n2v.n2v_backend.hide_neighbours` fills them with nearby
pixels instead.  A short training on the built-in sample checks the mean.
"""

import numpy as np
import pytest
from scipy import ndimage

from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.n2v import N2VParams, train
from et_denoise.engine.n2v.n2v_backend import hide_neighbours
from et_denoise.engine.sample import make_sample_2d

# 320 steps of the default 3×3 kernel: the time of 160 steps of n2v's 5×5, after which both keep the mean
# (after 160 steps the 3×3 network is still 1.5 % off: under-trained, not biased).
SHORT = dict(minutes=0, patch_size=32, epochs=4, steps_per_epoch=80, batch_size=8, unet_depth=2, unet_filters=16)


def flat_background(clean, fraction=0.3):
    """The ``fraction`` of pixels where the clean image varies least (9×9 standard deviation)."""
    mean = ndimage.uniform_filter(clean, 9)
    spread = np.sqrt(np.maximum(ndimage.uniform_filter(clean * clean, 9) - mean * mean, 0))
    return spread <= np.quantile(spread, fraction)


@pytest.mark.parametrize("mask", [np.ones((1, 11), np.uint8), np.ones((3, 3), np.uint8), np.ones((3, 1, 3), np.uint8)])
def test_hidden_neighbours_take_values_from_near_the_blind_spot_outside_the_mask(mask):
    rng = np.random.default_rng(0)
    shape = (32, 32) if mask.ndim == 2 else (16, 32, 32)
    patch = rng.normal(size=shape).astype(np.float32) + 100  # far from n2v's fill range [-2, 2]
    spots = tuple(np.array([c, c + 4]) for c in (8,) * mask.ndim)
    original = patch.copy()
    np.random.seed(0)
    hide_neighbours(patch, spots, mask.ndim, mask)
    centre = np.array(mask.shape) // 2
    for spot in zip(*spots):
        assert patch[spot] == original[spot]  # the blind spot itself is n2v's to replace
        near = original[tuple(slice(s - c - 2, s + c + 3) for s, c in zip(spot, centre))]
        footprint = np.zeros(near.shape, bool)
        footprint[tuple(slice(2, 2 + m) for m in mask.shape)] = mask > 0
        allowed = set(near[~footprint].tolist())
        for offset in np.argwhere(mask > 0) - centre:
            if offset.any():
                assert patch[tuple(np.array(spot) + offset)] in allowed
    changed = patch != original
    assert changed.sum() >= (mask.sum() - 1) * 2 - 2  # (a fill may repeat the value it replaces by chance)
    assert abs(patch[changed].mean() - 100) < 1  # the local level (n2v: about 0, far below)


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d((128, 128), seed=0)


@pytest.mark.parametrize("mask", ["suggested", "square:7"])
def test_structn2v_keeps_the_mean_of_flat_background(sample, mask):
    if mask == "suggested":
        mask = analyse_noise(sample.noisy).suggestion.spec
    model = train([sample.noisy], N2VParams(mask=mask, **SHORT))
    result = model.predict(sample.noisy)
    flat = flat_background(sample.clean)
    shift = abs(result[flat].mean() - sample.noisy[flat].mean()) / np.ptp(sample.noisy)
    assert shift < 0.01, f"{mask}: mean shifted by {shift:.2%} of the data range"
    # n2v's own filling shifted it by 1.2 % (horizontal:11, 256x256, 200 steps).  Contrast is not asserted
    # yet: after 160 steps of the 5×5 kernel it was 0.34 where the best diffusion's is 0.90 (see the benchmark).
