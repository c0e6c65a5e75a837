"""read_image and write_image: pick the format from the path, turn every failure into ImageError."""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import struct
import threading
import types
import zlib
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from et_denoise.engine.errors import ImageError, OutputExistsError, ParameterError
from et_denoise.engine.io.checks import SlabStream, check_finite
from et_denoise.engine.io.image_data import ImageData, Vector3
from et_denoise.engine.io.memory import default_mmap_threshold
from et_denoise.engine.io.lazy import LazyImage, file_region_reader
from et_denoise.engine.io.partial_files import atomic_file
from et_denoise.engine.io.mrc import MRC_EXTENSIONS, MRC_WRITE_TYPES, open_mrc_lazily, read_mrc, write_mrc
from et_denoise.engine.io.tiff import (TIFF_EXTENSIONS, TIFF_WRITE_TYPES, open_tiff_folder_lazily, open_tiff_lazily,
                                       read_tiff, read_tiff_folder, write_tiff)
from et_denoise.engine.io.zarr_store import (ZARR_EXTENSIONS, ZARR_WRITE_TYPES, is_zarr, open_zarr_lazily, partial_store,
                                             read_zarr, write_zarr)

#: File extensions for file dialogs.  A ``.zarr`` (``.ome.zarr``) is a folder,
#: the OME-Zarr store; besides those, :func:`read_image` also opens a folder
#: of 2-D TIFF slices.
SUPPORTED_EXTENSIONS = types.MappingProxyType({
    "read": TIFF_EXTENSIONS + MRC_EXTENSIONS + ZARR_EXTENSIONS,
    "write": TIFF_EXTENSIONS + MRC_EXTENSIONS + ZARR_EXTENSIONS,
})

# Longest file name and path most file systems take (Linux NAME_MAX and PATH_MAX).
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4096

# Exceptions tifffile, mrcfile, imagecodecs, zarr and numpy raise on unreadable or
# unwritable files (imagecodecs' and numcodecs' codec errors are RuntimeErrors).
_LIBRARY_ERRORS = (ValueError, TypeError, KeyError, IndexError, RuntimeError,
                   EOFError, struct.error, zlib.error)


def read_image(path, *, mmap_threshold_bytes: int | None = None, scan_mapped: bool = True) -> ImageData:
    """Read a TIFF, MRC or OME-Zarr image, or a folder of 2-D TIFF slices, as a greyscale image.

    Parameters
    ----------
    path : str or path-like
        A ``.tif``/``.tiff`` file (2-D image, 3-D stack or ImageJ hyperstack
        with singleton time and channel axes; compressed or tiled), an MRC
        file (``.mrc``, ``.rec``, ``.st``, ``.ali``, ``.mrcs``, ``.map``; modes
        0, 1, 2, 6 and 12), an OME-Zarr store (a ``.zarr``/``.ome.zarr``
        folder, Zarr v2: the first resolution level of an OME-NGFF 0.4
        multiscale image with singleton time and channel axes, or a plain
        array), or a folder of equally sized 2-D TIFF slices, read in natural
        name order (``s2.tif`` before ``s10.tif``).
    mmap_threshold_bytes : int, optional
        Images larger than this are memory-mapped instead of loaded, where the
        file allows it (MRC; uncompressed, contiguous TIFF; never OME-Zarr,
        which is compressed).  Default: 40 % of the available memory.
    scan_mapped : bool
        Scan a memory-mapped image for NaN and infinity now, which reads the
        whole file.  False returns at once (to show a large file's first
        slice); every engine function then checks the planes it is given,
        and a whole-volume job each slab it reads.

    Returns
    -------
    ImageData
        The read-only ``(Z, Y, X)`` or ``(Y, X)`` array in the file's data type,
        with voxel size and origin in Å, and the header details
        :func:`write_image` needs to write the image back faithfully.

    Raises
    ------
    ImageError
        With a message naming the file and the problem: not a usable file
        name (not text, a NUL character, too long), missing or empty file,
        unsupported extension, not an image, damaged or truncated file (a
        header announcing more than the file holds is refused before anything
        is allocated), colour or multi-channel image, complex data, more than
        3 dimensions, an empty axis, NaN or infinite values, unequal slices in
        a folder, missing or inconsistent OME-NGFF metadata, a Zarr v3 store,
        or an image that must be loaded (compressed, other byte order) and is
        larger than the memory available.

    Notes
    -----
    Float data are scanned for NaN and infinity slab by slab, so a mapped file
    is read once but never held in memory whole.  A byte (mode 0) MRC file is
    read as uint8 when IMOD's header flags say its bytes are unsigned.

    Examples
    --------
    >>> image = read_image("tomogram.rec")                       # doctest: +SKIP
    >>> image.data.shape, image.voxel_size                        # doctest: +SKIP
    ((200, 1024, 1024), (13.6, 13.6, 13.6))
    """
    path = _checked_path(path)
    threshold = default_mmap_threshold() if mmap_threshold_bytes is None else mmap_threshold_bytes
    with _library_errors(path, "read"):
        is_folder = path.is_dir()
    if is_folder and not is_zarr(path):
        with _library_errors(path, "read"):
            image = read_tiff_folder(path)
    else:
        file_format = _format_of(path)
        with _library_errors(path, "read"):
            if not path.exists():
                raise ImageError("file not found", path)
            if path.is_file() and path.stat().st_size == 0:
                raise ImageError("the file is empty (0 bytes)", path)
            image = file_format.read(path, threshold)
    if scan_mapped or not image.memory_mapped:
        check_finite(image.data, path)
    image.data.flags.writeable = False
    return image


def open_image_lazily(path) -> LazyImage:
    """Open a TIFF, MRC or OME-Zarr image, or a folder of 2-D TIFF slices, without reading its pixels.

    The same files as :func:`read_image`, with the same checks of the file
    itself (header, size, type); the pixels are read a run of planes at a
    time by :meth:`LazyImage.read`, which checks them for NaN and infinity
    (of an OME-Zarr store, only the chunks holding them are read).

    Parameters
    ----------
    path : str or path-like
        The file or folder.

    Returns
    -------
    LazyImage
        Shape, data type and metadata now; planes on demand.

    Raises
    ------
    ImageError
        As :func:`read_image`, for what can be told without reading the pixels.

    Examples
    --------
    >>> volume = open_image_lazily("tomogram.rec")        # doctest: +SKIP
    >>> volume.shape, volume.read(0, 8).shape              # doctest: +SKIP
    ((600, 2048, 2048), (8, 2048, 2048))
    """
    path = _checked_path(path)
    with _library_errors(path, "read"):
        is_folder = path.is_dir()
        if is_zarr(path):
            image, read = open_zarr_lazily(path)
        elif is_folder:
            image, read = open_tiff_folder_lazily(path)
        else:
            _format_of(path)  # an unsupported extension is refused first
            if not path.exists():
                raise ImageError("file not found", path)
            if path.stat().st_size == 0:
                raise ImageError("the file is empty (0 bytes)", path)
            if path.suffix.lower() in MRC_EXTENSIONS:
                image, offset, dtype = open_mrc_lazily(path)
                shape = image.data.shape
                read = file_region_reader(path, offset, dtype, (shape[0] if len(shape) == 3 else 1,) + shape[-2:])
            else:
                image, read = open_tiff_lazily(path)
    return LazyImage(image, _reading_errors(path, read))


def _reading_errors(path: pathlib.Path, read):
    """``read`` with the library's exceptions turned into ImageError naming the file."""
    def guarded(start: int, stop: int) -> np.ndarray:
        with _library_errors(path, "read"):
            return read(start, stop)

    return guarded


def write_image(path, data, *, voxel_size=None, origin=None, overwrite: bool = False,
                like: ImageData | None = None) -> pathlib.Path:
    """Write a 2-D image or 3-D stack as TIFF, MRC or OME-Zarr, chosen by the file extension.

    Parameters
    ----------
    path : str or path-like
        Output file: ``.tif``/``.tiff`` writes an ImageJ-compatible TIFF;
        ``.mrc``, ``.rec``, ``.map`` a volume (space group 1), ``.mrcs``,
        ``.st``, ``.ali`` an image stack (space group 0).  A ``.mrc`` written
        ``like`` a stack is a stack too.  ``.zarr``/``.ome.zarr`` writes an
        OME-Zarr store (a folder, Zarr v2): an OME-NGFF 0.4 image of one
        resolution level, axes ``z, y, x`` (``y, x``), in chunks of up to
        512 × 512 pixels and a few planes, compressed losslessly (Blosc zstd).
    data : array_like or SlabStream
        ``(Z, Y, X)`` or ``(Y, X)`` array, or a :class:`~engine.io.checks.SlabStream`
        whose blocks of planes are made while the file is written (a result
        larger than memory; an error or :class:`~engine.errors.Cancelled`
        raised by a block leaves no file).  Its type is kept: TIFF takes uint8,
        uint16, int16, float32; MRC and OME-Zarr take int8, uint8, int16,
        uint16, float16, float32.  float64 is written as float32 and bool as uint8 (TIFF also
        widens int8 to int16 and float16 to float32); other types are refused.
    voxel_size : tuple of 3 float, optional
        ``(z, y, x)`` in Å.  Default: ``like.voxel_size``.  OME-Zarr stores it
        as the scale transformation, in ``like``'s unit if that is nm or µm,
        else in Å.
    origin : tuple of 3 float, optional
        ``(z, y, x)`` MRC origin in Å.  Default: ``like.origin``.  TIFF has none;
        OME-Zarr stores it as the translation transformation.
    overwrite : bool
        Replace an existing file.  Without it an existing file is never touched.
    like : ImageData, optional
        The input image: its voxel size, origin, TIFF unit and MRC labels are
        copied, and its MRC start indices and extended header too if ``data``
        has the same shape.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ImageError
        If ``path`` is not a usable file name, the file exists and
        ``overwrite`` is False, the extension or data type is not supported,
        the array is not 2-D or 3-D, it holds values that are not finite, or
        writing fails (a full disk, no permission).
    ParameterError
        If ``voxel_size`` is not three positive numbers or ``origin`` not three
        finite numbers.

    Notes
    -----
    The file (an OME-Zarr store: the folder) is written under a temporary
    name in the same folder, flushed to the disk and renamed at the end
    (:mod:`engine.io.partial_files`), so a
    failed write (a full disk included) leaves no partial file and an existing
    file (even the memory-mapped input itself) stays intact until the new one
    is complete.  Without ``overwrite``, a file another process creates under
    the same name meanwhile is not replaced either.  Data in either byte order
    are accepted.  NaN, infinity and float64 values beyond float32's range are
    refused before anything is saved: no file is written that cannot be read
    back.

    Examples
    --------
    >>> image = read_image("tomogram.rec")                            # doctest: +SKIP
    >>> write_image("denoised.rec", result, like=image)               # doctest: +SKIP
    PosixPath('denoised.rec')
    """
    path = _checked_path(path)
    file_format = _format_of(path)
    array = data if isinstance(data, SlabStream) else np.asarray(data)
    if array.ndim not in (2, 3) or array.size == 0:
        raise ImageError(f"cannot save an array of shape {array.shape}: it must be a non-empty "
                         "2-D image or 3-D stack", path)
    native_type = array.dtype.newbyteorder("=") if array.dtype.byteorder in "<>" else array.dtype
    if native_type not in file_format.write_types:
        names = ", ".join(sorted({dtype.name for dtype in file_format.write_types.values()}))
        raise ImageError(f"cannot save {array.dtype} data in a {path.suffix} file; "
                         f"supported data types: {names}", path)
    if voxel_size is None and like is not None:
        voxel_size = like.voxel_size
    if origin is None and like is not None:
        origin = like.origin
    voxel_size = _vector(voxel_size, "voxel_size", positive=True)
    origin = _vector(origin, "origin", positive=False)
    with _library_errors(path, "write"):
        if is_zarr(path):
            if path.exists() and not path.is_dir():
                raise ImageError("this is a file, but an OME-Zarr store is a folder; choose another name", path)
        elif path.is_dir():
            raise ImageError("this is a folder; choose a file name to save to", path)
        if path.exists() and not overwrite:
            raise OutputExistsError(path)
        if not path.parent.is_dir():
            raise ImageError(f"the folder {path.parent} does not exist", path)
        with file_format.partial(path, overwrite=overwrite) as target:
            file_format.write(target, path, array, file_format.write_types[native_type],
                              voxel_size, origin, like)
    return path


def _checked_path(path) -> pathlib.Path:
    """``path`` as a Path, or ImageError if it cannot name a file (not text, NUL, too long)."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise ImageError(f"a file name (text) is needed, not {type(path).__name__} {path!r:.60}")
    if not path:
        raise ImageError("no file name was given")
    if "\0" in path:
        raise ImageError(f"the file name {path!r:.80} contains a NUL character")
    path = pathlib.Path(path).expanduser()
    longest = max((len(part.encode("utf-8", "surrogateescape")) for part in path.parts), default=0)
    if longest > _MAX_NAME_BYTES:
        raise ImageError(f"a name in this path is {longest} bytes long; the limit is {_MAX_NAME_BYTES}",
                         str(path)[:80] + "…")
    if len(os.fsencode(path)) >= _MAX_PATH_BYTES:
        raise ImageError(f"the path is {len(os.fsencode(path))} bytes long; the limit is {_MAX_PATH_BYTES - 1}",
                         str(path)[:80] + "…")
    return path


def _write_tiff(stream, path, array, dtype, voxel_size, origin, like) -> None:
    write_tiff(stream, path, array, dtype, voxel_size, like.unit if like is not None else None)


def _write_mrc(stream, path, array, dtype, voxel_size, origin, like) -> None:
    header = like.mrc_header if like is not None else None
    write_mrc(stream, path, array, dtype, voxel_size, origin, header,
              same_shape=like is not None and like.data.shape == array.shape)


def _write_zarr(folder, path, array, dtype, voxel_size, origin, like) -> None:
    write_zarr(folder, path, array, dtype, voxel_size, origin, like.unit if like is not None else None)


class _Format(NamedTuple):
    read: Callable[[pathlib.Path, float], ImageData]
    write: Callable[..., None]  # write(target, path, array, dtype, voxel_size, origin, like) into partial's target
    write_types: dict  # data type accepted -> data type written
    # partial(path, overwrite=) opens what write fills (a binary stream, a folder) and publishes it as path
    partial: Callable[..., contextlib.AbstractContextManager] = atomic_file


_FORMATS = {
    **dict.fromkeys(TIFF_EXTENSIONS, _Format(read_tiff, _write_tiff, TIFF_WRITE_TYPES)),
    **dict.fromkeys(MRC_EXTENSIONS, _Format(read_mrc, _write_mrc, MRC_WRITE_TYPES)),
    **dict.fromkeys(ZARR_EXTENSIONS, _Format(lambda path, _threshold: read_zarr(path), _write_zarr, ZARR_WRITE_TYPES,
                                             partial_store)),
}


def _format_of(path: pathlib.Path) -> _Format:
    """Return the format of the path's extension, or raise ImageError."""
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ImageError(f"unsupported file type {suffix or '(no extension)'!r}; "
                         f"supported: {' '.join(_FORMATS)}", path)
    return _FORMATS[suffix]


def _vector(values, name: str, positive: bool) -> Vector3 | None:
    """Validate a ``(z, y, x)`` triple of numbers; None stays None."""
    if values is None:
        return None
    try:
        vector = tuple(float(value) for value in values)
    except (TypeError, ValueError):
        vector = ()
    if len(vector) != 3 or not all(np.isfinite(vector)) or (positive and min(vector) <= 0):
        kind = "positive" if positive else "finite"
        raise ParameterError(f"{name} must be three {kind} numbers (z, y, x) in Å, got {values!r}")
    return vector


@contextlib.contextmanager
def _library_errors(path: pathlib.Path, action: str) -> Iterator[None]:
    """Turn library exceptions, and errors tifffile only logs, into ImageError."""
    logged = _LoggedErrors()
    logger = logging.getLogger("tifffile")
    logger.addHandler(logged)
    try:
        yield
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageError(f"not enough memory to {action} this image", path) from exc
    except OSError as exc:
        raise ImageError(f"cannot {action} the file ({exc.strerror or exc})", path) from exc
    except _LIBRARY_ERRORS as exc:
        damaged = ", it may be damaged or truncated" if action == "read" else ""
        raise ImageError(f"cannot {action} the file{damaged} ({exc})", path) from exc
    finally:
        logger.removeHandler(logged)
    if logged.messages:
        raise ImageError(f"the file is damaged or truncated ({logged.messages[0]})", path)


class _LoggedErrors(logging.Handler):
    """Collects the errors tifffile logs, in this thread, instead of raising them.

    tifffile logs, rather than raises, when page offsets point past the end
    of the file, and then returns only the pages it found.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._thread:
            self.messages.append(record.getMessage())
