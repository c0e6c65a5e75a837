"""The image a file holds, with the metadata needed to write it back faithfully."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import numpy as np

Vector3 = tuple[float, float, float]


@dataclass(frozen=True)
class MrcHeaderInfo:
    """MRC header fields, besides voxel size and origin, worth copying to an output file.

    Attributes
    ----------
    labels : tuple of str
        The header's text labels (at most 10 of 80 characters), oldest first.
    image_stack : bool
        True if the file is a stack of images (space group 0, e.g. a tilt
        series), False if it is a volume (space group 1).
    nstart : tuple of int
        ``(nzstart, nystart, nxstart)``: the grid position of the first voxel.
    extended_header : bytes
        The extended header (per-section metadata such as tilt angles).
    exttyp : bytes
        Its type code (``b"SERI"``, ``b"FEI1"``...), empty if there is none.
    """

    labels: tuple[str, ...] = ()
    image_stack: bool = False
    nstart: tuple[int, int, int] = (0, 0, 0)
    extended_header: bytes = b""
    exttyp: bytes = b""


@dataclass(eq=False)
class ImageData:
    """An image or stack read from a file.

    Attributes
    ----------
    data : numpy.ndarray
        ``(Z, Y, X)`` stack or ``(Y, X)`` image in the file's data type and
        native byte order.  It is read-only: engine functions return new
        arrays.  A file too large to load comfortably is an ``np.memmap``.
    voxel_size : tuple of float or None
        ``(z, y, x)`` voxel size in ångström (the MRC convention), None if
        the file does not state it.  For a 2-D image the z entry is whatever
        the file says, or equal to x.
    origin : tuple of float or None
        ``(z, y, x)`` origin in ångström from an MRC header; None otherwise.
    path : pathlib.Path or None
        The file (or folder of slices) the image was read from.
    memory_mapped : bool
        True if ``data`` maps the file instead of holding a copy in memory.
    unit : str or None
        The length unit the file gave its voxel size in (``"nm"``, ``"µm"``,
        ``"Å"``...); TIFF output uses it again.
    mrc_header : MrcHeaderInfo or None
        Further MRC header fields, for an image read from an MRC file.
    """

    data: np.ndarray
    voxel_size: Vector3 | None = None
    origin: Vector3 | None = None
    path: pathlib.Path | None = None
    memory_mapped: bool = False
    unit: str | None = None
    mrc_header: MrcHeaderInfo | None = field(default=None, repr=False)

    @property
    def is_volume(self) -> bool:
        """True for a ``(Z, Y, X)`` stack, False for a single ``(Y, X)`` image."""
        return self.data.ndim == 3
