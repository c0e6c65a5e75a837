"""Where to measure the noise: the box of a slice with the least signal (resin, ice, empty space).

The noise analysis needs "noise only" data; :func:`quietest_box` proposes the
box whose smoothed content varies least, which the app then lets the user move.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from et_denoise.engine.region import Region
from et_denoise.engine.errors import ImageError, ParameterError

#: The search looks at the plane reduced to about this many pixels per side.
_SEARCH_SIDE = 192


def quietest_box(plane: np.ndarray, side: int) -> Region:
    """The ``side`` × ``side`` box of ``plane`` with the least signal.

    Signal is measured as the variance, inside the box, of the plane smoothed
    by a Gaussian (σ 3 px): noise averages out in the smoothing, structure
    does not.  The search runs on a strided copy of big planes.

    Parameters
    ----------
    plane : ndarray, shape (Y, X)
    side : int
        Side of the box in pixels (clipped to the plane).

    Returns
    -------
    Region
        Pixel bounds ``(y0, y1, x0, x1)`` of the box.

    Raises
    ------
    ImageError
        If ``plane`` is not 2-D.
    ParameterError
        If ``side`` is below 1.

    Examples
    --------
    >>> plane = np.zeros((64, 64)); plane[:, :32] = np.sin(np.arange(64) / 4)[:, None]
    >>> quietest_box(plane, 16).x0 >= 32
    True
    """
    plane = np.asarray(plane)
    if plane.ndim != 2 or min(plane.shape) < 1:
        raise ImageError(f"the quiet box is searched in one 2-D plane, not an array of shape {plane.shape}")
    if side < 1:
        raise ParameterError(f"the box side must be at least 1 pixel, not {side}")
    height, width = plane.shape
    side = int(min(side, height, width))
    step = max(int(np.ceil(max(height, width) / _SEARCH_SIDE)), 1)
    small = ndimage.gaussian_filter(np.asarray(plane[::step, ::step], dtype=np.float64), 3.0 / step)
    window = max(side // step, 1)

    def box_sums(values):
        """Sum of ``values`` over every window × window box, indexed by its top-left corner."""
        total = np.pad(values.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        return (total[window:, window:] - total[:-window, window:]
                - total[window:, :-window] + total[:-window, :-window])

    count = window * window
    variance = box_sums(small * small) / count - (box_sums(small) / count) ** 2
    row, column = np.unravel_index(np.argmin(variance), variance.shape)
    y0 = min(int(row) * step, height - side)
    x0 = min(int(column) * step, width - side)
    return Region(y0, y0 + side, x0, x0 + side)
