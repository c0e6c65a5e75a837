"""A box of an image or volume, and its text form ``Z0:Z1,Y0:Y1,X0:X1``.

Shared by everything that works on part of an image: the noise analysis's
background region, the comparison's region, reading a subvolume
(``--region``, File → Open region…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from et_denoise.engine.errors import ParameterError


@dataclass(frozen=True)
class Region:
    """A box of an image: rows ``y0:y1`` and columns ``x0:x1``, optionally planes ``z0:z1``.

    Bounds follow Python slices (start included, stop excluded).  ``z0`` and
    ``z1`` are ``None`` for all planes of a volume (and for 2-D images).
    """

    y0: int
    y1: int
    x0: int
    x1: int
    z0: int | None = None
    z1: int | None = None

    def __str__(self) -> str:
        text = f"{self.y0}:{self.y1},{self.x0}:{self.x1}"
        return text if self.z0 is None else f"{self.z0}:{self.z1},{text}"

    def validate(self, shape: tuple) -> None:
        """Raise :class:`~engine.errors.ParameterError` unless the box lies inside ``shape``."""
        bounds = [("Y", self.y0, self.y1, shape[-2]), ("X", self.x0, self.x1, shape[-1])]
        if self.z0 is not None or self.z1 is not None:
            if len(shape) != 3:
                raise ParameterError("a Z range was given but the image is 2-D")
            if self.z0 is None or self.z1 is None:
                raise ParameterError("a Z range needs both ends")
            bounds.insert(0, ("Z", self.z0, self.z1, shape[0]))
        for axis, start, stop, size in bounds:
            if not 0 <= start < stop <= size:
                raise ParameterError(
                    f"region {axis} {start}:{stop} is outside the image or empty "
                    f"(the image has {size} pixels along {axis}: use 0 <= start < stop <= {size})")

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The part of ``image`` (2-D or 3-D) inside the box (a view)."""
        self.validate(image.shape)
        in_plane = (slice(self.y0, self.y1), slice(self.x0, self.x1))
        if image.ndim == 2:
            return image[in_plane]
        return image[(slice(self.z0, self.z1),) + in_plane]


_RANGE = r"\s*(\d*)\s*:\s*(\d*)\s*"


def parse_region(text: str, shape: tuple) -> Region:
    """Read a region given as ``"Y0:Y1,X0:X1"`` or ``"Z0:Z1,Y0:Y1,X0:X1"``.

    An empty bound means the edge of the image (``":,0:64"`` is every row of
    the first 64 columns), as in Python slices.

    Parameters
    ----------
    text : str
        The region, axes in the order (Z,) Y, X.
    shape : tuple of int
        Shape of the image it applies to, (Y, X) or (Z, Y, X).

    Returns
    -------
    Region

    Raises
    ------
    ParameterError
        On bad syntax or a box outside the image.

    Examples
    --------
    >>> parse_region("0:64, 10:200", (256, 256))
    Region(y0=0, y1=64, x0=10, x1=200, z0=None, z1=None)
    """
    parts = text.split(",")
    matches = [re.fullmatch(_RANGE, part) for part in parts]
    if len(parts) not in (2, 3) or not all(matches):
        raise ParameterError(
            f"cannot read region {text!r}: write Y0:Y1,X0:X1 (or Z0:Z1,Y0:Y1,X0:X1), e.g. 0:64,0:256")
    if len(parts) == 3 and len(shape) != 3:
        raise ParameterError(f"region {text!r} has a Z range but the image is 2-D")
    sizes = shape[-len(parts):]
    bounds = [(int(m.group(1) or 0), int(m.group(2)) if m.group(2) else size)
              for m, size in zip(matches, sizes)]
    (y0, y1), (x0, x1) = bounds[-2:]
    z0, z1 = bounds[0] if len(parts) == 3 else (None, None)
    region = Region(y0, y1, x0, x1, z0, z1)
    region.validate(shape)
    return region
