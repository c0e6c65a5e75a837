"""Part of an image for a quick look: a region of it, binned by 2 or 4, read a run of planes at a time.

:meth:`LazyImage.subvolume <engine.io.lazy.LazyImage.subvolume>` gives such a
part as a new :class:`~engine.io.lazy.LazyImage`; :func:`read_subvolume` reads
one from a file into memory (to open it in the app).  The region is a
:class:`~engine.region.Region` or its text (``"Z0:Z1,Y0:Y1,X0:X1"``,
read by :func:`~engine.region.parse_region`): half-open 0-based
ranges, as Python slices, an empty bound meaning the edge.

Conventions
-----------
* Binning averages blocks of ``bin × bin × bin`` voxels of a volume, ``bin ×
  bin`` pixels of a 2-D image or of each image of a stack (an MRC file marked
  as a stack of images, such as a tilt series: its images are not averaged
  together).  What is left at the end of an axis, fewer than ``bin`` voxels,
  is dropped.  A binned part is float32; an unbinned one keeps the file's type.
* The voxel size is multiplied by the bin along each binned axis.
* The MRC origin follows IMOD (trimvol, newstack, assemblevol): it decreases
  by the region's start × the input's voxel size along each axis, so that a
  saved part, opened in 3dmod, lies where it was in the whole volume (a model
  drawn on one fits the other).  The first binned voxel starts where the
  first voxel of its block started, so binning needs no further shift.  An
  input without origin counts as origin 0.  Viewers that read the origin as
  the position of the first voxel (UCSF Chimera, ChimeraX) take the
  opposite sign.
* MRC start indices are reset to 0, and the extended header (per-section
  metadata such as tilt angles) is kept only when the part has the input's
  sections; a label saying which part it is joins the header's labels.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.io.image_data import ImageData, MrcHeaderInfo
from et_denoise.engine.region import Region, parse_region

if TYPE_CHECKING:
    from et_denoise.engine.jobs import CancelToken, ProgressFn

#: The bin factors offered.
BINNINGS = (1, 2, 4)

_AXES = "ZYX"


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which voxels of an image a part covers: per axis (Z, Y, X) a start, a stop and a bin factor.

    A 2-D image is one plane: its Z axis is ``0:1`` with bin 1.  ``stops``
    leave out the remainder that binning drops.

    Attributes
    ----------
    image_shape : tuple of int
        The whole image's ``(Z, Y, X)`` or ``(Y, X)``.
    starts, stops, bins : tuple of 3 int
        Along Z, Y and X.
    """

    image_shape: tuple[int, ...]
    starts: tuple[int, int, int]
    stops: tuple[int, int, int]
    bins: tuple[int, int, int]

    @property
    def shape(self) -> tuple[int, ...]:
        """The part's shape, ``(Z, Y, X)`` or ``(Y, X)`` as the image's."""
        sizes = tuple((stop - start) // step for start, stop, step in zip(self.starts, self.stops, self.bins))
        return sizes if len(self.image_shape) == 3 else sizes[1:]

    @property
    def binned(self) -> bool:
        """True if blocks of voxels are averaged (the part is then float32)."""
        return max(self.bins) > 1

    @property
    def is_whole(self) -> bool:
        """True if the part is the whole image, unbinned."""
        return not self.binned and self.shape == tuple(self.image_shape)

    @property
    def same_sections(self) -> bool:
        """True if the part has the image's planes (Z sections), one for one."""
        return self.starts[0] == 0 and self.stops[0] == self.n_image_planes and self.bins[0] == 1

    @property
    def n_image_planes(self) -> int:
        """Planes of the whole image (1 for a 2-D image)."""
        return self.image_shape[0] if len(self.image_shape) == 3 else 1

    def dtype(self, image_dtype) -> np.dtype:
        """The part's data type: float32 when binned, the image's type otherwise."""
        return np.dtype(np.float32) if self.binned else np.dtype(image_dtype)

    def __str__(self) -> str:
        ranges = ",".join(f"{start}:{stop}" for start, stop in zip(self.starts, self.stops))
        if len(self.image_shape) == 2:
            ranges = ranges.split(",", 1)[1]
        return ranges + (f" binned by {max(self.bins)}" if self.binned else "")

    def image_data(self, image: ImageData) -> ImageData:
        """The part's metadata, from the whole image's (see the module's conventions).

        Its ``data`` is a zero-strided placeholder of the part's shape and type.
        """
        placeholder = np.broadcast_to(np.zeros((), self.dtype(image.data.dtype)), self.shape)
        voxel, origin = image.voxel_size, image.origin
        if voxel is not None:
            if any(self.starts):
                origin = tuple(float(at - start * size)
                               for at, start, size in zip(origin or (0.0, 0.0, 0.0), self.starts, voxel))
            voxel = tuple(float(size * step) for size, step in zip(voxel, self.bins))
        header = image.mrc_header or MrcHeaderInfo()
        keep = self.same_sections
        header = dataclasses.replace(header, nstart=(0, 0, 0), labels=header.labels + (f"ET Denoise: region {self}",),
                                     extended_header=header.extended_header if keep else b"",
                                     exttyp=header.exttyp if keep else b"")
        return ImageData(placeholder, voxel, origin, image.path, image.memory_mapped, image.unit, header)

    def reader(self, read, image_dtype, plane_shape: tuple[int, int]):
        """``read_part(start, stop)``: planes of the part, from ``read(start, stop)`` of the whole image's planes.

        Planes ``a:b`` of the part read planes ``Z0 + a × bin : Z0 + b × bin``
        of the image, in runs whose whole planes take no more memory than the
        part's planes asked for (at least one block of ``bin`` planes).
        """
        dtype = self.dtype(image_dtype)
        (z0, y0, x0), (_z1, y1, x1), (bz, by, bx) = self.starts, self.stops, self.bins
        sizes = self.shape[-2:]
        image_plane = int(np.prod(plane_shape)) * np.dtype(image_dtype).itemsize
        part_plane = int(np.prod(sizes)) * dtype.itemsize

        def reduce(planes: np.ndarray) -> np.ndarray:
            crop = planes[:, y0:y1, x0:x1]
            if not self.binned:
                return crop
            blocks = crop.reshape(len(crop) // bz, bz, sizes[0], by, sizes[1], bx)
            return blocks.mean(axis=(1, 3, 5), dtype=np.float32)

        def read_part(start: int, stop: int) -> np.ndarray:
            out = np.empty((stop - start,) + sizes, dtype)
            run = max(1, (stop - start) * part_plane // (bz * image_plane))
            for first in range(start, stop, run):
                last = min(first + run, stop)
                out[first - start:last - start] = reduce(read(z0 + first * bz, z0 + last * bz))
            return out

        return read_part


def select(shape: tuple[int, ...], region: Region | str | None = None, binning: int = 1, *,
           stack: bool = False) -> Selection:
    """Check a region and a bin factor against an image's shape; the voxels they select.

    Parameters
    ----------
    shape : tuple of int
        The image's ``(Z, Y, X)`` or ``(Y, X)``.
    region : Region or str, optional
        The box to keep, or its text ``"Z0:Z1,Y0:Y1,X0:X1"`` (``"Y0:Y1,X0:X1"``
        for a 2-D image, or for every plane of a volume).  Default: all of it.
    binning : int
        1, 2 or 4: average blocks of ``binning`` voxels along each axis.
    stack : bool
        The image is a stack of 2-D images (a tilt series): bin only Y and X.

    Returns
    -------
    Selection

    Raises
    ------
    ParameterError
        The region cannot be read or lies outside the image (see
        :func:`~engine.region.parse_region`), the bin factor is not
        offered, or binning leaves nothing of an axis of the region.

    Examples
    --------
    >>> select((10, 64, 64), "2:9,0:32,:", 2).shape
    (3, 16, 32)
    >>> select((64, 64), "0:64,0:64", 3)
    Traceback (most recent call last):
    ...
    et_denoise.engine.errors.ParameterError: bin by 1, 2 or 4, not 3
    """
    if binning not in BINNINGS:
        raise ParameterError(f"bin by {', '.join(map(str, BINNINGS[:-1]))} or {BINNINGS[-1]}, not {binning!r}")
    volume = len(shape) == 3
    full = tuple(shape) if volume else (1, *shape)
    if region is None:
        ranges = [(0, size) for size in full]
    else:
        if isinstance(region, str):
            region = parse_region(region, tuple(shape))
        else:
            region.validate(tuple(shape))
        z = (0, full[0]) if region.z0 is None else (region.z0, region.z1)
        ranges = [z, (region.y0, region.y1), (region.x0, region.x1)]
    bins = (1 if stack or not volume else binning, binning, binning)
    for axis, (start, stop), step in zip(_AXES, ranges, bins):
        if stop - start < step:
            what = "planes" if axis == "Z" else "pixels"
            raise ParameterError(f"binning by {step} leaves nothing of the region's {stop - start} {what} along "
                                 f"{axis}: make it at least {step} {what} long")
    stops = tuple(start + (stop - start) // step * step for (start, stop), step in zip(ranges, bins))
    return Selection(tuple(shape), tuple(start for start, _ in ranges), stops, bins)


def read_subvolume(path, region: Region | str | None = None, binning: int = 1, *,
                   progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> ImageData:
    """Read a region of an image file, binned, into memory, never reading the planes outside it.

    Parameters
    ----------
    path : str or path-like
        A file or folder :func:`engine.io.open_image_lazily` opens.
    region : Region or str, optional
        The box to read (see :func:`select`); default the whole image.
    binning : int
        1, 2 or 4.
    progress : callable, optional
        ``progress(fraction)`` as runs of planes are read, 1.0 at the end.
    cancel : CancelToken, optional
        Checked between runs of planes.

    Returns
    -------
    ImageData
        The part, read-only, with its metadata (see the module's conventions).

    Raises
    ------
    ImageError
        The file cannot be opened or read, or the part does not fit in memory.
    ParameterError
        As :func:`select`.
    Cancelled
        ``cancel`` was set.

    Examples
    --------
    >>> part = read_subvolume("tomogram.rec", "100:164,:,:", 2)     # doctest: +SKIP
    >>> part.data.shape, part.voxel_size                             # doctest: +SKIP
    ((32, 1024, 1024), (27.2, 27.2, 27.2))
    """
    from et_denoise.engine.io.files import open_image_lazily

    return open_image_lazily(path).subvolume(region, binning).load(progress=progress, cancel=cancel)
