"""Self-tuned filter parameters: near the best setting on the sample, progress, cancel, errors."""

import itertools

import numpy as np
import pytest

from et_denoise.engine.analysis.autotune import autotune
from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters.diffusion import DIFFUSION
from et_denoise.engine.filters.median import MEDIAN
from et_denoise.engine.filters.nlm import NLM
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.sample import make_sample, make_sample_2d

# A grid per filter, searched here against the ground truth: wider or finer than the defaults.
TRUTH_GRIDS = {
    "median": (MEDIAN, {"size": (3, 5, 7, 9, 11, 13, 15, 19, 25)}),
    "diffusion": (DIFFUSION, {"kappa": (0.5, 1.0, 1.5, 2.0, 3.0, 5.0), "iterations": (5, 10, 15, 20, 30, 60)}),
    "nlm": (NLM, {"h": (0.5, 0.7, 0.9, 1.2, 1.6, 2.2), "patch_distance": (2, 4, 6, 9)}),
}


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d(seed=0)


def _best_in_grid(method, grid, sample):
    names = list(grid)
    best = -np.inf
    for values in itertools.product(*grid.values()):
        params = method.params_type().replace(**dict(zip(names, values)))
        best = max(best, psnr(sample.clean, method.apply(sample.noisy, params)))
    return best


@pytest.mark.parametrize("name", list(TRUTH_GRIDS))
def test_tuned_setting_is_within_1_db_of_the_best(name, sample):
    method, grid = TRUTH_GRIDS[name]
    result = autotune(method, sample.noisy)
    tuned = psnr(sample.clean, method.apply(sample.noisy, result.params))
    best = _best_in_grid(method, grid, sample)
    assert tuned > best - 1.0, f"{name}: tuned {result.params} gives {tuned:.2f} dB, best {best:.2f} dB"
    assert result.mask.shape == (1, 11)  # the sample's noise is correlated along X: a horizontal mask
    assert len(result.scores) > 1 and result.params in [params for params, _ in result.scores]


@pytest.mark.parametrize("method", [MEDIAN, DIFFUSION], ids=lambda method: method.name)
def test_negative_side_lobes_do_not_push_the_choice_to_more_smoothing(method):
    """Plain filtered back-projection: J-invariance with the footprint hidden chose 0.6-1.4 dB below the best."""
    sample = make_sample_2d(seed=1, noise="fbp")
    result = autotune(method, sample.noisy)
    quality = {params: psnr(sample.clean, method.apply(sample.noisy, params)) for params, _ in result.scores}
    assert quality[result.params] > max(quality.values()) - 0.3


def test_scores_differ_as_the_errors_against_the_clean_image_do(sample):
    result = autotune(MEDIAN, sample.noisy, grid={"size": (3, 9, 19)})
    error = {params: float(np.mean((MEDIAN.apply(sample.noisy, params) - sample.clean) ** 2))
             for params, _ in result.scores}
    score = dict(result.scores)
    for params in error:
        if params != result.params:
            true_gap, estimated_gap = error[params] - error[result.params], score[params] - score[result.params]
            assert abs(estimated_gap - true_gap) < 0.25 * true_gap, f"size {params.size}"


def test_a_single_pixel_mask_picks_a_near_identity_setting(sample):
    """Why the mask matters: taken as white, the correlated noise a filter passes on looks like signal."""
    grid = {"size": (1, 3, 5, 9, 15)}
    plain = autotune(MEDIAN, sample.noisy, mask=np.ones((1, 1)), grid=grid)
    structured = autotune(MEDIAN, sample.noisy, grid=grid)
    assert plain.params.size <= 3 and structured.params.size == 9
    quality = {result.params.size: psnr(sample.clean, MEDIAN.apply(sample.noisy, result.params))
               for result in (plain, structured)}
    assert quality[9] > quality[plain.params.size] + 2.0


def test_relative_values_are_reported_relative(sample):
    result = autotune(DIFFUSION, sample.noisy, grid={"kappa": (1.5, 3.0), "iterations": (10, 20)})
    assert result.params.kappa_relative is True
    assert result.params.kappa in (1.5, 3.0)


def test_progress_reaches_one_once_and_cancel_stops(sample, cancel_at_first_report):
    reports = []
    autotune(MEDIAN, sample.noisy, grid={"size": (3, 5, 7)}, progress=reports.append)
    assert reports.count(1.0) == 1 and reports[-1] == 1.0 and reports == sorted(reports)
    assert len(reports) == 4

    cancelling = cancel_at_first_report
    with pytest.raises(Cancelled):
        autotune(MEDIAN, sample.noisy, grid={"size": (3, 5, 7, 9)}, progress=cancelling, cancel=cancelling.token)
    assert 1.0 not in cancelling.reports and len(cancelling.reports) == 1


def test_volume_tunes_on_a_central_block():
    volume = make_sample((8, 64, 64), seed=1)
    flat = autotune(MEDIAN, volume.noisy, grid={"size": (1, 3, 5)})
    assert flat.mask.ndim == 2  # a plane-wise filter needs only an in-plane mask
    assert flat.params.size > 1
    deep = autotune(MEDIAN, volume.noisy, grid={"size": (1, 3)}, base=MEDIAN.params_type(mode="3d"))
    assert deep.mask.ndim == 3 and deep.mask.shape[0] > 1  # the sample's noise is correlated between planes
    assert deep.params.mode == "3d" and deep.params.size == 3


def test_bad_requests_raise_clear_errors(sample):
    with pytest.raises(ParameterError, match="no parameter radius"):
        autotune(MEDIAN, sample.noisy, grid={"radius": (1, 2)})
    with pytest.raises(ParameterError, match="at most 99"):
        autotune(MEDIAN, sample.noisy, grid={"size": (3, 101)})
    with pytest.raises(ParameterError, match="odd sides"):
        autotune(MEDIAN, sample.noisy, mask=np.ones((2, 2)))
    broken = sample.noisy.copy()
    broken[128, 128] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        autotune(MEDIAN, broken, grid={"size": (3,)})


def test_the_dct_shrinkage_chooses_3d_mode_on_a_stack_whose_noise_3d_cubes_separate():
    from et_denoise.engine.filters.dct import DCT

    volume = make_sample((8, 64, 64), seed=1, noise="white")
    tuned = autotune(DCT, volume.noisy, grid={"mode": ("2d", "3d"), "strength": (1.0,)})
    planes = {mode: psnr(volume.clean[:8], DCT.apply(volume.noisy, DCT.params_type(mode=mode)))
              for mode in ("2d", "3d")}
    assert planes["3d"] > planes["2d"] + 1  # the signal continues across planes, the noise does not
    assert tuned.params.mode == "3d"
    assert tuned.mask.ndim == 3  # scored with the noise's correlation between planes
