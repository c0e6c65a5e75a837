"""Turn the noise's autocorrelation into a StructN2V blind-spot mask.

Plain Noise2Void hides one pixel and predicts it from its neighbours; when the
noise of those neighbours is correlated with the hidden pixel's, the network
learns to copy the noise.  StructN2V (Broaddus et al. 2020) hides the
correlated neighbours too.  Which ones they are is read here from the
autocorrelation (:mod:`engine.autocorr`) instead of guessed from a plot: the
shifts whose correlation, positive or negative, reaches a threshold and that
are connected to the centre.

The mask is expressed with the presets of :mod:`engine.n2v.masks` when it is
one (``horizontal:9``, ``vertical:5``, ``cross:5``, ``square:3``, ``none``),
so that it can be passed as ``--mask`` to training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from et_denoise.engine.analysis.autocorr import (DEFAULT_HIGHPASS_SIGMA, DEFAULT_RADIUS, Autocorrelation,
                                                 noise_autocorrelation, residual_autocorrelation)
from et_denoise.engine.region import Region, parse_region
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.n2v.masks import PRESETS, mask_to_text, preset_mask

DEFAULT_THRESHOLD = 0.2
"""Smallest |correlation| that a neighbour must have to be hidden (the tail of its lobe follows).

On the built-in sample the noise's true correlation along X is 0.63, -0.05,
-0.40, -0.34, -0.19, -0.09, -0.04 at 1..7 px and about 0 along Y; estimated
from the raw data (high-passed, the flattest half) it reads 0.63, -0.04, -0.37,
-0.31, -0.16, -0.06, -0.00 (seed 0): the high-pass weakens the outer lobe.  0.2 picks out
the strongly correlated shifts, up to ±4 px, well above what estimation noise
and signal left in a small region produce (up to 0.16 off the X axis in a
64×64 region of cell content); the outer tail of the negative lobe is then
followed down to :data:`TAIL_FRACTION` of it.
"""

TAIL_FRACTION = 0.65
"""A lobe that reaches the threshold is followed outwards while its |correlation| stays at or above
this fraction of the threshold.

Anti-correlated neighbours betray the blind spot as much as correlated ones, so
the mask must cover the whole lobe, not only its peak: on the sample the tail
adds ±5 px (ρ = -0.16 to -0.18 estimated from raw data, seeds 0-7), giving ``horizontal:11``, with
which StructN2V scored 1.6 dB more PSNR than with ``horizontal:9`` in the same 600 training steps.
Only shifts straight outwards from a kept one are added, so weaker correlations elsewhere (signal,
estimation noise) never join.  0.65 (0.13 at the default threshold) rather than 0.5 keeps the suggestion
for the real ET slices the same from a residual as from raw data: their noise's 0.05-0.07 at ±2 px
reads 0.08-0.10 in the residual of the noise-aware DCT shrinkage, which at 0.5 (0.1) grew ``square:3``
into a 3×5 block on 2 of 4 slices; no noise model of the sample changes (seeds 0-7).
"""

LOBE_MASS = 2.0
"""A lobe along an axis whose |correlation| never reaches the threshold is hidden, whole, when it
peaks at the tail level (:data:`TAIL_FRACTION` of the threshold) and its shifts down to
:data:`LOBE_FLOOR` of the threshold sum to this many times the threshold.

The iterative (``sirt``) sample's noise has a wide negative lobe along X that no single shift
makes strong (raw-data estimate -0.06, -0.15, -0.14, -0.12, -0.09, -0.07, -0.06 at 3..9 px, seed 0):
with ``horizontal:5``, the suggestion without it, StructN2V in 2-D reached 25.48 dB in 10 minutes
and got worse with longer training (the network learns to read the lobe); with ``horizontal:9``
26.47, ``horizontal:15`` 27.24 and, trained for the whole 10 minutes, 27.84.
"""

LOBE_FLOOR = 0.3
"""Fraction of the threshold down to which a wide lobe (:data:`LOBE_MASS`) is followed and summed."""

NEIGHBOUR_ALLOWANCE = 0.1
"""A pixel next to the blind spot along an axis is hidden at this much less |correlation| than the
threshold (but no less than half of it).

The blind spot's nearest neighbours are the ones a network predicts it from
best, and the ones whose correlation the signal left in raw data weakens
most: the negative side lobes of ramp-filtered noise (``fbp`` of the sample,
-0.22 at 1 px along X) read -0.16 to -0.21 there (seeds 0-7), around the
threshold, and hiding them (``horizontal:5`` instead of plain N2V) gained
4.9 dB in 3 minutes of training.
"""

NOISE_FLOOR_FACTOR = 4.0
"""The threshold is raised to this many times the RMS correlation far from the centre (the outer two
pixels of the autocorrelation), where the noise is no longer correlated and what is left is estimation
noise and signal: a small or busy region gives a noisier estimate and needs a higher threshold."""

MIN_FLOOR_RADIUS = 8
"""Smallest autocorrelation radius (pixels) whose outer pixels measure the noise floor."""

MIN_PLANES_3D = 32
"""Fewest planes for which 3-D training (cubes of at least 32 voxels) is suggested."""

MAX_HALF_SIZE = 7
"""Largest distance (pixels) from the centre that a suggested mask reaches: at most 15 wide.

Hiding longer runs leaves the network (or the calibration) too little context
around the blind spot; correlations that reach further are reported but capped.
"""

_AXIS_NAMES = ("Z", "Y", "X")


@dataclass(frozen=True)
class MaskSuggestion:
    """A suggested blind-spot mask and why.

    Attributes
    ----------
    mask : ndarray of uint8, odd sides, 2-D (or 3-D when planes are correlated)
        1 where pixels are hidden together with the centre (the blind spot,
        always 1); ``[[1]]`` for plain N2V.
    spec : str or None
        The ``--mask`` argument (``"horizontal:9"``, ``"none"`` ...), or None
        when the shape is no preset: then save :attr:`mask_file_text` to a
        file and pass its path.
    explanation : str
        One sentence for the user, e.g. ``"noise correlated along X up to
        ±4 px → horizontal line of 9"``.
    threshold : float
        The threshold used: the one asked for, or the noise floor of the
        estimate when that is higher (see :data:`NOISE_FLOOR_FACTOR`).
    train_3d : bool
        True when the suggestion is to train in 3-D (``mode 3d``) with this
        3-D mask: the noise is correlated along Z and the volume has at least
        :data:`MIN_PLANES_3D` planes.
    """

    mask: np.ndarray
    spec: str | None
    explanation: str
    threshold: float
    train_3d: bool = False

    @property
    def is_plain(self) -> bool:
        """True when the suggestion is plain N2V (a single-pixel blind spot)."""
        return self.mask.size == 1

    @property
    def half_size(self) -> tuple:
        """How far the mask reaches from the centre along each axis ((Z,) Y, X)."""
        return tuple(side // 2 for side in self.mask.shape)

    @property
    def mask_file_text(self) -> str:
        """The mask in the 0/1 text format that ``--mask FILE`` reads."""
        return mask_to_text(None if self.is_plain else self.mask)


def suggest_mask(
    acf: Autocorrelation,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_half_size: int = MAX_HALF_SIZE,
    three_d: bool = False,
    planes: int | None = None,
) -> MaskSuggestion:
    """Suggest a StructN2V mask from a noise autocorrelation.

    Parameters
    ----------
    acf : Autocorrelation
        From :func:`~engine.autocorr.noise_autocorrelation` or
        :func:`~engine.autocorr.residual_autocorrelation`.
    threshold : float
        Hide the shifts where ``|correlation| >= threshold`` (0 < threshold < 1),
        and the outer tails of their lobes down to ``TAIL_FRACTION * threshold``.
        Lower values give larger masks.
    max_half_size : int
        Cap on the mask's reach from the centre, in pixels.
    three_d : bool
        For a 3-D autocorrelation, suggest a 3-D mask (for training on
        volumes) when neighbouring planes are correlated.  By default the mask
        is read from the in-plane autocorrelation (for training on planes),
        and the explanation says when planes are correlated too.
    planes : int, optional
        Number of planes of the volume the autocorrelation was measured on:
        where planes are correlated, 3-D training is suggested when there are
        at least :data:`MIN_PLANES_3D` of them, and the explanation says so.

    Returns
    -------
    MaskSuggestion

    Notes
    -----
    The strongly correlated shifts (either sign: a neighbour anti-correlated
    with the blind spot betrays it as much as a correlated one) that are
    connected to the centre are kept; gaps of up to two pixels, where the
    correlation crosses zero between a positive and a negative lobe, are
    bridged.  The threshold is noise-aware: it is raised to
    :data:`NOISE_FLOOR_FACTOR` times the RMS correlation at the largest
    shifts when that is higher; the blind spot's neighbours along the axes
    need :data:`NEIGHBOUR_ALLOWANCE` less.  Each kept lobe is followed straight outwards
    along its axis while |ρ| stays at or above half the threshold: the outer
    tail of a lobe predicts the blind spot too, and the estimate from raw data
    weakens it (the high-pass).  A lobe along an axis that no shift makes
    strong is hidden whole when it is wide enough to carry as much correlation
    as two strong shifts (:data:`LOBE_MASS`).  Diagonal shifts have no tail to follow: the
    high-pass of raw data leaves a broad negative bowl around a strong
    correlation, strongest on the diagonals, which is no noise lobe.  The set
    is then filled towards the centre (every pixel between the centre and a
    kept shift is hidden too), so that correlation along X gives a solid
    horizontal line; it is symmetric through the centre and connected.  The
    explanation is read from the mask drawn.  A 3-D suggestion stays a 2-D
    mask unless neighbouring planes are correlated.

    References
    ----------
    Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020).
    Removing structured noise with self-supervised blind-spot networks. ISBI.

    Examples
    --------
    >>> acf = Autocorrelation(values=np.array([[0.0, 0.05, 0.0],
    ...                                        [0.6, 1.0, 0.6],
    ...                                        [0.0, 0.05, 0.0]]), source="example")
    >>> suggest_mask(acf).spec
    'horizontal:3'
    """
    if not 0 < threshold < 1:
        raise ParameterError(f"the threshold must be between 0 and 1, got {threshold}")
    if isinstance(max_half_size, bool) or not isinstance(max_half_size, (int, np.integer)) or max_half_size < 1:
        raise ParameterError(f"the largest mask half-size must be a whole number >= 1, got {max_half_size}")
    values = acf.values if three_d else acf.plane
    threshold = max(float(threshold), noise_floor(acf))
    connected = _correlated_shifts(values, threshold)
    reach = _reach(connected)
    mask = _fill_towards_centre(_crop(connected, reach))
    capped = _crop(mask, tuple(min(r, max_half_size) for r in reach))
    if capped.ndim == 3 and capped.shape[0] == 1:
        capped = capped[0]
    spec = _preset_spec(capped)
    explanation = _explain(capped, spec, max(reach) > max_half_size, max_half_size, threshold, values)
    z_reach = _reach(_correlated_shifts(acf.values, threshold))[0] if acf.values.ndim == 3 else 0
    deep_enough = planes is None or planes >= MIN_PLANES_3D
    if z_reach:
        explanation += f"; neighbouring planes are correlated (up to ±{z_reach} px along Z)"
        if not deep_enough:
            explanation += (f", but {planes} planes are too few for 3-D training (it needs {MIN_PLANES_3D}): "
                            "train in 2-D with the in-plane mask")
        elif three_d:
            explanation += ": train in 3-D (mode 3d) with this mask"
        else:
            explanation += ": train in 3-D (mode 3d) with the 3-D mask that the 3-D analysis suggests"
    return MaskSuggestion(mask=capped.astype(np.uint8), spec=spec, explanation=explanation,
                          threshold=threshold, train_3d=bool(z_reach) and deep_enough and capped.ndim == 3)


def noise_floor(acf: Autocorrelation) -> float:
    """:data:`NOISE_FLOOR_FACTOR` times the RMS in-plane correlation of the outer two pixels of ``acf``.

    0 when the autocorrelation reaches less than :data:`MIN_FLOOR_RADIUS` pixels: then its
    outer pixels may still hold the noise's own lobes.

    Examples
    --------
    >>> round(noise_floor(Autocorrelation(np.full((17, 17), 0.01), "example")), 3)
    0.04
    """
    plane = np.asarray(acf.plane, dtype=np.float64)
    if min(plane.shape) < 2 * MIN_FLOOR_RADIUS + 1:
        return 0.0
    outer = np.ones(plane.shape, dtype=bool)
    outer[2:-2, 2:-2] = False
    return NOISE_FLOOR_FACTOR * float(np.sqrt(np.mean(plane[outer] ** 2)))


def render_mask(mask: np.ndarray) -> str:
    """Draw a mask as text: ``O`` the blind spot, ``#`` hidden neighbours, ``.`` the rest.

    A border of ``.`` shows the pixels just outside the mask; the planes of a
    3-D mask are drawn one after another, each headed by its Z shift.

    Examples
    --------
    >>> render_mask(np.ones((1, 3), dtype=np.uint8)).splitlines()
    ['.....', '.#O#.', '.....']
    """
    mask = np.asarray(mask)
    centre = tuple(side // 2 for side in mask.shape)
    chars = np.where(np.pad(mask, 1) > 0, "#", ".")
    chars[tuple(c + 1 for c in centre)] = "O"
    if mask.ndim == 2:
        return "\n".join("".join(row) for row in chars)
    blocks = [f"z {z - centre[0]:+d}\n" + "\n".join("".join(row) for row in plane)
              for z, plane in enumerate(chars[1:-1])]
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class NoiseAnalysis:
    """The noise autocorrelation of an image and the mask it suggests."""

    autocorrelation: Autocorrelation
    suggestion: MaskSuggestion


def analyse_noise(
    image: np.ndarray,
    *,
    denoised: np.ndarray | None = None,
    region: str | Region | tuple | None = None,
    radius: int = DEFAULT_RADIUS,
    highpass_sigma: float = DEFAULT_HIGHPASS_SIGMA,
    threshold: float = DEFAULT_THRESHOLD,
    three_d: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> NoiseAnalysis:
    """Autocorrelation and suggested mask in one call (the ``autocorr`` command).

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The raw data.
    denoised : ndarray, optional
        A result computed from ``image``: then the residual ``image - denoised``
        is analysed instead of the (high-passed) raw data.
    region : str, Region or tuple, optional
        Where to look, e.g. ``"0:64,0:256"`` (see :func:`~engine.region.parse_region`).
    radius, highpass_sigma
        As in :func:`~engine.autocorr.noise_autocorrelation` (the high-pass
        applies to raw data only).
    threshold, three_d
        As in :func:`suggest_mask`.  The autocorrelation of a volume is always
        3-D (the report shows the Z profile); ``three_d`` says whether the
        mask may be.
    progress, cancel
        Progress callable and cancel token, as everywhere in the engine.

    Returns
    -------
    NoiseAnalysis
        Call :meth:`NoiseAnalysis.report` for the text.

    Raises
    ------
    ParameterError
        A region that cannot be read or lies outside the image, a bad threshold.
    ImageError
        Images of different shapes, constant data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> analyse_noise(rng.normal(size=(96, 96))).suggestion.spec
    'none'
    """
    if isinstance(region, str):
        region = parse_region(region, image.shape)
    if denoised is None:
        acf = noise_autocorrelation(image, region=region, radius=radius, highpass_sigma=highpass_sigma,
                                    progress=progress, cancel=cancel)
    else:
        acf = residual_autocorrelation(image, denoised, region=region, radius=radius,
                                       progress=progress, cancel=cancel)
    planes = image.shape[0] if image.ndim == 3 else None
    return NoiseAnalysis(acf, suggest_mask(acf, threshold=threshold, three_d=three_d, planes=planes))


def _correlated_shifts(values: np.ndarray, threshold: float) -> np.ndarray:
    """Shifts where |correlation| >= threshold, connected to the centre across gaps of up to 2 px,
    with the outward tails of their lobes (see :data:`TAIL_FRACTION`)."""
    values = np.asarray(values, dtype=np.float64)
    values = (values + values[(slice(None, None, -1),) * values.ndim]) / 2  # exact point symmetry
    centre = tuple(side // 2 for side in values.shape)
    strong = np.abs(values) >= threshold
    weak = np.abs(values) >= TAIL_FRACTION * threshold
    near = np.abs(values) >= max(threshold - NEIGHBOUR_ALLOWANCE, threshold / 2)
    strong |= _extended_lobes(values, threshold)
    strong[centre] = True
    for axis in range(values.ndim):  # the blind spot's own neighbours along the axes (NEIGHBOUR_ALLOWANCE)
        for step in (-1, 1):
            neighbour = tuple(c + step if a == axis else c for a, c in enumerate(centre))
            if 0 <= neighbour[axis] < values.shape[axis]:
                strong[neighbour] |= near[neighbour]
    labels, _ = ndimage.label(ndimage.binary_dilation(strong), structure=np.ones((3,) * values.ndim))
    return _with_tails(strong & (labels == labels[centre]), weak)


def _extended_lobes(values: np.ndarray, threshold: float) -> np.ndarray:
    """Lobes along an axis whose |ρ| stays below the threshold but that carry as much correlation as
    :data:`LOBE_MASS` strong shifts (see there), whole down to :data:`LOBE_FLOOR` of the threshold."""
    axes = np.zeros(values.shape, dtype=bool)
    for axis in range(values.ndim):
        axes[_axis_through_centre(values.shape, axis)] = True
    magnitude = np.abs(values)
    extended = np.zeros(values.shape, dtype=bool)
    for sign in (1.0, -1.0):
        lobe = axes & (sign * values >= LOBE_FLOOR * threshold)
        labels, count = ndimage.label(lobe)
        if count:
            index = np.arange(1, count + 1)
            mass = ndimage.sum(magnitude, labels, index=index)
            peak = ndimage.maximum(magnitude, labels, index=index)
            wide = (mass >= LOBE_MASS * threshold) & (peak >= TAIL_FRACTION * threshold) & (peak < threshold)
            extended |= np.isin(labels, index[wide])
    return extended


def _axis_through_centre(shape: tuple, axis: int) -> tuple:
    """The index of the line along ``axis`` through the centre of an array of ``shape``."""
    return tuple(slice(None) if a == axis else side // 2 for a, side in enumerate(shape))


def _with_tails(kept: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Add the ``weak`` shifts that lie one step straight outwards from a kept shift, repeatedly.

    "Outwards" is along the kept shift's longest component, when it has only
    one: (0, 4) leads to (0, 5), (1, 4) to (1, 5), (2, 2) nowhere.
    """
    centre = np.array([side // 2 for side in kept.shape])
    kept = kept.copy()
    frontier = [offset for offset in np.argwhere(kept) - centre if offset.any()]
    while frontier:
        grown = []
        for offset in frontier:
            longest = np.abs(offset) == np.abs(offset).max()
            if longest.sum() > 1:
                continue
            outwards = offset + np.where(longest, np.sign(offset), 0)
            index = tuple(outwards + centre)
            inside = all(0 <= i < side for i, side in zip(index, kept.shape))
            if inside and weak[index] and not kept[index]:
                kept[index] = True
                grown.append(outwards)
        frontier = grown
    return kept


def _reach(mask: np.ndarray) -> tuple:
    """Largest |shift| of a set pixel along each axis, from the centre."""
    offsets = np.argwhere(mask) - np.array([side // 2 for side in mask.shape])
    return tuple(int(v) for v in np.abs(offsets).max(axis=0))


def _crop(mask: np.ndarray, half: tuple) -> np.ndarray:
    """The central part of ``mask`` reaching ``half[i]`` pixels from the centre along axis i."""
    return mask[tuple(slice(side // 2 - h, side // 2 + h + 1) for side, h in zip(mask.shape, half))]


def _fill_towards_centre(mask: np.ndarray) -> np.ndarray:
    """Also set every pixel on the segment between the centre and each set pixel."""
    centre = np.array([side // 2 for side in mask.shape])
    filled = mask.copy()
    for offset in np.argwhere(mask) - centre:
        steps = int(np.abs(offset).max())
        points = np.rint(np.outer(np.arange(steps + 1) / max(steps, 1), offset)).astype(int) + centre
        filled[tuple(points.T)] = True
    return filled


def _preset_spec(mask: np.ndarray) -> str | None:
    """The preset text (``horizontal:9`` ...) that builds exactly this mask, if any."""
    if mask.size == 1:
        return "none"
    if mask.ndim != 2:
        return None
    for kind in PRESETS:
        for length in set(mask.shape):
            if kind != "none" and length >= 3 and np.array_equal(preset_mask(kind, length), mask):
                return f"{kind}:{length}"
    return None


def _explain(mask, spec, capped, max_half_size, threshold, values) -> str:
    """One sentence read from the mask drawn: where it reaches along each axis, its size, its name."""
    if mask.size == 1:
        others = np.abs(values)
        others[tuple(side // 2 for side in values.shape)] = 0
        return (f"no neighbour's noise is correlated above {threshold:.2g} (largest |ρ| = {others.max():.2f}): "
                "the noise is close to white, plain N2V (single-pixel blind spot) suits it")
    centre = tuple(side // 2 for side in mask.shape)
    along = []
    for axis, name in zip(range(mask.ndim), _AXIS_NAMES[-mask.ndim:]):
        line = mask[_axis_through_centre(mask.shape, axis)]
        on_axis = np.flatnonzero(line) - centre[axis]
        if np.abs(on_axis).max() > 0:
            along.append(f"±{np.abs(on_axis).max()} px along {name}")
    off_axis = int(mask.sum()) - 1 - sum(int(np.count_nonzero(mask[_axis_through_centre(mask.shape, axis)])) - 1
                                         for axis in range(mask.ndim))
    what = (f"noise correlated (|ρ| ≥ {threshold:.2g}, lobes followed to {TAIL_FRACTION * threshold:.2g}): "
            f"hides {' and '.join(along) if along else 'no pixel on the axes'}")
    if off_axis:
        what += f" and {off_axis} px off the axes"
    size = "×".join(str(side) for side in mask.shape)
    if spec is not None:
        kind, length = spec.split(":")
        shape = {"horizontal": "horizontal line", "vertical": "vertical line"}.get(kind, kind)
        result = f"{shape} of {length}" + ("" if kind in ("horizontal", "vertical") else f" ({size} px)")
    else:
        result = f"a custom shape of {size} px"
    return f"{what} → {result}" + (f" (capped at ±{max_half_size} px)" if capped else "")
