"""Mask suggestion: the StructN2V mask read from the noise's autocorrelation."""

import numpy as np
import pytest
from scipy import ndimage

from et_denoise.engine.analysis.autocorr import Autocorrelation, noise_autocorrelation, residual_autocorrelation
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.analysis.mask_suggestion import DEFAULT_THRESHOLD, TAIL_FRACTION, analyse_noise, render_mask, suggest_mask
from et_denoise.engine.n2v.masks import parse_mask
from et_denoise.engine.sample import make_sample, make_sample_2d


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d(seed=0)


def _noise(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_sample_gets_a_horizontal_line_spanning_the_correlated_shifts(sample):
    suggestion = analyse_noise(sample.noisy).suggestion
    assert suggestion.spec == "horizontal:11"
    assert "hides ±5 px along X →" in suggestion.explanation
    # every shift whose true noise correlation reaches the threshold is hidden
    truth = residual_autocorrelation(sample.noisy, sample.clean, radius=8)
    correlated = truth.shifts[np.abs(truth.profile_x) >= DEFAULT_THRESHOLD * TAIL_FRACTION]
    assert suggestion.half_size == (0, np.abs(correlated).max())
    assert np.all(np.abs(truth.profile_y[truth.shifts != 0]) < DEFAULT_THRESHOLD * TAIL_FRACTION)
    np.testing.assert_array_equal(parse_mask(suggestion.spec), suggestion.mask)


def test_sample_residual_gives_the_same_mask(sample):
    assert analyse_noise(sample.noisy, denoised=sample.clean).suggestion.spec == "horizontal:11"


def test_white_noise_gets_plain_n2v():
    suggestion = analyse_noise(_noise((128, 128))).suggestion
    assert suggestion.spec == "none" and suggestion.is_plain
    np.testing.assert_array_equal(suggestion.mask, [[1]])
    assert "plain N2V" in suggestion.explanation
    assert parse_mask(suggestion.spec) is None


def test_noise_correlated_along_y_gets_a_vertical_line():
    noise = ndimage.convolve1d(_noise((128, 128)), [1.0, 1.0, 1.0], axis=0)  # ρ = 2/3, 1/3 at 1, 2 px
    suggestion = analyse_noise(noise).suggestion
    assert suggestion.spec == "vertical:5"
    assert suggestion.mask.shape == (5, 1)
    assert "hides ±2 px along Y →" in suggestion.explanation


def test_anticorrelated_lobe_beyond_a_zero_crossing_is_hidden():
    values = np.zeros((3, 11))
    values[1] = [0.0, 0.05, -0.45, 0.05, 0.6, 1.0, 0.6, 0.05, -0.45, 0.05, 0.0]
    suggestion = suggest_mask(Autocorrelation(values, "example"))
    assert suggestion.spec == "horizontal:7"


def test_a_lobe_is_followed_outwards_to_its_tail_but_weaker_correlation_elsewhere_is_not():
    values = np.zeros((5, 15))
    values[2] = [0.0, 0.05, -0.14, -0.15, -0.3, -0.35, 0.6, 1.0, 0.6, -0.35, -0.3, -0.15, -0.14, 0.05, 0.0]
    values[1, 3:6] = values[3, 9:12] = 0.15  # beside the lobe, as strong as its tail
    suggestion = suggest_mask(Autocorrelation(values, "example"))
    assert suggestion.spec == "horizontal:11"
    assert "hides ±5 px along X →" in suggestion.explanation and "lobes followed to 0.13" in suggestion.explanation


def test_isolated_far_correlation_is_not_connected_to_the_centre():
    values = np.zeros((9, 9))
    values[4, 3:6] = [0.5, 1.0, 0.5]
    values[0, 0] = values[8, 8] = 0.9
    assert suggest_mask(Autocorrelation(values, "example")).spec == "horizontal:3"


def test_two_dimensional_correlation_gives_cross_square_or_custom_shapes(tmp_path):
    noise = _noise((160, 160))
    box = np.ones(4)  # a sum of noises correlated along X and along Y: ρ = 3/8, 2/8, 1/8 at 1, 2, 3 px
    cross = ndimage.convolve1d(noise, box, axis=1) + ndimage.convolve1d(_noise((160, 160), 1), box, axis=0)
    square = ndimage.convolve(noise, np.ones((2, 2)))
    wide = ndimage.convolve(noise, np.ones((2, 4)))  # ρ(0, ±k) = 3/4, 1/2, 1/4; ρ(±1, ±k) = 1/2, 3/8, 1/4, 1/8
    plain = lambda image: noise_autocorrelation(image, radius=6, highpass_sigma=0)  # noqa: E731
    assert suggest_mask(plain(cross), threshold=0.15).spec == "cross:7"  # the lobes' tails (1/8) are hidden
    assert suggest_mask(plain(square), threshold=0.2).spec == "square:3"
    custom = suggest_mask(plain(wide), threshold=0.3)  # the row's tail (0, ±3) joins; no tail leads to (±1, ±2)
    assert custom.spec is None
    np.testing.assert_array_equal(custom.mask, [[0, 0, 1, 1, 1, 0, 0], [1] * 7, [0, 0, 1, 1, 1, 0, 0]])
    file = tmp_path / "mask.txt"
    file.write_text(custom.mask_file_text)
    np.testing.assert_array_equal(parse_mask(str(file)), custom.mask)
    assert "custom shape of 3×7" in custom.explanation


def test_long_correlation_is_capped():
    noise = ndimage.uniform_filter1d(_noise((128, 256)), 31, axis=1)
    suggestion = suggest_mask(noise_autocorrelation(noise, radius=12, highpass_sigma=0), max_half_size=5)
    assert suggestion.spec == "horizontal:11"
    assert "capped at ±5 px" in suggestion.explanation


def test_volume_gets_a_plane_mask_unless_a_3d_one_is_asked_for():
    sample = make_sample((6, 64, 64), seed=2)  # its noise is also correlated along Z (missing wedge)
    flat = analyse_noise(sample.noisy, denoised=sample.clean).suggestion
    assert flat.mask.ndim == 2 and flat.spec.startswith("horizontal:")
    assert "planes are correlated" in flat.explanation and "6 planes are too few for 3-D training" in flat.explanation
    deep = analyse_noise(sample.noisy, denoised=sample.clean, three_d=True).suggestion
    assert deep.mask.ndim == 3 and deep.mask.shape[0] >= 3 and deep.spec is None
    assert deep.mask[deep.mask.shape[0] // 2].all()  # the blind spot's own plane: a full line along X
    assert render_mask(deep.mask).startswith(f"z -{deep.mask.shape[0] // 2}")
    independent = ndimage.uniform_filter1d(_noise((8, 64, 64)), 3, axis=2)
    stays_flat = suggest_mask(noise_autocorrelation(independent, radius=4, highpass_sigma=0), three_d=True)
    assert stays_flat.spec == "horizontal:5"


def test_render_and_report(sample):
    assert render_mask(np.ones((1, 3), np.uint8)) == ".....\n.#O#.\n....."
    from et_denoise.cli.reports import noise_report

    report = noise_report(analyse_noise(sample.noisy, region="0:128,0:256"))
    assert "region 0:128,0:256" in report
    assert ".#####O#####." in report
    assert report.rstrip().endswith("--mask horizontal:11")


def test_bad_settings_raise_parameter_errors(sample):
    with pytest.raises(ParameterError, match="threshold"):
        analyse_noise(sample.noisy, threshold=1.5)
    with pytest.raises(ParameterError, match="outside the image"):
        analyse_noise(sample.noisy, region="0:300,0:10")


def _described_reach(explanation):
    """{axis: px} as the explanation states it ("hides ±5 px along X and ±1 px along Y")."""
    import re

    return {axis: int(px) for px, axis in re.findall(r"±(\d+) px along ([XYZ])", explanation.split(";")[0])}


def _drawn_reach(mask):
    centre = tuple(side // 2 for side in mask.shape)
    names = "ZYX"[-mask.ndim:]
    reach = {}
    for axis, name in enumerate(names):
        line = mask[tuple(slice(None) if a == axis else c for a, c in enumerate(centre))]
        extent = int(np.abs(np.flatnonzero(line) - centre[axis]).max())
        if extent:
            reach[name] = extent
    return reach


@pytest.mark.parametrize("noise", ["wbp", "fbp", "sirt", "white", "wedge"])
def test_suggestion_on_every_noise_model_is_connected_symmetric_covers_the_lobes_and_says_what_it_draws(noise):
    from et_denoise.engine.sample import NOISE_MODELS

    assert noise in NOISE_MODELS
    sample = make_sample((32, 96, 96), seed=0, noise=noise)
    for three_d in (False, True):
        suggestion = analyse_noise(sample.noisy, denoised=sample.clean, three_d=three_d).suggestion
        mask = suggestion.mask.astype(bool)
        np.testing.assert_array_equal(mask, mask[(slice(None, None, -1),) * mask.ndim])  # symmetric
        assert ndimage.label(mask, structure=np.ones((3,) * mask.ndim))[1] == 1  # one connected piece
        assert _described_reach(suggestion.explanation) == _drawn_reach(suggestion.mask)
        # every shift of the true noise autocorrelation that reaches the threshold next to the centre is hidden
        truth = residual_autocorrelation(sample.noisy, sample.clean, radius=3, three_d=three_d)
        values = truth.values if three_d else truth.plane
        strong = np.argwhere(np.abs(values) >= suggestion.threshold) - np.array(values.shape) // 2
        mask = mask.reshape((1,) * (values.ndim - mask.ndim) + mask.shape)
        half = np.array(mask.shape) // 2
        for offset in strong:
            index = tuple(offset + half)
            assert all(0 <= i < s for i, s in zip(index, mask.shape)) and mask[index], (noise, three_d, offset)
    if noise != "white":  # correlated along Z (fbp +0.38 at one plane): a 3-D mask for 3-D training
        assert suggestion.mask.ndim == 3 and suggestion.train_3d and "train in 3-D" in suggestion.explanation
    else:
        assert not suggestion.train_3d


@pytest.mark.parametrize("noise, spec", [("wbp", "horizontal:11"), ("fbp", "horizontal:5"), ("sirt", "horizontal:15"),
                                         ("white", "none"), ("wedge", "none")])
@pytest.mark.parametrize("seed", [0, 3])
def test_suggestion_from_raw_data_equals_the_one_from_the_true_noise(noise, spec, seed):
    sample = make_sample_2d((256, 256), seed=seed, noise=noise)
    assert analyse_noise(sample.noisy).suggestion.spec == spec
    assert analyse_noise(sample.noisy, denoised=sample.clean).suggestion.spec == spec


def test_the_blind_spots_axis_neighbours_are_hidden_at_a_lower_level():
    values = np.zeros((17, 17))
    values[8, 8] = 1.0
    values[8, 7] = values[8, 9] = -0.12  # a weak lobe next to the blind spot: hidden (0.2 - NEIGHBOUR_ALLOWANCE)
    values[8, 6] = values[8, 10] = -0.14  # and its tail
    values[7, 7] = values[9, 9] = 0.15  # a diagonal neighbour under the threshold is not
    assert suggest_mask(Autocorrelation(values, "example")).spec == "horizontal:5"
    values[8, 6:11] = [0, 0.08, 1.0, 0.08, 0]
    assert suggest_mask(Autocorrelation(values, "example")).spec == "none"
    values[8, 7] = values[8, 9] = 0.62
    assert suggest_mask(Autocorrelation(values, "example"), threshold=0.95).spec == "none"
    assert suggest_mask(Autocorrelation(values, "example"), threshold=0.7).spec == "horizontal:3"


def test_fbp_noise_gets_a_line_over_its_negative_side_lobes():
    sample = make_sample_2d((256, 256), seed=0, noise="fbp")  # rho -0.22, -0.23 at 1, 2 px along X
    suggestion = analyse_noise(sample.noisy, denoised=sample.clean).suggestion
    assert suggestion.spec == "horizontal:5"


def test_a_noisy_estimate_raises_the_threshold():
    small = _noise((24, 24))  # a tiny region: the estimate's own noise is about 1/24
    suggestion = suggest_mask(noise_autocorrelation(small, radius=10, highpass_sigma=0), threshold=0.05)
    assert suggestion.threshold > 0.1 and suggestion.spec == "none"
    large = suggest_mask(noise_autocorrelation(_noise((512, 512)), radius=10, highpass_sigma=0), threshold=0.05)
    assert large.threshold == 0.05 and large.spec == "none"


def test_diagonal_correlation_has_no_tail_and_the_text_matches_the_square():
    values = np.zeros((17, 17))
    values[8, 7:10] = values[7:10, 8] = [0.6, 1.0, 0.6]
    for dy, dx in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        values[8 + dy, 8 + dx] = 0.35
        for k in (2, 3):  # a broad negative bowl along the diagonals (what the high-pass leaves)
            values[8 + k * dy, 8 + k * dx] = -0.15
    suggestion = suggest_mask(Autocorrelation(values, "example"))
    assert suggestion.spec == "square:3"
    assert "±1 px along Y and ±1 px along X and 4 px off the axes" in suggestion.explanation


def test_a_wide_lobe_along_an_axis_is_hidden_though_no_shift_reaches_the_threshold():
    """The sirt sample's negative lobe along X (-0.15 at most) made StructN2V learn it: 25.5 dB with ±2 px hidden, 27.2 with ±7."""
    values = np.zeros((17, 17))
    values[8, 8] = 1.0
    values[8, 7] = values[8, 9] = 0.6
    lobe = [-0.15, -0.14, -0.12, -0.09, -0.07]  # at 3..7 px, each under the threshold (0.2)
    values[8, 11:16] = lobe
    values[8, 1:6] = lobe[::-1]
    assert suggest_mask(Autocorrelation(values, "example")).spec == "horizontal:15"
    off_axis = np.zeros_like(values)
    off_axis[8, 7:10] = [0.6, 1.0, 0.6]
    off_axis[11, 11:16] = off_axis[5, 1:6] = lobe  # the same lobe off the axes (a bowl of the high-pass): kept open
    assert suggest_mask(Autocorrelation(off_axis, "example")).spec == "horizontal:3"
    values[8, 12:15] = values[8, 2:5] = -0.05  # a lobe that carries little: not hidden
    assert suggest_mask(Autocorrelation(values, "example")).spec == "horizontal:3"
