"""Display contrast: the viewer's Auto contrast and figures take the same levels."""

import numpy as np

from et_denoise.engine.contrast import percentile_levels, symmetric_levels


def test_levels_clip_the_darkest_and_brightest_half_percent_and_ignore_non_finite_values():
    image = np.arange(10_000, dtype=np.float32).reshape(100, 100)
    image[0, :5] = [np.nan, np.inf, -np.inf, np.nan, np.nan]
    low, high = percentile_levels(image)
    assert 40 < low < 60 and 9940 < high < 9960


def test_flat_and_empty_images_still_get_usable_levels():
    assert percentile_levels(np.full((8, 8), 3.0)) == (2.5, 3.5)
    assert percentile_levels(np.full((8, 8), np.nan)) == (0.0, 1.0)
    assert symmetric_levels(np.zeros((8, 8))) == (-1.0, 1.0)


def test_a_big_slice_is_sampled_yet_gets_nearly_the_levels_of_all_its_values():
    image = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    exact = np.percentile(image, [0.5, 99.5])
    np.testing.assert_allclose(percentile_levels(image), exact, atol=0.05)
    bound = symmetric_levels(image)[1]
    assert abs(bound - np.percentile(np.abs(image), 99.5)) < 0.05
