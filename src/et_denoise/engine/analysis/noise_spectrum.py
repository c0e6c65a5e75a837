"""The noise's covariance and the variance it gives each coefficient of a block transform.

A transform-domain denoiser shrinks each coefficient of a block according to
how much noise that coefficient carries.  For white noise every coefficient of
an orthonormal transform has the same variance σ²; for the correlated noise of
tomograms (back-projection spreads each detector pixel's noise along X) the
variance depends strongly on the frequency: on the built-in sample the
coefficients of 16-pixel blocks range from 0.01 σ² (high frequencies along X,
which the reconstruction filter removed) to 3 σ² (mid frequencies along X).

:func:`noise_covariance` measures the noise's autocovariance from the data
(:func:`~engine.analysis.autocorr.noise_autocorrelation` of the high-passed
image, scaled by :func:`~engine.analysis.noise.estimate_noise_sigma`);
:func:`coefficient_variance` turns it into the exact variance of each
coefficient of a separable block transform (Mäkinen, Azzari & Foi 2020).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from et_denoise.engine.analysis.autocorr import noise_autocorrelation, residual_autocorrelation
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.jobs import CancelToken

HIGHPASS_SIGMA = 2.0
"""σ (pixels) of the Gaussian subtracted before the autocorrelation is measured.

On the 256×256 sample, coefficient variances from σ = 2 gave 0.3 dB more than
from the autocorrelation's default σ = 3 and 0.8 dB more than σ = 1.5 after
denoising, and 1.1 dB less than the true noise's covariance.
"""


def noise_covariance(
    image: np.ndarray,
    radius: int,
    *,
    three_d: bool = False,
    denoised: np.ndarray | None = None,
    sigma: float | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Estimate the autocovariance of the noise of an image or stack.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Raw data.
    radius : int
        Largest shift kept, in pixels (along Z at most the number of planes - 1).
    three_d : bool
        For a stack, also measure the covariance between planes.
    denoised : ndarray, optional
        A denoised copy of ``image``: the correlation is then measured on the
        residual ``image - denoised`` instead of the high-passed image.
    sigma : float, optional
        The noise σ when already known; default estimated from ``image``.
    cancel : CancelToken, optional
        Checked before each plane.

    Returns
    -------
    ndarray, float64, shape (2r+1, 2r+1) or (2rz+1, 2r+1, 2r+1)
        Covariance of the noise at each shift, zero shift at the centre
        (there it is the estimated σ²).

    Notes
    -----
    The normalised autocorrelation of the high-passed data (see
    :data:`HIGHPASS_SIGMA`) or of the residual is multiplied by the σ²
    estimated from the raw data, which is robust to the correlation.  The
    high-pass removes the signal but also the noise's lowest frequencies, so
    the variance of the lowest block frequencies is under-estimated (about
    0.5× at the DC of 16-pixel blocks on the sample) and that of the others
    slightly over-estimated (1.1×).  The residual of a denoiser that used
    such an estimate holds the noise at every frequency where the signal is
    weak; measuring again on it and denoising again converges in two rounds
    to what the true noise's covariance gives (see
    :func:`~engine.filters.dct.dct_denoise`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> covariance = noise_covariance(rng.normal(scale=2.0, size=(128, 128)), 2)
    >>> covariance.shape, bool(abs(covariance[2, 2] - 4.0) < 0.4)
    ((5, 5), True)
    """
    sigma = estimate_noise_sigma(image) if sigma is None else sigma
    radius = min(radius, min(image.shape[-2:]) - 1)
    if sigma == 0:
        z_radius = min(radius, image.shape[0] - 1) if three_d and image.ndim == 3 else None
        return np.zeros(((2 * z_radius + 1,) if z_radius is not None else ()) + (2 * radius + 1,) * 2)
    if denoised is None:
        acf = noise_autocorrelation(image, radius=radius, highpass_sigma=HIGHPASS_SIGMA, flat_fraction=1.0,
                                    three_d=three_d, cancel=cancel)
    else:
        acf = residual_autocorrelation(image, denoised, radius=radius, three_d=three_d, cancel=cancel)
    return acf.values.astype(np.float64) * sigma ** 2


def coefficient_variance(covariance: np.ndarray, bases: Sequence[np.ndarray]) -> np.ndarray:
    """Variance of each coefficient of a separable block transform under correlated noise.

    Parameters
    ----------
    covariance : ndarray, shape (2r+1, ...) with one axis per block axis
        Noise autocovariance, zero shift at the centre (from
        :func:`noise_covariance`); shifts beyond its radius are taken as 0.
    bases : sequence of ndarray
        One square matrix per block axis whose rows are the 1-D basis
        functions (e.g. the orthonormal DCT-II matrix of the block's side).

    Returns
    -------
    ndarray, float64, shape of the block
        ``var[k] = Σ_d C(d) A_k(d)``, where ``A_k`` is the autocorrelation of
        the k-th (separable) basis function.

    Raises
    ------
    ParameterError
        If the covariance and the bases disagree on the number of axes.

    Notes
    -----
    A coefficient ``c_k = Σ_p φ_k(p) n(p)`` of stationary noise ``n`` with
    covariance ``C`` has variance ``Σ_{p,q} φ_k(p) φ_k(q) C(p - q)``
    (Mäkinen et al. 2020, eq. 5).  For a separable basis the basis
    autocorrelation is a product of 1-D ones, so the sum is one small
    tensor contraction per axis; no Monte-Carlo and no assumption on the
    spectrum's shape.

    References
    ----------
    Mäkinen, Y., Azzari, L. & Foi, A. (2020). Collaborative filtering of
    correlated noise: exact transform-domain variance for improved shrinkage
    and patch matching. IEEE Trans. Image Process. 29, 8339–8354.
    :DOI:`10.1109/TIP.2020.3014721`

    Examples
    --------
    >>> import scipy.fft
    >>> white = np.zeros((7, 7)); white[3, 3] = 2.0
    >>> basis = scipy.fft.dct(np.eye(4), norm="ortho", axis=0)
    >>> np.allclose(coefficient_variance(white, [basis, basis]), 2.0)
    True
    """
    if covariance.ndim != len(bases):
        raise ParameterError(f"a {covariance.ndim}-D covariance cannot describe {len(bases)}-D blocks")
    variance = covariance
    for axis, basis in enumerate(bases):
        side = basis.shape[0]
        radius = covariance.shape[axis] // 2
        lags = np.arange(-(side - 1), side)
        # autocorrelation of each basis row at each lag, (lags, side); zero where |lag| > radius
        rows = np.array([np.correlate(row, row, mode="full") for row in basis]).T
        rows[np.abs(lags) > radius] = 0.0
        kept = np.clip(lags + radius, 0, covariance.shape[axis] - 1)
        taken = np.take(variance, kept, axis=axis)
        variance = np.moveaxis(np.tensordot(taken, rows, axes=([axis], [0])), -1, axis)
    return variance
