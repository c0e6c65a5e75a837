"""Images opened without reading their data: runs of planes read on demand, each a new array.

:class:`LazyImage` is what :func:`engine.io.open_image_lazily` returns for an
MRC file, a TIFF file or a folder of slices.  Reads are explicit copies
(``readinto`` at the data's offset, one TIFF page or one slice file per
plane), never a memory map, so no page of the file stays mapped in the
process after a slab has been used (the page cache is the system's).
"""

from __future__ import annotations

import dataclasses
import pathlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.checks import native
from et_denoise.engine.io.image_data import ImageData
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.io.subvolume import select
from et_denoise.engine.region import Region

if TYPE_CHECKING:
    from et_denoise.engine.jobs import CancelToken, ProgressFn

ReadPlanes = Callable[[int, int], np.ndarray]

#: Bytes :meth:`LazyImage.load` reads at a time (between progress reports and cancel checks).
LOAD_RUN_BYTES = 64 * 2**20


class LazyImage:
    """An image whose planes are read when asked for.

    Parameters
    ----------
    image : ImageData
        The file's metadata (voxel size, origin, unit, MRC header details), to
        write a result ``like`` it; its ``data`` is a zero-strided placeholder
        of the image's shape and type, or the array itself (:meth:`from_array`).
    read : callable
        ``read(start, stop)``: planes ``start:stop`` as a new native array of
        shape (stop - start, Y, X).

    Examples
    --------
    >>> volume = LazyImage.from_array(np.arange(24.0).reshape(4, 2, 3))
    >>> volume.shape, volume.read(1, 3).shape
    ((4, 2, 3), (2, 2, 3))
    """

    def __init__(self, image: ImageData, read: ReadPlanes) -> None:
        self.image = image
        self._read = read

    def __reduce__(self):
        """Pickled with its placeholder as one value (for the workers of a cluster), never as a whole array."""
        data = self.image.data
        if data.ndim and all(stride == 0 for stride in data.strides):
            small = dataclasses.replace(self.image, data=np.zeros((), data.dtype))
            return _rebuilt, (small, data.shape, self._read)
        return LazyImage, (self.image, self._read)

    @classmethod
    def from_array(cls, array: np.ndarray, *, like: ImageData | None = None) -> LazyImage:
        """An image already in memory, read through the same interface (a one-slab volume or many).

        ``like`` gives the metadata of the file it came from.
        """
        array = np.asarray(array)
        if array.ndim not in (2, 3):
            raise ImageError(f"an image must be 2-D or 3-D, got shape {array.shape}")
        planes = array.reshape((-1,) + array.shape[-2:])
        image = ImageData(array, *(() if like is None else (like.voxel_size, like.origin, like.path, False,
                                                           like.unit, like.mrc_header)))
        return cls(image, lambda start, stop: np.array(planes[start:stop]))

    @property
    def shape(self) -> tuple[int, ...]:
        """``(Z, Y, X)`` or ``(Y, X)``."""
        return tuple(self.image.data.shape)

    @property
    def dtype(self) -> np.dtype:
        """The data type planes are read in (native byte order)."""
        return self.image.data.dtype

    @property
    def n_planes(self) -> int:
        """Planes along Z (1 for a 2-D image)."""
        return self.shape[0] if len(self.shape) == 3 else 1

    @property
    def path(self) -> pathlib.Path | None:
        """The file or folder it is read from."""
        return self.image.path

    def read(self, start: int, stop: int) -> np.ndarray:
        """Planes ``start:stop`` as a new array of shape (stop - start, Y, X) in :attr:`dtype`.

        Raises
        ------
        ImageError
            The range is outside the image, the file cannot be read any more,
            or the planes hold NaN or infinity (naming the first such plane).
        """
        if not 0 <= start < stop <= self.n_planes:
            raise ImageError(f"planes {start}:{stop} are outside this image of {self.n_planes} planes", self.path)
        try:
            planes = self._read(start, stop)
        except OSError as error:
            raise ImageError(f"cannot read the file ({error.strerror or error})", self.path) from error
        if planes.dtype.kind == "f":
            finite = np.isfinite(planes).reshape(len(planes), -1).all(axis=1)
            if not finite.all():
                index = start + int(np.argmin(finite))
                where = f"slice {index}" if len(self.shape) == 3 else "the image"
                raise ImageError(f"the image contains NaN or infinite values (first in {where}); "
                                 "replace them before denoising", self.path)
        return planes

    def subvolume(self, region: Region | str | None = None, binning: int = 1) -> LazyImage:
        """A part of this image, binned, as a new image that reads only its own planes.

        Parameters
        ----------
        region : Region or str, optional
            The box to keep: a :class:`~engine.region.Region` or its
            text, ``"Z0:Z1,Y0:Y1,X0:X1"`` (``"Y0:Y1,X0:X1"`` for a 2-D image, or
            for every plane of a volume), half-open 0-based ranges as Python
            slices, an empty bound meaning the edge.  Default: all of it.
        binning : int
            1, 2 or 4: the mean of blocks of ``binning`` voxels along Z, Y and X
            (Y and X only for a 2-D image or an MRC stack of images), float32;
            what is left at the end of an axis is dropped.

        Returns
        -------
        LazyImage
            The part; this image itself when it is all of it, unbinned.  Its
            planes ``a:b`` read planes ``Z0 + a × binning : Z0 + b × binning`` of
            this image.  Voxel size, MRC origin and header follow the
            conventions of :mod:`engine.io.subvolume`.

        Raises
        ------
        ParameterError
            The region cannot be read or lies outside the image, the bin factor
            is not 1, 2 or 4, or binning leaves nothing of an axis of the region.

        Examples
        --------
        >>> volume = LazyImage.from_array(np.arange(512.0).reshape(8, 8, 8))
        >>> part = volume.subvolume("2:6,:,0:4", 2)
        >>> part.shape, float(part.read(0, 1)[0, 0, 0])
        ((2, 4, 2), 164.5)
        """
        header = self.image.mrc_header
        part = select(self.shape, region, binning, stack=len(self.shape) == 3 and header is not None
                      and header.image_stack)
        if part.is_whole:
            return self
        return LazyImage(part.image_data(self.image), part.reader(self.read, self.dtype, self.shape[-2:]))

    def load(self, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> ImageData:
        """The whole image read into memory, with its metadata (a run of planes at a time).

        Parameters
        ----------
        progress : callable, optional
            ``progress(fraction)`` after each run of planes; 1.0 at the end.
        cancel : CancelToken, optional
            Checked before each run of planes.

        Returns
        -------
        ImageData
            A read-only array of :attr:`shape` and :attr:`dtype`, as
            :func:`engine.io.read_image` gives it (not memory-mapped).

        Raises
        ------
        ImageError
            The image is larger than the memory available, or reading fails.
        Cancelled
            ``cancel`` was set.
        """
        nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        require_memory(nbytes, f"to open this {'×'.join(map(str, self.shape))} {self.dtype} image", self.path)
        data = np.empty((self.n_planes,) + self.shape[-2:], self.dtype)
        run = max(1, LOAD_RUN_BYTES * self.n_planes // max(nbytes, 1))
        for start in range(0, self.n_planes, run):
            if cancel is not None:
                cancel.check()
            stop = min(start + run, self.n_planes)
            data[start:stop] = self.read(start, stop)
            if progress is not None:
                progress(stop / self.n_planes)
        data = data.reshape(self.shape)
        data.flags.writeable = False
        return dataclasses.replace(self.image, data=data, memory_mapped=False)

    def to_dask(self, planes: int):
        """The image as a ``dask.array`` of slabs of ``planes`` planes, each read when computed.

        Parameters
        ----------
        planes : int
            Planes per chunk along Z.

        Returns
        -------
        dask.array.Array
            ``(Z, Y, X)`` (a 2-D image has one plane), chunked along Z only.
        """
        from et_denoise.engine.volume.graph import slab_array

        shape = (self.n_planes,) + self.shape[-2:]
        return slab_array("read-" + _token(self), shape, self.dtype, planes,
                          lambda start, stop: self.read(start, stop))


def _rebuilt(image: ImageData, shape: tuple[int, ...], read: ReadPlanes) -> LazyImage:
    return LazyImage(dataclasses.replace(image, data=np.broadcast_to(image.data, shape)), read)


def file_region_reader(path: pathlib.Path, offset: int, dtype: np.dtype, shape: tuple[int, int, int]) -> ReadPlanes:
    """Read planes stored one after another from ``offset``, with explicit reads into a new array.

    Parameters
    ----------
    path : Path
        The file.
    offset : int
        Byte offset of the first plane.
    dtype : numpy.dtype
        The stored type, byte order included; planes come back in native order.
    shape : tuple of 3 int
        ``(planes, Y, X)`` as stored.
    """
    dtype = np.dtype(dtype)
    plane_bytes = int(np.prod(shape[1:])) * dtype.itemsize
    path = pathlib.Path(path).absolute()  # the same file from another working folder (a cluster's workers)

    def read(start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start,) + tuple(shape[1:]), dtype)
        view = memoryview(out).cast("B")
        with open(path, "rb", buffering=0) as stream:  # its own handle: reads may come from several threads
            stream.seek(offset + start * plane_bytes)
            done = 0
            while done < len(view):
                count = stream.readinto(view[done:])
                if not count:
                    raise ImageError("the file is truncated: it ended while it was being read", path)
                done += count
        return native(out)

    return read


def _token(image: LazyImage) -> str:
    return uuid.uuid4().hex
