"""Spatial autocorrelation of the noise in a tomogram.

Noise in a reconstructed tomogram is not white: back-projection correlates it
along X (perpendicular to the tilt axis).  Its autocorrelation tells how far a
pixel's noise is predictable from its neighbours, which is what a blind-spot
mask (StructN2V) or a self-supervised calibration must hide.

Two sources of "noise only" data are offered, because on raw data the signal
itself is correlated too:

* :func:`noise_autocorrelation` on a *region* of background (a rectangle where
  there is little signal), optionally high-passed by subtracting a Gaussian-
  smoothed copy;
* :func:`residual_autocorrelation` of ``raw - denoised``: after a good denoiser
  (N2V, a filter) the residual is mostly noise, and after plain N2V only the
  structured part of the noise is left in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import ndimage

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.region import Region
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn
from et_denoise.engine.validation import check_image

DEFAULT_RADIUS = 12
"""Largest shift (pixels) kept in the result; ET noise correlations span a few pixels."""

DEFAULT_HIGHPASS_SIGMA = 3.0
"""σ (pixels) of the Gaussian subtracted from raw data to remove the signal (see Notes
of :func:`noise_autocorrelation`)."""

DEFAULT_FLAT_FRACTION = 0.5
"""Fraction of each plane's pixels, the flattest, that the autocorrelation of raw data is measured on.

Flatness is the Gaussian gradient magnitude (σ :data:`STRUCTURE_SIGMA`) of the
plane averaged over tiles of :data:`FLAT_TILE` pixels: the noise averages out
in it, edges do not.  On the built-in sample
(256², seeds 0-7) the noise of ramp-filtered back-projection (``fbp``), -0.22
and -0.23 at 1 and 2 px along X, reads -0.05 to -0.13 at 1 px from the whole
high-passed image, where the signal's own positive correlation cancels it,
and -0.16 to -0.21 from its flattest half; white noise reads up to +0.11 at
1 px from the whole image (signal), at most 0.02 from its flattest half.
"""

STRUCTURE_SIGMA = 2.0
"""σ (pixels) of the Gaussian gradient that measures where raw data hold structure."""

FLAT_TILE = 32
"""Side (pixels) of the tiles whose mean structure ranks them: choosing whole tiles, not single pixels,
keeps the choice from favouring pixels whose own noise happens to be smooth (choosing the flattest half
of single pixels of noise correlated over 4 px along X gave -0.06 at 1 px along Y, where it has none;
tiles of 32 px -0.03)."""

MIN_TILES = 8
"""Fewest tiles a plane must have for its flattest ones to be chosen; a smaller one is measured whole."""

MATCH_TOLERANCE = 0.15
"""Largest difference |Δρ| between a residual's and the raw noise's autocorrelation that still counts as a match.

On the 256×256 sample (:func:`engine.sample.make_sample_2d`) with a linear
blind-spot predictor standing in for StructN2V, a mask covering the noise's
correlation (1×13) left a residual within 0.05 of the raw noise's
(high-passed) autocorrelation; a 1×9 mask differed by 0.28; a single-pixel
blind spot (plain N2V) differed by 1.4 (ρ = -0.77 at 1 px along X, where the
noise has +0.65).
"""


@dataclass(frozen=True)
class Autocorrelation:
    """The central part of a normalised noise autocorrelation.

    Attributes
    ----------
    values : ndarray, float32, shape (2r+1, 2r+1) or (2rz+1, 2r+1, 2r+1)
        Correlation coefficient of the noise at each shift (dz,) dy, dx, with
        zero shift at the centre (where the value is exactly 1).
    source : str
        What was analysed, in words (shown next to plots and in reports).
    """

    values: np.ndarray
    source: str

    @property
    def radius(self) -> int:
        """Largest in-plane shift, in pixels."""
        return self.values.shape[-1] // 2

    @property
    def z_radius(self) -> int:
        """Largest shift between planes (0 for a 2-D autocorrelation)."""
        return self.values.shape[0] // 2 if self.values.ndim == 3 else 0

    @property
    def shifts(self) -> np.ndarray:
        """In-plane shifts ``-r .. r`` matching :attr:`profile_x` and :attr:`profile_y`."""
        return np.arange(-self.radius, self.radius + 1)

    @property
    def z_shifts(self) -> np.ndarray:
        """Shifts between planes matching :attr:`profile_z`."""
        return np.arange(-self.z_radius, self.z_radius + 1)

    @property
    def plane(self) -> np.ndarray:
        """The in-plane autocorrelation (the central plane of a 3-D one)."""
        return self.values[self.z_radius] if self.values.ndim == 3 else self.values

    @property
    def profile_x(self) -> np.ndarray:
        """Correlation against a shift along X (through the centre)."""
        return self.plane[self.radius, :]

    @property
    def profile_y(self) -> np.ndarray:
        """Correlation against a shift along Y (through the centre)."""
        return self.plane[:, self.radius]

    @property
    def profile_z(self) -> np.ndarray:
        """Correlation against a shift along Z; just ``[1.0]`` for a 2-D autocorrelation."""
        if self.values.ndim == 2:
            return np.ones(1, dtype=np.float32)
        return self.values[:, self.radius, self.radius]


def noise_autocorrelation(
    image: np.ndarray,
    *,
    region: Region | tuple | None = None,
    radius: int = DEFAULT_RADIUS,
    highpass_sigma: float = DEFAULT_HIGHPASS_SIGMA,
    flat_fraction: float = DEFAULT_FLAT_FRACTION,
    three_d: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Autocorrelation:
    """Autocorrelation of the noise in a region of raw data.

    Each plane has its mean removed; the autocovariances of all planes are
    averaged over the pairs of pixels that both lie in the flattest part of
    their planes (weighting each shift by the number of pairs it has) and
    divided by the value at zero shift, so the result is 1 at the centre.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Raw data.
    region : Region or tuple, optional
        Where to look: a box of background with little signal.  A tuple is
        ``(y0, y1, x0, x1)`` or ``(y0, y1, x0, x1, z0, z1)``.  Default: the
        whole image (then the signal's own correlation adds to the noise's).
    radius : int
        Largest shift kept, in pixels (also along Z, up to the number of planes - 1).
    highpass_sigma : float
        Subtract a Gaussian-smoothed copy (this σ, in pixels, in-plane) from
        each plane first; 0 turns it off.  See Notes.
    flat_fraction : float
        Measure on this fraction of each plane's pixels, those with the least
        structure (0 < flat_fraction <= 1; 1 uses every pixel).  See Notes.
    three_d : bool
        For a volume, also correlate across planes (Z shifts).  Ignored for 2-D.
    progress : callable, optional
        ``progress(fraction)`` after each plane; 1.0 once at the end.
    cancel : CancelToken, optional
        Checked before each plane.

    Returns
    -------
    Autocorrelation

    Raises
    ------
    ImageError
        If the data are not a 2-D/3-D numeric array or are constant in the region.
    ParameterError
        If the region is outside the image or smaller than the radius needs.

    Notes
    -----
    On raw data the signal is correlated too: edges and textures add a broad,
    slowly decaying correlation in every direction (on the built-in sample
    ρ ≈ 0.3 at 1 px along Y, where the noise has none).  Subtracting a
    Gaussian-smoothed copy removes it: with σ = 3 px the autocorrelation of the
    sample's raw data differs from that of its true noise by at most 0.14 at
    any shift (0.32 without the high-pass), and on real tomogram slices the
    apparent correlation of ≈ 0.45 at 2-8 px (structure) drops below 0.1 while
    the noise's 0.6 at 1 px stays.  The high-pass distorts the noise's own
    correlation a little: white noise gets -0.03 at 1 px; noise correlated
    along X over 7 px keeps its profile (0.57 at 3 px becomes 0.55) but gains
    -0.15 at 1 px along Y.  A smaller σ removes more signal and distorts the
    noise more (σ = 2: -0.26 there).  A region of pure background avoids most
    signal in the first place; there the high-pass can be turned off.
    What signal is left after the high-pass lies at edges, so only the
    flattest :data:`DEFAULT_FLAT_FRACTION` of each plane's tiles is measured:
    the pairs of pixels that both lie in them, as in a masked correlation
    (Padfield 2012), whose counts replace the plain pair counts.

    Computed with FFTs (Wiener–Khinchin): the product of each plane's spectrum
    with the conjugate spectra of itself and of the ``rz`` previous planes,
    zero-padded by the radius so that no circular wrap-around reaches the kept
    shifts; the same products of the planes' masks count the pairs.  Only
    ``rz + 1`` spectra are held at a time.

    References
    ----------
    Padfield, D. (2012). Masked object registration in the Fourier domain.
    IEEE Transactions on Image Processing 21(5), 2706-2718.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> white = rng.normal(size=(128, 128)).astype(np.float32)
    >>> acf = noise_autocorrelation(white, radius=3, highpass_sigma=0)
    >>> float(acf.values[3, 3]), bool(abs(acf.profile_x[4]) < 0.05)
    (1.0, True)
    """
    check_image(image)
    if not highpass_sigma >= 0:
        raise ParameterError(f"the high-pass σ must be 0 (off) or a positive number of pixels, got {highpass_sigma}")
    if not 0 < flat_fraction <= 1:
        raise ParameterError(f"the flat fraction must be above 0 and at most 1, got {flat_fraction}")
    if region is not None:
        region = region if isinstance(region, Region) else Region(*region)
        image = region.crop(image)
    where = "the whole image" if region is None else f"region {region}"
    smoothing = f", high-passed (σ {highpass_sigma:g} px)" if highpass_sigma else ""
    flattest = f", its flattest {flat_fraction:.0%}" if flat_fraction < 1 else ""
    return _autocorrelation(image, radius, highpass_sigma, flat_fraction, three_d, progress, cancel,
                            source=f"raw data, {where}{flattest}{smoothing}")


def residual_autocorrelation(
    raw: np.ndarray,
    denoised: np.ndarray,
    *,
    region: Region | tuple | None = None,
    radius: int = DEFAULT_RADIUS,
    flat_fraction: float = DEFAULT_FLAT_FRACTION,
    three_d: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Autocorrelation:
    """Autocorrelation of the residual ``raw - denoised`` of a result.

    The residual of a good denoiser is mostly noise, so its autocorrelation
    shows the noise's structure over the whole image, signal included.  After
    plain N2V (single-pixel blind spot) the residual holds the structured
    noise that N2V could not remove: the part a StructN2V mask must hide
    (Broaddus et al. 2020).

    Parameters
    ----------
    raw, denoised : ndarray, same shape (Y, X) or (Z, Y, X)
        The input and a result computed from it.
    region, radius, three_d, progress, cancel
        As in :func:`noise_autocorrelation`.
    flat_fraction : float
        Measure on this fraction of each plane's pixels: those where the *raw*
        data have the least structure, as in :func:`noise_autocorrelation`
        (1 uses every pixel).  A denoiser that blurs leaves edges in its
        residual; there the residual is not noise.

    Returns
    -------
    Autocorrelation

    References
    ----------
    Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020).
    Removing structured noise with self-supervised blind-spot networks. ISBI.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = rng.normal(size=(64, 64)).astype(np.float32)
    >>> acf = residual_autocorrelation(raw, np.zeros_like(raw), radius=2)
    >>> acf.values.shape
    (5, 5)
    """
    check_image(raw, name="raw image")
    check_image(denoised, name="denoised image")
    if raw.shape != denoised.shape:
        raise ImageError(f"the denoised image has shape {denoised.shape} but the raw image "
                         f"has {raw.shape}: they must be the same size")
    residual = raw.astype(np.float32) - denoised.astype(np.float32)
    if region is not None:
        region = region if isinstance(region, Region) else Region(*region)
        residual, raw = region.crop(residual), region.crop(raw)
    where = "" if region is None else f", region {region}"
    flattest = f", where the raw data are flattest ({flat_fraction:.0%})" if flat_fraction < 1 else ""
    return _autocorrelation(residual, radius, None, flat_fraction, three_d, progress, cancel,
                            source=f"residual (raw - denoised){where}{flattest}",
                            guide=raw)


def residual_verdict(residual: Autocorrelation, noise: Autocorrelation, *,
                     tolerance: float = MATCH_TOLERANCE) -> tuple[bool, str]:
    """Whether a result removed the structured noise: its residual is correlated like the noise.

    A denoiser that removes all the noise leaves a residual correlated exactly
    like the noise itself, while one that kept the structured part (plain N2V,
    a mask too short) leaves a residual whose correlation differs from it.

    Parameters
    ----------
    residual : Autocorrelation
        Of ``original - result`` (:func:`residual_autocorrelation`).
    noise : Autocorrelation
        Of the raw data of the same slices (:func:`noise_autocorrelation`,
        high-passed), same in-plane radius.
    tolerance : float
        Largest in-plane difference |Δρ| off centre that still counts as a match.

    Returns
    -------
    (bool, str)
        Whether the largest difference is at most ``tolerance``, and a
        sentence that says so (with where the largest difference lies).

    Examples
    --------
    >>> same = Autocorrelation(np.eye(5, dtype=np.float32), "noise")
    >>> residual_verdict(same, same)[0]
    True
    """
    if residual.plane.shape != noise.plane.shape:
        raise ParameterError(f"the two autocorrelations must have the same radius, got {residual.radius} "
                             f"and {noise.radius}")
    difference = np.abs(residual.plane.astype(np.float64) - noise.plane)
    off_centre = np.abs(residual.plane.astype(np.float64))
    centre = (residual.radius, residual.radius)
    difference[centre] = off_centre[centre] = 0
    row, column = np.unravel_index(np.argmax(difference), difference.shape)
    largest = float(difference[row, column])
    strongest = float(off_centre.max())
    where = f"Δx {column - residual.radius:+d}, Δy {row - residual.radius:+d} px"
    if largest <= tolerance:
        return True, (f"The residual is correlated like the raw noise (largest difference |Δρ| = {largest:.2f}; "
                      f"largest |ρ| off centre {strongest:.2f}): the result removed the structured noise "
                      "along with the rest.")
    return False, (f"The residual's correlation differs from the raw noise's by up to {largest:.2f} (at {where}; "
                   f"largest |ρ| off centre {strongest:.2f}): the result kept part of the structured noise "
                   "(a mask too short, or plain N2V) or removed signal. Compare other masks below.")


def _autocorrelation(data, radius, highpass_sigma, flat_fraction, three_d, progress, cancel, *, source,
                     guide=None):
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 1:
        raise ParameterError(f"radius must be a whole number of pixels >= 1, got {radius!r}")
    planes = _as_planes(data)
    guides = planes if guide is None else _as_planes(guide)
    n_z, n_y, n_x = planes.shape
    if min(n_y, n_x) <= radius:
        raise ParameterError(f"the analysed area is {n_y}x{n_x} px: a radius of {radius} px "
                             f"needs at least {radius + 1} px along Y and X")
    z_radius = min(radius, n_z - 1) if data.ndim == 3 and three_d else 0
    padded = (scipy.fft.next_fast_len(n_y + radius, real=True),
              scipy.fft.next_fast_len(n_x + radius, real=True))
    recent = []  # (spectrum, mask spectrum) of the last z_radius + 1 planes, newest first
    sums = pairs = None  # sums[dz] = sum over z of F_z * conj(F_{z-dz}); pairs the same of the masks
    counter = ProgressCounter(n_z, progress)
    for z in range(n_z):
        if cancel is not None:
            cancel.check()
        plane = planes[z].astype(np.float32)
        flat = _flattest(guides[z], flat_fraction)
        if highpass_sigma:
            plane = plane - ndimage.gaussian_filter(plane, highpass_sigma, mode="reflect")
        if flat is None:
            plane, mask_spectrum = plane - plane.mean(dtype=np.float64), None
        else:
            plane = np.where(flat, plane - plane[flat].mean(dtype=np.float64), 0).astype(np.float32)
            mask_spectrum = scipy.fft.rfft2(flat.astype(np.float32), s=padded)
        recent = [(scipy.fft.rfft2(plane, s=padded), mask_spectrum)] + recent[:z_radius]
        products = [recent[0][0] * np.conj(previous) for previous, _ in recent]
        if flat is not None:
            counts = [recent[0][1] * np.conj(previous) for _, previous in recent]
            pairs = _accumulate(pairs, counts, z_radius)
        sums = _accumulate(sums, products, z_radius)
        counter.step()
    if not np.all(np.isfinite(sums[0])):
        raise ImageError("the data contain NaN or infinite values")
    covariance = np.stack([_central(scipy.fft.irfft2(s, s=padded), radius) for s in sums])
    if pairs is None:
        pairs_y = n_y - np.abs(np.arange(-radius, radius + 1))
        pairs_x = n_x - np.abs(np.arange(-radius, radius + 1))
        pairs_z = n_z - np.arange(z_radius + 1)
        covariance /= pairs_z[:, None, None] * pairs_y[None, :, None] * pairs_x[None, None, :]
    else:
        counts = np.stack([_central(scipy.fft.irfft2(p, s=padded), radius) for p in pairs])
        covariance /= np.maximum(np.rint(counts), 1)
    zero_shift = covariance[0, radius, radius]
    if not zero_shift > 0:
        raise ImageError("the analysed data are constant: pick a region with noise in it")
    # Negative Z shifts mirror positive ones: C(-dz, dy, dx) = C(dz, -dy, -dx).
    full = np.concatenate([covariance[:0:-1, ::-1, ::-1], covariance]) / zero_shift
    values = full if data.ndim == 3 and three_d else full[0]
    counter.finish()
    return Autocorrelation(values=values.astype(np.float32), source=source)


def _as_planes(image: np.ndarray) -> np.ndarray:
    """A 2-D image as a stack of one plane; a stack unchanged."""
    return image[np.newaxis] if image.ndim == 2 else image


def _flattest(plane: np.ndarray, fraction: float) -> np.ndarray | None:
    """The ``fraction`` of ``plane``'s :data:`FLAT_TILE`-pixel tiles with the least structure, as a
    boolean mask; None for every pixel (``fraction`` 1, or fewer than :data:`MIN_TILES` tiles)."""
    n_y, n_x = (-(-side // FLAT_TILE) for side in plane.shape)
    if fraction >= 1 or n_y * n_x < MIN_TILES:
        return None
    structure = ndimage.gaussian_gradient_magnitude(plane, STRUCTURE_SIGMA, mode="reflect")
    structure = np.pad(structure, ((0, n_y * FLAT_TILE - plane.shape[0]), (0, n_x * FLAT_TILE - plane.shape[1])),
                       mode="edge")
    per_tile = structure.reshape(n_y, FLAT_TILE, n_x, FLAT_TILE).mean(axis=(1, 3))
    flat_tiles = per_tile <= np.quantile(per_tile, fraction)
    return np.repeat(np.repeat(flat_tiles, FLAT_TILE, 0), FLAT_TILE, 1)[:plane.shape[0], :plane.shape[1]]


def _accumulate(sums, products, z_radius):
    """Add one plane's products (its own and with the previous planes) to the running sums."""
    if sums is None:
        return products + [np.zeros_like(products[0]) for _ in range(z_radius + 1 - len(products))]
    for dz, product in enumerate(products):
        sums[dz] += product
    return sums


def _central(correlation: np.ndarray, radius: int) -> np.ndarray:
    """Shifts -radius..radius of a circular correlation whose zero shift is at index 0."""
    size = 2 * radius + 1
    return np.roll(correlation, (radius, radius), axis=(0, 1))[:size, :size]
