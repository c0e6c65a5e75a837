"""TIFF files (tifffile): single images, stacks, ImageJ hyperstacks, and folders of slices."""

from __future__ import annotations

import math
import pathlib
import re
import sys
from typing import BinaryIO

import numpy as np
import tifffile

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.checks import converted_slabs, image_shape, is_native, native
from et_denoise.engine.io.image_data import ImageData, Vector3
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.io.units import ANGSTROM_PER_UNIT, from_angstrom, imagej_unit_name, parse_unit, to_angstrom

TIFF_EXTENSIONS = (".tif", ".tiff")

#: Data type written for each data type TIFF output accepts.  ImageJ opens
#: the four written types (int16 through its signed-16-bit calibration).
TIFF_WRITE_TYPES = {
    np.dtype(np.uint8): np.dtype(np.uint8),
    np.dtype(np.uint16): np.dtype(np.uint16),
    np.dtype(np.int16): np.dtype(np.int16),
    np.dtype(np.float32): np.dtype(np.float32),
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.int8): np.dtype(np.int16),
    np.dtype(np.float16): np.dtype(np.float32),
    np.dtype(np.float64): np.dtype(np.float32),
}

# TIFF ResolutionUnit values that name a length (tifffile's RESUNIT; 4 and 5
# are common extensions).  INCH is left out on purpose: 72 or 96 dpi is a
# screen or print setting, not a microscope pixel size.
_RESOLUTION_UNITS = {3: "cm", 4: "mm", 5: "µm"}

# Units TIFF output keeps from its input (others would overflow the
# rational resolution tags); any other input unit is written as nm.
_WRITE_UNITS = ("Å", "nm", "µm")
_DEFAULT_UNIT = "nm"
_MIN_PIXELS_PER_UNIT, _MAX_PIXELS_PER_UNIT = 1e-3, 1e6

_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"


def _open(path: pathlib.Path) -> tifffile.TiffFile:
    try:
        return tifffile.TiffFile(path)
    except tifffile.TiffFileError as exc:
        raise ImageError("this is not a TIFF file, or it is damaged", path) from exc


def _single_series(tif: tifffile.TiffFile, path: pathlib.Path):
    """The file's one image (series) and its (Z, Y, X) or (Y, X) shape; ImageError for several."""
    if len(tif.series) != 1:
        shapes = ", ".join(str(series.shape) for series in tif.series)
        raise ImageError(
            f"the file holds {len(tif.series)} images of different sizes ({shapes}); "
            "only single images and stacks of equal-size images can be opened", path)
    series = tif.series[0]
    return series, image_shape(series.shape, series.dtype, path, axes=series.axes)


def read_tiff(path: pathlib.Path, mmap_threshold: float) -> ImageData:
    """Read a TIFF image or stack, memory-mapped if larger than ``mmap_threshold`` bytes.

    Only uncompressed, contiguous data in native byte order can be mapped;
    other files are loaded whatever their size.
    """
    tif = _open(path)
    with tif:
        series, shape = _single_series(tif, path)
        voxel_size, unit = _voxel_size(tif)
        memory_mapped = (
            series.nbytes > mmap_threshold
            and series.dataoffset is not None
            and tif.byteorder == _NATIVE_ORDER
            and is_native(series.dtype)
        )
        if not memory_mapped:
            require_memory(series.nbytes, f"to open this {'×'.join(map(str, series.shape))} {series.dtype} image",
                           path)
        data = tifffile.memmap(path, mode="r") if memory_mapped else series.asarray()
    return ImageData(native(data.reshape(shape)), voxel_size, None, path, memory_mapped, unit)


def open_tiff_lazily(path: pathlib.Path):
    """The image a TIFF file holds, and a function reading runs of its planes, without reading its data.

    Returns
    -------
    image : ImageData
        Voxel size and unit as :func:`read_tiff` gives them; its ``data`` is a
        zero-strided placeholder of the image's shape and type.
    read : callable
        ``read(start, stop)``: planes ``start:stop`` as a new native array of
        shape (stop - start, Y, X).  Uncompressed contiguous data are read by
        explicit reads at their offset; otherwise one page per plane; a file
        whose pages are not its planes (a tiled 3-D page) is loaded once, if
        it fits in memory.
    """
    from et_denoise.engine.io.lazy import file_region_reader

    tif = _open(path)
    with tif:
        series, shape = _single_series(tif, path)
        voxel_size, unit = _voxel_size(tif)
        dtype = series.dtype.newbyteorder(tif.byteorder)
        n_planes = shape[0] if len(shape) == 3 else 1
        contiguous = series.dataoffset is not None
        paged = len(series.pages) == n_planes and all(page is not None for page in series.pages)
        whole = None
        if not (contiguous or paged):
            require_memory(series.nbytes, f"to open this {'×'.join(map(str, series.shape))} {series.dtype} image",
                           path)
            whole = native(series.asarray().reshape((n_planes,) + shape[-2:]))
        offset = series.dataoffset
    placeholder = np.broadcast_to(np.zeros((), native(np.zeros(0, dtype)).dtype), shape)
    image = ImageData(placeholder, voxel_size, None, path, True, unit)
    if contiguous:
        return image, file_region_reader(path, offset, dtype, (n_planes,) + shape[-2:])
    if whole is not None:
        return image, lambda start, stop: whole[start:stop].copy()

    absolute = path.absolute()  # the same file from another working folder (a cluster's workers)

    def read_pages(start: int, stop: int) -> np.ndarray:
        with tifffile.TiffFile(absolute) as tif:
            pages = tif.series[0].pages
            return native(np.stack([pages[index].asarray().reshape(shape[-2:]) for index in range(start, stop)]))

    return image, read_pages


def open_tiff_folder_lazily(folder: pathlib.Path):
    """A folder of 2-D TIFF slices as :func:`open_tiff_lazily` gives a file: each plane read from its own file.

    Every slice's size and type is checked against the first's when it is read.
    """
    files = [file.absolute() for file in _slice_files(folder)]
    first_image = read_tiff(files[0], math.inf)
    first = first_image.data
    _check_slice(first, files[0], first, files[0], folder)
    shape = image_shape((len(files),) + first.shape, first.dtype, folder)
    placeholder = np.broadcast_to(np.zeros((), first.dtype), shape)
    image = ImageData(placeholder, first_image.voxel_size, None, folder, True, first_image.unit)

    def read_slices(start: int, stop: int) -> np.ndarray:
        planes = []
        for file in files[start:stop]:
            plane = read_tiff(file, math.inf).data
            _check_slice(plane, file, first, files[0], folder)
            planes.append(plane)
        return np.stack(planes)

    return image, read_slices


def _slice_files(folder: pathlib.Path) -> list[pathlib.Path]:
    files = sorted(
        (entry for entry in folder.iterdir()
         if entry.suffix.lower() in TIFF_EXTENSIONS and not entry.name.startswith(".")
         and entry.is_file()),
        key=lambda entry: natural_key(entry.name),
    )
    if not files:
        raise ImageError("the folder contains no TIFF files (.tif, .tiff)", folder)
    return files


def read_tiff_folder(folder: pathlib.Path) -> ImageData:
    """Read a folder of 2-D TIFF slices, in natural file-name order, as one stack.

    Hidden files (names starting with a dot) are skipped.  The voxel size is
    the first slice's.
    """
    files = _slice_files(folder)
    first_image = read_tiff(files[0], math.inf)
    first = first_image.data
    _check_slice(first, files[0], first, files[0], folder)
    stack = np.empty((len(files),) + first.shape, first.dtype)
    stack[0] = first
    for index, file in enumerate(files[1:], start=1):
        plane = read_tiff(file, math.inf).data
        _check_slice(plane, file, first, files[0], folder)
        stack[index] = plane
    return ImageData(stack.reshape(image_shape(stack.shape, stack.dtype, folder)),
                     first_image.voxel_size, None, folder, False, first_image.unit)


def _check_slice(plane: np.ndarray, file: pathlib.Path, first: np.ndarray,
                 first_file: pathlib.Path, folder: pathlib.Path) -> None:
    """Raise ImageError unless ``plane`` is 2-D and matches the first slice's size and type."""
    if plane.ndim != 2:
        raise ImageError(
            f"{file.name} is a stack of {plane.shape[0]} images; a folder of slices must "
            "hold one 2-D image per file", folder)
    if plane.shape != first.shape or plane.dtype != first.dtype:
        raise ImageError(
            f"{file.name} is a {plane.shape[1]}×{plane.shape[0]} {plane.dtype} image but "
            f"{first_file.name} is {first.shape[1]}×{first.shape[0]} {first.dtype}; "
            "all slices must have the same size and type", folder)


def write_tiff(stream: BinaryIO, path: pathlib.Path, data: np.ndarray, dtype: np.dtype,
               voxel_size: Vector3 | None, unit: str | None) -> None:
    """Write an ImageJ-compatible TIFF to ``stream``, plane by plane, converting to ``dtype``.

    The voxel size goes into the X/YResolution tags and the ImageJ ``spacing``
    and ``unit`` entries, in ``unit`` if it is Å, nm or µm and the size fits
    the tags there, else in the first unit it fits (see :func:`_resolution_unit`).
    ``path`` names the file in messages.
    """
    axes = "ZYX" if data.ndim == 3 else "YX"
    shape = data.shape
    if data.ndim == 3 and shape[-1] == 1:
        # tifffile would take a trailing axis of 1 for samples and write one Z×Y image.
        axes, shape = axes + "S", shape + (1,)
    metadata: dict = {"axes": axes}
    resolution = None
    if voxel_size is not None:
        unit = _resolution_unit(voxel_size, unit, path)
        z, y, x = (from_angstrom(size, unit) for size in voxel_size)
        resolution = (1.0 / x, 1.0 / y)
        metadata.update(spacing=z, unit=imagej_unit_name(unit))
    page = shape[1:] if data.ndim == 3 else shape
    planes = (plane.reshape(page)
              for _part, values in converted_slabs(data if data.ndim == 3 else data[np.newaxis], dtype, path)
              for plane in values)
    tifffile.imwrite(stream, planes, shape=shape, dtype=dtype, imagej=True, resolution=resolution,
                     metadata=metadata)


def _resolution_unit(voxel_size: Vector3, unit: str | None, path) -> str:
    """The unit to write ``voxel_size`` in: ``unit`` if it is a written one and the size fits the tags there.

    TIFF stores pixels per unit as a fraction of two 32-bit integers; within
    1e-3 to 1e6 pixels per unit it keeps 6 significant digits.

    Raises
    ------
    ImageError
        No length unit can hold the size.
    """
    preferred = unit if unit in _WRITE_UNITS else _DEFAULT_UNIT
    candidates = (preferred,) + tuple(name for name in ANGSTROM_PER_UNIT if name != preferred)

    def fits(name):
        return all(_MIN_PIXELS_PER_UNIT <= 1.0 / from_angstrom(size, name) <= _MAX_PIXELS_PER_UNIT
                   for size in voxel_size[1:])

    for name in candidates:
        if fits(name):
            return name
    raise ImageError(f"a voxel size of {voxel_size[2]:.6g} × {voxel_size[1]:.6g} Å cannot be stored in a "
                     "TIFF file; save as MRC, or give a realistic voxel size", path)


def _voxel_size(tif: tifffile.TiffFile) -> tuple[Vector3 | None, str | None]:
    """Return the ``(z, y, x)`` voxel size in Å and the unit the file used.

    X and Y come from the resolution tags, in the ImageJ ``unit`` or the TIFF
    ResolutionUnit; z from the ImageJ ``spacing``, or equal to x when the
    file gives none (reconstructed tomograms have cubic voxels).
    """
    page = tif.pages.first
    imagej = tif.imagej_metadata
    if imagej is not None:
        unit = parse_unit(imagej.get("unit"))
    else:
        unit = _RESOLUTION_UNITS.get(int(page.resolutionunit))
    x_per_unit, y_per_unit = page.get_resolution()
    if unit is None or not (x_per_unit > 0 and y_per_unit > 0):
        return None, None
    x = to_angstrom(1.0 / x_per_unit, unit)
    y = to_angstrom(1.0 / y_per_unit, unit)
    spacing = imagej.get("spacing") if imagej is not None else None
    z = to_angstrom(float(spacing), unit) if isinstance(spacing, (int, float)) and spacing > 0 else x
    return (z, y, x), unit


def natural_key(name: str) -> list:
    """Sort key that orders ``slice2`` before ``slice10``.

    Examples
    --------
    >>> sorted(["s10.tif", "s2.tif"], key=natural_key)
    ['s2.tif', 's10.tif']
    """
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
