"""The one check of an image handed to an engine function (in the spirit of scikit-image's ``check_nD``).

Every public engine function that takes an image calls :func:`check_image`
first, so bool, complex, empty, non-finite and wrongly shaped input gets the
same one-line :class:`~engine.errors.ImageError` everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from et_denoise.engine.errors import ImageError


MAX_MAGNITUDE = float(np.sqrt(np.finfo(np.float32).max))
"""Largest value magnitude accepted: its square still fits in float32, as the filters' distances need."""


def check_image(image: Any, *, name: str = "image", ndim: tuple[int, ...] = (2, 3), min_side: int = 1,
                allow_nonfinite: bool = False) -> np.ndarray:
    """Check that ``image`` is a non-empty real image with an allowed number of axes; return it as an array.

    Parameters
    ----------
    image : array_like
        The data (Y, X) or (Z, Y, X).
    name : str
        What it is, in messages ("image", "reference", "denoised image").
    ndim : tuple of int
        The allowed numbers of axes.
    min_side : int
        Fewest pixels allowed along Y and X.
    allow_nonfinite : bool
        Accept NaN and infinite values (refused by default).

    Returns
    -------
    ndarray
        ``np.asarray(image)``: the caller's own array when it is one (never a
        copy, never converted; callers convert to float32 as they compute).

    Raises
    ------
    ImageError
        Not real numbers (bool, complex, text), wrong number of axes, empty or
        smaller than ``min_side``, NaN or infinite values, values beyond
        :data:`MAX_MAGNITUDE` (float64 data near 1e300 would give infinite results).

    Notes
    -----
    Non-finite and too large values are found through the minimum and
    maximum (NaN propagates through both), which allocates nothing even for
    a volume larger than memory allows twice.

    Examples
    --------
    >>> check_image(np.zeros((4, 4), np.uint16)).dtype
    dtype('uint16')
    >>> check_image(np.zeros((4, 4), bool))
    Traceback (most recent call last):
    ...
    et_denoise.engine.errors.ImageError: the image must hold real numbers, got data of type bool
    """
    try:
        array = np.asarray(image)
    except (TypeError, ValueError):  # ragged nested sequences
        raise ImageError(f"the {name} is not an array of numbers") from None
    if array.dtype.kind not in "uif":
        raise ImageError(f"the {name} must hold real numbers, got data of type {array.dtype}")
    if array.ndim not in ndim:
        wanted = " or ".join({2: "a 2-D image", 3: "a 3-D stack (Z, Y, X)"}.get(n, f"{n}-D") for n in ndim)
        raise ImageError(f"the {name} must be {wanted}, got shape {array.shape}")
    if array.size == 0:
        raise ImageError(f"the {name} is empty (shape {array.shape})")
    if min(array.shape[-2:]) < min_side:
        raise ImageError(f"the {name} is {array.shape[-2]}×{array.shape[-1]} pixels; "
                         f"at least {min_side} are needed along Y and X")
    if array.dtype.kind == "f":
        low, high = array.min(), array.max()
        if not allow_nonfinite and not (np.isfinite(low) and np.isfinite(high)):
            raise ImageError(f"the {name} contains NaN or infinite values; replace them first")
        peak = max(abs(float(low)), abs(float(high)))
        if peak > MAX_MAGNITUDE and np.isfinite(peak):
            raise ImageError(f"the {name} holds values up to {peak:.3g}, too large to compute with in float32 "
                             f"(at most ±{MAX_MAGNITUDE:.2g}); rescale it first")
    return array
