"""Quality of a denoised image against a ground truth: PSNR and SSIM.

Thin, validated wrappers over :mod:`skimage.metrics` that compute in float64
and choose the data range from the reference, so that every method is scored
on the same scale.
"""

from __future__ import annotations


import numpy as np

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.validation import check_image


def psnr(reference, image, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio of ``image`` against ``reference``, in dB.

    Parameters
    ----------
    reference : array_like, shape (Y, X) or (Z, Y, X)
        Ground truth.
    image : array_like, same shape
        Image to score, e.g. a denoised one.
    data_range : float, optional
        Peak value range; default ``reference.max() - reference.min()``.

    Returns
    -------
    float
        ``10 log10(data_range² / MSE)``; ``inf`` when the images are identical.

    Examples
    --------
    >>> round(psnr(np.array([[0.0, 1.0]]), np.array([[0.1, 0.9]])), 6)
    20.0
    """
    from skimage.metrics import peak_signal_noise_ratio  # imports scipy.stats: 0.4 s of the window's start

    reference, image, data_range = _validate(reference, image, data_range)
    with np.errstate(divide="ignore"):
        return float(peak_signal_noise_ratio(reference, image, data_range=data_range))


def ssim(reference, image, *, data_range: float | None = None) -> float:
    """Structural similarity of ``image`` to ``reference`` (Wang et al. 2004).

    Parameters
    ----------
    reference : array_like, shape (Y, X) or (Z, Y, X)
        Ground truth; planes must be at least 7 × 7 pixels.
    image : array_like, same shape
        Image to score.
    data_range : float, optional
        Peak value range; default ``reference.max() - reference.min()`` of the
        whole array, used for every plane.

    Returns
    -------
    float
        SSIM with scikit-image's defaults (7 × 7 uniform window); for a volume,
        the mean of the 2-D SSIM of its XY planes.  1.0 for identical images.

    Notes
    -----
    Volumes are scored plane by plane because tomogram noise and resolution
    differ between XY and Z (missing wedge), and because users inspect
    tomograms as XY planes.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality
       assessment: from error visibility to structural similarity", IEEE
       Trans. Image Process. 13(4), 600–612 (2004).

    Examples
    --------
    >>> image = np.random.default_rng(0).random((32, 32))
    >>> ssim(image, image)
    1.0
    """
    from skimage.metrics import structural_similarity  # imports scipy.stats: 0.4 s of the window's start

    reference, image, data_range = _validate(reference, image, data_range)
    if min(reference.shape[-2:]) < 7:
        raise ParameterError(
            f"SSIM needs planes of at least 7 x 7 pixels, got {reference.shape[-2:]}")
    planes = zip(reference.reshape(-1, *reference.shape[-2:]), image.reshape(-1, *image.shape[-2:]))
    scores = [structural_similarity(ref, img, data_range=data_range) for ref, img in planes]
    return float(np.mean(scores))


def _validate(reference, image, data_range):
    """Both arrays as float64 after checking shapes, values and the data range."""
    reference = _as_float_image(reference, "reference")
    image = _as_float_image(image, "image")
    if reference.shape != image.shape:
        raise ParameterError(
            f"cannot compare images of different shapes: reference {reference.shape}, "
            f"image {image.shape}")
    if data_range is None:
        data_range = float(reference.max() - reference.min())
        if data_range == 0:
            raise ParameterError("the reference is constant: give data_range explicitly")
    elif not (np.isfinite(data_range) and data_range > 0):
        raise ParameterError(f"data_range must be a positive number, got {data_range}")
    return reference, image, float(data_range)


def _as_float_image(array, name):
    return np.asarray(check_image(array, name=name), dtype=np.float64)
