"""Display contrast from percentiles: the levels of the viewer's "Auto contrast" and of figures.

Pure numpy and cheap on big slices: the percentiles are taken on a strided
sample of at most about 262,144 values (every value of a 512 × 512 slice).
"""

from __future__ import annotations

import numpy as np

#: Percentiles used by "Auto contrast": clip the darkest and brightest 0.5 %.
AUTO_PERCENTILES = (0.5, 99.5)
_MAX_SAMPLES = 262_144


def _sample(image: np.ndarray) -> np.ndarray:
    """A strided subset of at most about ``_MAX_SAMPLES`` finite values."""
    step = max(int(np.sqrt(image.size / _MAX_SAMPLES)), 1)
    values = np.asarray(image[::step, ::step], dtype=np.float32).ravel()
    return values[np.isfinite(values)]


def percentile_levels(image: np.ndarray, low: float = AUTO_PERCENTILES[0],
                      high: float = AUTO_PERCENTILES[1]) -> tuple[float, float]:
    """Black and white levels at the ``low`` and ``high`` percentiles of ``image``.

    A flat image gets a range of width 1 around its value, so the levels are
    always usable.

    Examples
    --------
    >>> percentile_levels(np.arange(100.0).reshape(10, 10), 0, 100)
    (0.0, 99.0)
    """
    values = _sample(image)
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    if hi <= lo:
        lo, hi = lo - 0.5, lo + 0.5
    return lo, hi


def symmetric_levels(difference: np.ndarray, high: float = AUTO_PERCENTILES[1]) -> tuple[float, float]:
    """Levels ``(-m, m)`` centred on zero, ``m`` the ``high`` percentile of ``|difference|``."""
    values = np.abs(_sample(difference))
    if values.size == 0:
        return -1.0, 1.0
    bound = float(np.percentile(values, high))
    bound = bound if bound > 0 else 1.0
    return -bound, bound
