"""Scale-bar lengths: a round number of nm (or Å, µm) for about a fifth of an image's width.

Shared by the canvas's live scale bar and the exported figure.
"""

from __future__ import annotations

import math

_NICE_STEPS = (1, 2, 5)


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``target`` (``target`` > 0).

    Examples
    --------
    >>> nice_length(370.0)
    200.0
    """
    exponent = math.floor(math.log10(target))
    best = 10.0 ** exponent
    for step in _NICE_STEPS:
        candidate = step * 10.0 ** exponent
        if candidate <= target:
            best = candidate
    return best


def format_length(angstrom: float) -> str:
    """``"50 nm"``: a length given in Å, in the unit that reads best."""
    if angstrom < 10:
        return f"{angstrom:g} Å"
    if angstrom < 10_000:
        return f"{angstrom / 10:g} nm"
    return f"{angstrom / 10_000:g} µm"


def scale_bar_length(width_px: float, pixel_size: float, fraction: float = 0.2) -> tuple[float, str]:
    """(length in pixels, label) of a round scale bar about ``fraction`` of ``width_px`` long."""
    length = nice_length(width_px * pixel_size * fraction)
    return length / pixel_size, format_length(length)
