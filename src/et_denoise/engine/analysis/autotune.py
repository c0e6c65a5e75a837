"""Self-tuned filter parameters by Stein's unbiased risk estimate with the noise's own covariance.

A filter's best setting (median size, diffusion's κ, non-local means' h)
depends on the noise, and with no clean image to compare against it is
usually guessed.  Stein's unbiased risk estimate (SURE) scores a setting from
the noisy image alone: for Gaussian noise of covariance C, the error of the
output f(x) against the clean image is, on average,

    ||f(x) - x||² - tr(C) + 2 tr(C J),

where J is the filter's Jacobian.  The last term (how much of its own noise
the filter passes through) is measured by Monte-Carlo (Ramani, Blu & Unser
2008): add a small probe b shaped like the noise and see how the output
moves, w·(f(x + εb) - f(x)) / ε with a weight w whose covariance with b is C.  It works for any
filter, smooth or not.

Tomogram noise is correlated along X, so C is not σ² times the identity: a
white-noise SURE (or plain J-invariance, scikit-image's
``calibrate_denoiser``) counts a filter that copies correlated neighbours as
a good one and picks near-identity settings.  C is measured from the data
(the DCT shrinkage's refined estimate,
:func:`~engine.filters.dct.refined_noise_covariance`) and kept only over the
shifts where the noise's autocorrelation marks it as correlated (the blind-spot
mask of :mod:`engine.analysis.mask_suggestion`): beyond them the measurement
holds more of the signal's leftovers than of the noise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

import numpy as np

from et_denoise.engine.analysis.autocorr import noise_autocorrelation
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.validation import check_image
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn
from et_denoise.engine.analysis.mask_suggestion import suggest_mask
from et_denoise.engine.filters.dct import refined_noise_covariance
from et_denoise.engine.methods import Method
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.params import MethodParams

DEFAULT_GRIDS: dict[str, dict[str, tuple]] = {
    "median": {"size": (3, 5, 7, 9, 11, 13, 15, 19, 23, 31)},
    "diffusion": {"kappa": (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0), "iterations": (5, 10, 20, 40, 80, 160)},
    "nlm": {"h": (0.5, 0.65, 0.8, 1.0, 1.25, 1.6, 2.0), "patch_distance": (3, 5, 8)},
    "dct": {"mode": ("2d", "3d"), "strength": (0.8, 0.9, 1.0, 1.1, 1.25, 1.5)},
}
"""The settings searched for each method (by :attr:`Method.name`) when no grid is given.

Each entry maps parameter names to the values tried; every combination is
scored.  Parameters not named keep the value of ``base`` (the method's defaults).
``mode`` is searched on stacks only (:func:`default_grid`).
"""


def default_grid(method: Method, image: np.ndarray) -> dict[str, tuple]:
    """The settings :func:`autotune` searches for ``method`` on ``image`` when no grid is given.

    Parameters
    ----------
    method : Method
        A method with an entry in :data:`DEFAULT_GRIDS`.
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The data to be tuned on (only its number of dimensions matters).

    Returns
    -------
    dict of str to tuple
        :data:`DEFAULT_GRIDS`'s entry, without ``mode`` for a 2-D image
        (both modes filter it the same way).

    Raises
    ------
    ParameterError
        When the method has no default grid.

    Examples
    --------
    >>> from et_denoise.engine.filters.dct import DCT
    >>> list(default_grid(DCT, np.zeros((4, 16, 16)))), list(default_grid(DCT, np.zeros((16, 16))))
    (['mode', 'strength'], ['strength'])
    """
    if method.name not in DEFAULT_GRIDS:
        raise ParameterError(f"no default search grid for {method.label}: give one")
    grid = dict(DEFAULT_GRIDS[method.name])
    if np.ndim(image) != 3:
        grid.pop("mode", None)
    return grid


DEFAULT_CROP = 256
"""Side (pixels) of the central region the calibration works on: seconds, not minutes."""

DEFAULT_PLANES_3D = 8
"""Planes of the central block of a volume analysed when a setting filters in 3-D.

Plane-wise (2-D mode) settings are calibrated on the central plane alone.
"""

DEFAULT_PROBES = 2
"""Random probes of the noise's covariance per setting, each a filter run (besides the filter itself)."""

PROBE_SCALE = 0.02
"""Size of the probe added to the data, as a fraction of the noise (Monte-Carlo SURE's ε).

Small enough that the filter responds linearly (a median rarely changes
which pixel it picks), large enough to stand above float32 rounding.
"""


@dataclass(frozen=True)
class AutotuneResult:
    """The outcome of :func:`autotune`.

    Attributes
    ----------
    params : MethodParams
        The setting with the lowest estimated error.
    scores : list of (MethodParams, float)
        Every setting tried and its estimated mean squared error against
        the clean image (Stein's unbiased risk estimate), in the order tried.
        Lower is better.  The differences between settings are what is
        measured; all scores share the error of the measured noise variance
        (on the sample up to half the smallest error).
    mask : ndarray of uint8
        The shifts over which the noise was taken as correlated (the
        blind-spot mask): 2-D unless it spans planes.
    """

    params: MethodParams
    scores: list
    mask: np.ndarray


def autotune(
    method: Method,
    image: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    grid: Mapping[str, Sequence] | None = None,
    base: MethodParams | None = None,
    crop: int = DEFAULT_CROP,
    planes: int | None = None,
    probes: int = DEFAULT_PROBES,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> AutotuneResult:
    """Choose a filter's parameters from the noisy image alone.

    Parameters
    ----------
    method : Method
        The filter to tune (e.g. ``FILTERS["median"]``).
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The noisy data.
    mask : ndarray, optional
        The shifts at which the noise is correlated: an odd-sided 0/1 array
        centred on the zero shift, 2-D (in-plane) or 3-D; ``np.ones((1, 1))``
        takes the noise as white.  Default: the mask suggested by
        :func:`~engine.analysis.mask_suggestion.suggest_mask` from the
        autocorrelation of the analysed region (3-D when a setting filters in 3-D).
    grid : mapping of str to sequence, optional
        Values to try for each parameter; every combination is scored.
        Default: :func:`default_grid` (for the DCT shrinkage on a stack, both
        modes: 3-D scores take about 2 minutes on 2 cores).
    base : MethodParams, optional
        The values of the parameters not in ``grid``; default the method's defaults.
    crop : int
        Side of the central in-plane region analysed (the whole plane if smaller).
    planes : int, optional
        For a volume, the number of central planes analysed: default 1 when
        every setting filters plane by plane, :data:`DEFAULT_PLANES_3D` when
        one filters in 3-D (3-D modes cost much more: non-local means in 3-D
        about 100× the 2-D time, so give it a small grid or crop).
    probes : int
        Random probes per setting; each costs one filter run.  More probes
        give a less noisy estimate.
    progress : callable, optional
        ``progress(fraction)`` after each setting; 1.0 once at the end.
    cancel : CancelToken, optional
        Checked between settings and passed to the filter.

    Returns
    -------
    AutotuneResult

    Raises
    ------
    ParameterError
        No default grid for the method, a grid naming unknown parameters or
        invalid values, a bad mask.
    ImageError
        An image that is not a 2-D/3-D array of finite numbers.
    Cancelled
        When ``cancel`` was set.

    Notes
    -----
    The score of a setting is ``mean((f(x) - x)²) - C(0) + 2 mean(w · (f(x + εb) - f(x))) / ε``
    averaged over ``probes`` probes ``b`` shaped like the noise and their
    weights ``w`` with ``E[w bᵀ] = C`` (ε = :data:`PROBE_SCALE`), an estimate
    of the setting's mean squared error against the clean image.  The probes
    are seeded, so a call is repeatable.  Probes drawn with covariance ``C``
    and weighted by themselves need a positive definite ``C``: with the
    negative powers of the masked covariance clipped to zero they carried
    15 % more variance than the noise (``wbp``, 3-D), and 3-D Auto chose
    strength 1.5 for the DCT where 1.25 was best on the analysed region.
    White probes weighted by ``C b`` are exact too but their estimate
    spreads more: 2 of them chose 0.74 dB below the best (diffusion, ``sirt``
    seed 3), 8 were needed.

    What limits it is the covariance.  With the true covariance it chose, on
    4 seeds of every noise model of the 256×256 sample, the grid's best
    setting to within 0.2 dB.  The covariance measured on the high-passed
    data under-estimates the noise's lowest frequencies, and the whole
    refined covariance carries the signal's leftovers at shifts where the
    noise is barely correlated (negative lobes along Y where the true noise
    has none): both chose settings up to 1.4 dB below the best (SIRT-like
    noise).  Kept only over the blind-spot mask, the refined covariance chose
    settings within 0.25 dB (median and diffusion) and 0.42 dB (non-local
    means) of the grid's best (``tests/benchmarks/test_bench_autotune.py``).

    The previous method, J-invariance with the mask's footprint hidden
    (Batson & Royer 2019 with StructN2V's mask), scored the filter applied to
    an image whose hidden pixels were replaced, not the filter itself: on
    noise with negative side lobes (plain filtered back-projection) that
    version needed more smoothing and the choice was 0.6-1.4 dB below the best.

    References
    ----------
    Stein, C. M. (1981). Estimation of the mean of a multivariate normal
    distribution. The Annals of Statistics, 9(6), 1135-1151.
    Ramani, S., Blu, T. & Unser, M. (2008). Monte-Carlo SURE: a black-box
    optimization of regularization parameters for general denoising
    algorithms. IEEE Transactions on Image Processing, 17(9), 1540-1554.
    Batson, J. & Royer, L. (2019). Noise2Self: blind denoising by
    self-supervision. ICML, 524-533.

    Examples
    --------
    >>> from et_denoise.engine.filters.median import MEDIAN
    >>> from et_denoise.engine.sample import make_sample_2d
    >>> noisy = make_sample_2d((96, 96)).noisy
    >>> result = autotune(MEDIAN, noisy, grid={"size": (1, 5, 9)})
    >>> result.params.size > 1
    True
    """
    image = check_image(image)
    settings = _settings(method, grid if grid is not None else default_grid(method, image), base)
    volume_filter = any(getattr(params, "mode", "2d") == "3d" for params in settings)
    planes = planes if planes is not None else (DEFAULT_PLANES_3D if volume_filter else 1)
    for name, value in (("crop", crop), ("planes", planes), ("probes", probes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"{name} must be a whole number >= 1, got {value!r}")
    region = _central_region(image, crop, planes)
    runs = _absolute_settings(settings, image)
    if mask is None:
        acf = noise_autocorrelation(region, radius=min(8, min(region.shape[-2:]) - 1), cancel=cancel)
        mask = suggest_mask(acf, three_d=volume_filter and region.ndim == 3).mask
    footprint = _checked_mask(mask, region.ndim)
    covariance = _masked_covariance(refined_noise_covariance(region, three_d=footprint.shape[0] > 1,
                                                             cancel=cancel), footprint)
    variance = float(covariance[tuple(side // 2 for side in covariance.shape)])
    rng = np.random.default_rng(0)
    pairs = [_probe(region.shape, covariance, rng) for _ in range(probes)]
    inputs = [region] + [region + PROBE_SCALE * probe for probe, _ in pairs]  # the same for every setting
    counter = ProgressCounter(len(settings), progress)
    scores = []
    for params, run in zip(settings, runs):
        if cancel is not None:
            cancel.check()
        output, *moved = _denoise_all(method, run, inputs, cancel)
        passed = [np.mean(weight * (probe - output), dtype=np.float64) for (_, weight), probe in zip(pairs, moved)]
        error = np.mean((output - region) ** 2, dtype=np.float64) - variance + 2 * np.mean(passed) / PROBE_SCALE
        scores.append((params, float(error)))
        counter.step()
    best = min(scores, key=lambda item: item[1])[0]
    counter.finish()
    flat = footprint[0] if footprint.shape[0] == 1 else footprint
    return AutotuneResult(params=best, scores=scores, mask=flat.astype(np.uint8))


def _settings(method: Method, grid, base) -> list:
    """Every combination of the grid's values, as parameter objects."""
    base = base if base is not None else method.params_type()
    known = set(base.as_dict())
    unknown = [name for name in grid if name not in known]
    if unknown or not grid:
        raise ParameterError(f"{method.label} has no parameter {', '.join(unknown)}" if unknown
                             else "the search grid is empty")
    names = list(grid)
    return [base.replace(**dict(zip(names, values)))
            for values in itertools.product(*(tuple(grid[name]) for name in names))]


def _absolute_settings(settings: list, image: np.ndarray) -> list:
    """The settings with noise-relative values (``kappa`` with ``kappa_relative``) made absolute.

    A filter given a relative value estimates σ on the image it filters; the
    calibration's filled crops would give a slightly different σ than the
    image the chosen setting will be applied to, so σ is estimated once, on
    that image, and the calibration runs with absolute values.
    """
    def relative_fields(params):
        values = params.as_dict()
        return [name for name in values if values.get(f"{name}_relative") is True]

    if not any(relative_fields(params) for params in settings):
        return settings
    sigma = estimate_noise_sigma(image)
    return [params.replace(**{name: getattr(params, name) * sigma for name in relative_fields(params)},
                           **{f"{name}_relative": False for name in relative_fields(params)})
            for params in settings]


def _central_region(image: np.ndarray, crop: int, planes: int) -> np.ndarray:
    """The central ``planes`` × ``crop`` × ``crop`` block, as float32."""
    sizes = ((planes,) if image.ndim == 3 else ()) + (crop, crop)
    box = tuple(slice(max((n - s) // 2, 0), max((n - s) // 2, 0) + s) for n, s in zip(image.shape, sizes))
    region = np.ascontiguousarray(image[box], dtype=np.float32)
    return region


def _checked_mask(mask, ndim: int) -> np.ndarray:
    """The mask as a 3-D boolean array with its centre set (a 2-D mask is one plane)."""
    mask = np.asarray(mask) > 0
    if mask.ndim not in (2, 3) or mask.ndim > ndim or any(side % 2 == 0 for side in mask.shape):
        raise ParameterError(f"the mask must be 2-D (or 3-D for a volume) with odd sides, got shape {mask.shape}")
    if mask.ndim == 2:
        mask = mask[np.newaxis]
    mask[tuple(side // 2 for side in mask.shape)] = True
    return mask


def _masked_covariance(covariance: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """The covariance at the shifts of the footprint (3-D, odd sides), zero elsewhere, as a 3-D array."""
    covariance = covariance[np.newaxis] if covariance.ndim == 2 else covariance
    sides = [min(c, f) for c, f in zip(covariance.shape, footprint.shape)]
    central = tuple(slice((n - side) // 2, (n + side) // 2) for n, side in zip(covariance.shape, sides))
    kept = tuple(slice((n - side) // 2, (n + side) // 2) for n, side in zip(footprint.shape, sides))
    return np.where(footprint[kept], covariance[central], 0.0)


def _probe(shape: tuple, covariance: np.ndarray, rng: np.random.Generator) -> tuple:
    """A probe ``b`` shaped like the noise and its weight ``w``, with ``E[w bᵀ] = C``, for ``shape``.

    One white noise filtered in Fourier space by ``sqrt(|S|)`` (the probe)
    and by ``sign(S) sqrt(|S|)`` (the weight), ``S`` the power spectrum of the
    3-D ``covariance`` wrapped around the array.  A covariance kept over a
    mask is rarely positive definite: probes drawn with ``S`` clipped to zero
    carry more variance than the noise (15 % on ``wbp`` in 3-D) and make
    every setting look as if it passed more noise; the signed weight keeps
    ``E[wᵀ J b] = tr(C J)`` exact for any symmetric ``C``, and the probe
    close to the noise keeps the estimate's spread that of noise-like probes.
    """
    full = np.zeros((1,) * (3 - len(shape)) + tuple(shape))
    half = [min(side // 2, n - 1) for side, n in zip(covariance.shape, full.shape)]
    shifts = itertools.product(*(range(-h, h + 1) for h in half))
    for shift in shifts:
        full[tuple(s % n for s, n in zip(shift, full.shape))] += covariance[
            tuple(s + side // 2 for s, side in zip(shift, covariance.shape))]
    power = np.fft.rfftn(full).real
    root = np.sqrt(np.abs(power))
    white = np.fft.rfftn(rng.standard_normal(full.shape))
    probe, weight = (np.fft.irfftn(white * factor, s=full.shape).reshape(shape).astype(np.float32)
                     for factor in (root, np.sign(power) * root))
    return probe, weight


def _denoise_all(method: Method, params: MethodParams, images: list, cancel) -> list:
    """Run the filter on each image; plane-wise filters get them as one stack (one thread pool)."""
    if getattr(params, "mode", None) == "2d":
        stack = np.concatenate([image.reshape((-1,) + image.shape[-2:]) for image in images])
        out = method.apply(stack, params, cancel=cancel)
        return [part.reshape(image.shape) for part, image in zip(np.split(out, len(images)), images)]
    return [method.apply(image, params, cancel=cancel) for image in images]
