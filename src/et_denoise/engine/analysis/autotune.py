"""Self-tuned filter parameters by J-invariance with a structured mask.

A filter's best setting (median size, diffusion's κ, non-local means' h)
depends on the noise, and with no clean image to compare against it is
usually guessed.  Batson & Royer (2019) showed how to score a setting from the
noisy image alone: hide some pixels, fill them from their neighbours, run the
filter, and compare its output at the hidden pixels with their noisy values.
Because the output there cannot depend on those pixels' own noise, the mean
squared difference is the true error plus the noise variance, so the setting
with the lowest score is the best.

That argument needs the output at a hidden pixel to be independent of its
noise.  Tomogram noise is correlated along X, so the neighbours that fill a
single hidden pixel carry its noise and the filter gets it back: plain
J-invariance (scikit-image's ``calibrate_denoiser``) then picks near-identity
settings.  As StructN2V does for training, we hide the
whole footprint that the noise autocorrelation marks as correlated (the
suggested mask of :mod:`engine.mask_suggestion`), on a sparse grid of centres,
fill it from pixels outside the footprint, and score only at the centres.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

from et_denoise.engine.analysis.autocorr import noise_autocorrelation
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.validation import check_image
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn
from et_denoise.engine.analysis.mask_suggestion import suggest_mask
from et_denoise.engine.methods import Method
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.params import MethodParams

DEFAULT_GRIDS: dict[str, dict[str, tuple]] = {
    "median": {"size": (3, 5, 7, 9, 11, 13, 15, 19, 23, 31)},
    "diffusion": {"kappa": (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0), "iterations": (5, 10, 20, 40, 80, 160)},
    "nlm": {"h": (0.5, 0.65, 0.8, 1.0, 1.25, 1.6, 2.0), "patch_distance": (3, 5, 8)},
    "dct": {"strength": (0.8, 0.9, 1.0, 1.1, 1.25, 1.5)},
}
"""The settings searched for each method (by :attr:`Method.name`) when no grid is given.

Each entry maps parameter names to the values tried; every combination is
scored.  Parameters not named keep the value of ``base`` (the method's defaults).
"""

DEFAULT_CROP = 256
"""Side (pixels) of the central region the calibration works on: seconds, not minutes."""

DEFAULT_PLANES_3D = 8
"""Planes of the central block of a volume analysed when a setting filters in 3-D.

Plane-wise (2-D mode) settings are calibrated on the central plane alone.
"""

DEFAULT_PASSES = 4
"""Grid positions of the hidden footprints, each a filter run per setting."""


@dataclass(frozen=True)
class AutotuneResult:
    """The outcome of :func:`autotune`.

    Attributes
    ----------
    params : MethodParams
        The setting with the lowest self-supervised loss.
    scores : list of (MethodParams, float)
        Every setting tried and its loss (mean squared difference between the
        filter's output at the hidden centres and their noisy values), in the
        order tried.  Lower is better; the values compare settings, their
        absolute level includes the noise variance.
    mask : ndarray of uint8
        The footprint hidden around each centre (the blind-spot mask): 2-D
        unless it spans planes.
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
    passes: int = DEFAULT_PASSES,
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
        The footprint hidden around each scored pixel: an odd-sided 0/1 array
        centred on it, 2-D (in-plane) or 3-D; ``np.ones((1, 1))`` hides single
        pixels (plain J-invariance, right for white noise).  Default: the mask suggested by
        :func:`~engine.mask_suggestion.suggest_mask` from the autocorrelation
        of the analysed region (3-D when a setting filters in 3-D).
    grid : mapping of str to sequence, optional
        Values to try for each parameter; every combination is scored.
        Default: ``DEFAULT_GRIDS[method.name]``.
    base : MethodParams, optional
        The values of the parameters not in ``grid``; default the method's defaults.
    crop : int
        Side of the central in-plane region analysed (the whole plane if smaller).
    planes : int, optional
        For a volume, the number of central planes analysed: default 1 when
        every setting filters plane by plane, :data:`DEFAULT_PLANES_3D` when
        one filters in 3-D (3-D modes cost much more: non-local means in 3-D
        about 100× the 2-D time, so give it a small grid or crop).
    passes : int
        Number of grid positions of the hidden footprints; each costs one
        filter run per setting.  More passes score more pixels.
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
        invalid values, a bad mask, too small an image for the mask.
    ImageError
        An image that is not a 2-D/3-D array of finite numbers.
    Cancelled
        When ``cancel`` was set.

    Notes
    -----
    The centres lie on a grid whose spacing along each axis is twice the
    mask's extent (at least 4 pixels in-plane), so hidden footprints never
    touch; one pixel in eight is hidden for a line mask, one in four for a
    square.  Each hidden pixel
    takes the value of a random visible pixel next to it (as Noise2Void's
    training does): with a horizontal mask, one from the row above or below.
    The loss is summed over ``passes`` grid positions spread along the cell's
    diagonal; the random choices are seeded, so a call is repeatable.

    As in Batson & Royer, the loss is that of the "J-invariant version" of the
    filter (the filter applied to the image with the footprints replaced),
    which differs a little from the filter itself.  How the footprints are
    filled matters: Batson & Royer's interpolation (the mean of the visible
    neighbours) leaves them less noisy than the data, which flatters weak
    smoothing; on the sample this chose diffusion settings 2.2 dB below the
    best on 2 of 4 seeds.  Random neighbours keep the noise level; with the
    default grids they chose, on 8 seeds of the 256×256 sample, settings within
    0.01 dB (median), 0.37 dB (non-local means) and 0.66 dB (diffusion) of the
    grid's best, leaning slightly towards more smoothing.

    References
    ----------
    Batson, J. & Royer, L. (2019). Noise2Self: blind denoising by
    self-supervision. ICML, 524-533.
    Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020).
    Removing structured noise with self-supervised blind-spot networks. ISBI.

    Examples
    --------
    >>> from et_denoise.engine.filters.median import MEDIAN
    >>> from et_denoise.engine.sample import make_sample_2d
    >>> noisy = make_sample_2d((96, 96)).noisy
    >>> result = autotune(MEDIAN, noisy, grid={"size": (1, 5, 9)})
    >>> result.params.size > 1
    True
    """
    settings = _settings(method, grid, base)
    volume_filter = any(getattr(params, "mode", "2d") == "3d" for params in settings)
    planes = planes if planes is not None else (DEFAULT_PLANES_3D if volume_filter else 1)
    for name, value in (("crop", crop), ("planes", planes), ("passes", passes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"{name} must be a whole number >= 1, got {value!r}")
    image = check_image(image)
    region = _central_region(image, crop, planes)
    runs = _absolute_settings(settings, image)
    if mask is None:
        acf = noise_autocorrelation(region, radius=min(8, min(region.shape[-2:]) - 1), cancel=cancel)
        mask = suggest_mask(acf, three_d=volume_filter and region.ndim == 3).mask
    footprint = _checked_mask(mask, region.ndim)
    hidden_sets = _hidden_grids(region.shape, footprint, passes)
    filled = [_fill(region, hidden, footprint, np.random.default_rng(index))
              for index, (hidden, _) in enumerate(hidden_sets)]
    counter = ProgressCounter(len(settings), progress)
    scores = []
    for params, run in zip(settings, runs):
        if cancel is not None:
            cancel.check()
        outputs = _denoise_all(method, run, filled, cancel)
        errors = [(output[centres] - region[centres]) ** 2
                  for output, (_, centres) in zip(outputs, hidden_sets)]
        scores.append((params, float(np.mean(np.concatenate(errors)))))
        counter.step()
    best = min(scores, key=lambda item: item[1])[0]
    counter.finish()
    flat = footprint[0] if footprint.ndim == 3 and footprint.shape[0] == 1 else footprint
    return AutotuneResult(params=best, scores=scores, mask=flat.astype(np.uint8))


def _settings(method: Method, grid, base) -> list:
    """Every combination of the grid's values, as parameter objects."""
    if grid is None:
        if method.name not in DEFAULT_GRIDS:
            raise ParameterError(f"no default search grid for {method.label}: give one")
        grid = DEFAULT_GRIDS[method.name]
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
    mask = np.asarray(mask) > 0
    if mask.ndim not in (2, 3) or mask.ndim > ndim or any(side % 2 == 0 for side in mask.shape):
        raise ParameterError(f"the mask must be 2-D (or 3-D for a volume) with odd sides, got shape {mask.shape}")
    if mask.ndim < ndim:
        mask = mask[np.newaxis]
    mask[tuple(side // 2 for side in mask.shape)] = True
    return mask


def _hidden_grids(shape, footprint: np.ndarray, passes: int):
    """For each pass: the hidden pixels (bool array) and the index arrays of the scored centres."""
    flat_in_z = len(shape) == 3 and footprint.shape[0] == 1
    spacing = []
    for axis, (side, size) in enumerate(zip(footprint.shape, shape)):
        in_plane = axis >= len(shape) - 2
        step = 1 if flat_in_z and axis == 0 else max(2 * side, 4 if in_plane else 2)
        if in_plane and step > size:
            raise ParameterError(f"the image ({size} px) is too small for the mask ({side} px wide)")
        spacing.append(step)
    result = []
    for index in range(passes):
        starts = [((index * step) // passes) % size for step, size in zip(spacing, shape)]
        axes = [np.arange(start, size, step) for start, size, step in zip(starts, shape, spacing)]
        centres = np.zeros(shape, dtype=bool)
        centres[np.ix_(*axes)] = True
        hidden = ndimage.binary_dilation(centres, structure=footprint)  # footprint is point-symmetric
        result.append((hidden, np.nonzero(centres)))
    return result


def _fill(image: np.ndarray, hidden: np.ndarray, footprint: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """``image`` with each hidden pixel replaced by a random visible pixel among its nearest.

    The candidates are the visible pixels of the 3×3 window (in the plane only
    unless the footprint spans planes: a flat mask says nothing about the
    noise's correlation between planes), widened to 5×5 and so on where none
    is visible.
    """
    flat = image.ndim == 3 and footprint.shape[0] == 1
    positions = np.argwhere(hidden)
    sources = np.empty_like(positions)
    pending = np.arange(len(positions))
    shape = np.array(image.shape)
    radius = 1
    while pending.size:
        if radius > max(image.shape):
            raise ParameterError("the mask hides every pixel of the image")
        reach = [range(0, 1) if flat and axis == 0 else range(-radius, radius + 1)
                 for axis in range(image.ndim)]
        offsets = np.array([o for o in itertools.product(*reach) if any(o)])
        candidates = positions[pending, None, :] + offsets[None, :, :]
        usable = np.all((candidates >= 0) & (candidates < shape), axis=2)
        usable[usable] = ~hidden[tuple(candidates[usable].T)]
        keys = np.where(usable, rng.random(usable.shape), -1.0)
        found = usable.any(axis=1)
        choice = keys.argmax(axis=1)
        sources[pending[found]] = candidates[found, choice[found]]
        pending = pending[~found]
        radius += 1
    filled = image.copy()
    filled[tuple(positions.T)] = image[tuple(sources.T)]
    return filled


def _denoise_all(method: Method, params: MethodParams, images: list, cancel) -> list:
    """Run the filter on each image; plane-wise filters get them as one stack (one thread pool)."""
    if getattr(params, "mode", None) == "2d":
        stack = np.concatenate([image.reshape((-1,) + image.shape[-2:]) for image in images])
        out = method.apply(stack, params, cancel=cancel)
        return [part.reshape(image.shape) for part, image in zip(np.split(out, len(images)), images)]
    return [method.apply(image, params, cancel=cancel) for image in images]
