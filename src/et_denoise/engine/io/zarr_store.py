"""OME-Zarr stores (zarr 2): OME-NGFF 0.4 multiscale images and plain Zarr v2 arrays.

A store is a folder, ``NAME.zarr`` or ``NAME.ome.zarr``.  Of a multiscale
image the first dataset (the full resolution) is the image; its axes must come
down to ``(z, y, x)`` or ``(y, x)`` once singleton time and channel axes are
dropped.  Planes are read a run at a time, decompressing only the chunks that
hold them; an output is written chunk row by chunk row into a hidden partial
folder that takes the final name when it is complete.  zarr and numcodecs are
imported when a store is opened or written, not with :mod:`engine.io`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import pathlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.checks import converted_slabs, image_shape, native
from et_denoise.engine.io.image_data import ImageData, Vector3
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.io.partial_files import staging_folder
from et_denoise.engine.io.mrc import MRC_WRITE_TYPES
from et_denoise.engine.io.units import from_angstrom, parse_unit, to_angstrom

if TYPE_CHECKING:
    import zarr

#: Folder extensions of Zarr stores (``NAME.ome.zarr`` ends in ``.zarr`` too).
ZARR_EXTENSIONS = (".zarr",)

#: Data type written for each data type OME-Zarr output accepts: the same as MRC's.
ZARR_WRITE_TYPES = MRC_WRITE_TYPES

#: Uncompressed bytes a written chunk holds at most (unless one tile of one plane is larger).
CHUNK_BYTES = 4 * 2**20
_CHUNK_SIDE = 512
_MAX_CHUNK_PLANES = 16

# OME-NGFF (UDUNITS-2) names of the units written; other voxel-size units are written in ångström.
_OME_UNITS = {"Å": "angstrom", "nm": "nanometer", "µm": "micrometer"}
_DEFAULT_UNIT = "Å"
_AXIS_TYPES = {"x": "space", "y": "space", "z": "space", "t": "time", "c": "channel"}


class _Axis(NamedTuple):
    name: str
    kind: str | None  # "space", "time", "channel", or another type a file gives, None if none
    unit: str | None  # as the file spells it


class _Image(NamedTuple):
    """Where the image lies in a store, and what the metadata say of it."""

    key: str                     # the array's path inside the store ("" for a plain array)
    selection: tuple             # 0 for each dropped axis, slice(None) for each space axis
    z_axis: int | None           # the position of z in ``selection``, None for a 2-D image
    image: ImageData             # metadata, with a zero-strided placeholder of the image's shape and type


def is_zarr(path: pathlib.Path) -> bool:
    """True if ``path`` names a Zarr store (``.zarr``, ``.ome.zarr``), whether or not it exists."""
    return path.suffix.lower() in ZARR_EXTENSIONS


def read_zarr(path: pathlib.Path) -> ImageData:
    """Load the image of a Zarr store into memory (it is compressed: never memory-mapped).

    Raises
    ------
    ImageError
        The store cannot be opened (see :func:`open_zarr_lazily`), or the image
        is larger than the memory available.
    """
    found = _open(path)
    placeholder = found.image.data
    nbytes = placeholder.size * placeholder.dtype.itemsize
    require_memory(nbytes, f"to open this {'×'.join(map(str, placeholder.shape))} {placeholder.dtype} image", path)
    import zarr

    array = zarr.open_array(zarr.DirectoryStore(str(path)), mode="r", path=found.key)
    data = native(np.ascontiguousarray(array[found.selection])).reshape(placeholder.shape)
    return dataclasses.replace(found.image, data=data, memory_mapped=False)


def open_zarr_lazily(path: pathlib.Path):
    """The image of a Zarr store, and a function reading runs of its planes, without reading its data.

    Parameters
    ----------
    path : pathlib.Path
        The store's folder: an OME-NGFF 0.4 (or 0.1 to 0.3) multiscale image,
        or a plain Zarr v2 array.

    Returns
    -------
    image : ImageData
        Voxel size and origin in Å (from the first dataset's scale and
        translation, and the axes' units), the unit of the x axis; its
        ``data`` is a zero-strided placeholder of the image's shape and type.
    read : callable
        ``read(start, stop)``: planes ``start:stop`` as a new native array of
        shape (stop - start, Y, X), decompressing only the chunks that hold them.

    Raises
    ------
    ImageError
        The folder is missing, is not a Zarr v2 store, or its metadata are
        missing or inconsistent; the image has channels or time points, space
        axes other than ``z, y, x`` or ``y, x``, or data that are not a
        greyscale image (:func:`~engine.io.checks.image_shape`).
    """
    found = _open(path)
    store_path = str(path.absolute())  # the same store from another working folder (a cluster's workers)
    key, selection, z_axis = found.key, found.selection, found.z_axis

    def read(start: int, stop: int) -> np.ndarray:
        import zarr

        array = zarr.open_array(zarr.DirectoryStore(store_path), mode="r", path=key)
        if z_axis is None:
            planes = array[selection][np.newaxis]
        else:
            planes = array[selection[:z_axis] + (slice(start, stop),) + selection[z_axis + 1:]]
        return native(np.ascontiguousarray(planes))

    return found.image, read


def _open(path: pathlib.Path) -> _Image:
    """Find the image in the store at ``path`` and check its metadata; ImageError naming the store if it cannot."""
    if not path.exists():
        raise ImageError("file not found", path)
    if not path.is_dir():
        raise ImageError("this is a file, but a Zarr store is a folder (zipped stores cannot be opened)", path)
    if (path / "zarr.json").is_file():
        raise ImageError("this is a Zarr v3 store (OME-NGFF 0.5); only Zarr v2 stores (OME-NGFF 0.4 and "
                         "earlier) can be opened", path)
    import zarr

    store = zarr.DirectoryStore(str(path))
    try:
        if (path / ".zarray").is_file():
            array = zarr.open_array(store, mode="r")
            return _plain_array(path, array)
        if not (path / ".zgroup").is_file():
            raise ImageError("this folder is not a Zarr store: it has no .zgroup or .zarray file", path)
        group = zarr.open_group(store, mode="r")
        multiscales = group.attrs.get("multiscales")
    except zarr.errors.MetadataError as error:
        raise ImageError(f"the Zarr metadata cannot be read ({error})", path) from error
    if not isinstance(multiscales, list) or not multiscales or not isinstance(multiscales[0], dict):
        arrays = ", ".join(sorted(group.array_keys())) or "none"
        raise ImageError(f"the Zarr group has no OME-NGFF 'multiscales' metadata, so it names no image "
                         f"(arrays in it: {arrays})", path)
    multiscale = multiscales[0]
    datasets = multiscale.get("datasets")
    if (not isinstance(datasets, list) or not datasets or not isinstance(datasets[0], dict)
            or not isinstance(datasets[0].get("path"), str)):
        raise ImageError("the OME-NGFF metadata list no datasets (resolution levels) with a path", path)
    key = datasets[0]["path"]
    try:
        array = zarr.open_array(store, mode="r", path=key)
    except (zarr.errors.ArrayNotFoundError, zarr.errors.MetadataError) as error:
        raise ImageError(f"the OME-NGFF metadata name the array {key!r}, which the store does not hold "
                         "or cannot read", path) from error
    axes = _axes(multiscale.get("axes"), array.ndim, path)
    scale, translation = _transforms(datasets[0].get("coordinateTransformations"),
                                     multiscale.get("coordinateTransformations"), array.ndim, path)
    return _multiscale_image(path, key, array, axes, scale, translation)


def _plain_array(path: pathlib.Path, array: zarr.Array) -> _Image:
    """A Zarr array without OME metadata: singleton axes in front of Y and X dropped, no voxel size."""
    shape = image_shape(array.shape, array.dtype, path)
    selection = tuple(0 if index < array.ndim - 2 and size == 1 else slice(None)
                      for index, size in enumerate(array.shape))
    z_axis = selection.index(slice(None)) if len(shape) == 3 else None
    return _Image("", selection, z_axis, ImageData(_placeholder(shape, array.dtype), path=path, memory_mapped=True))


def _multiscale_image(path, key, array, axes, scale, translation) -> _Image:
    """The image of a multiscale's first dataset: its space axes, voxel size and origin."""
    selection, space = [], []
    for index, (axis, size) in enumerate(zip(axes, array.shape)):
        if axis.kind == "space":
            selection.append(slice(None))
            space.append(index)
        elif size == 1:
            selection.append(0)
        elif axis.kind == "channel":
            raise ImageError(f"this image has {size} channels (axis {axis.name!r}); save each channel as its "
                             "own image", path)
        elif axis.kind == "time":
            raise ImageError(f"this image has {size} time points (axis {axis.name!r}); save each time point "
                             "as its own image", path)
        else:
            raise ImageError(f"this image has {size} entries along its axis {axis.name!r} ({axis.kind or 'no type'}); "
                             "only space axes (z, y, x) can be longer than 1", path)
    names = tuple(axes[index].name.lower() for index in space)
    if names not in (("z", "y", "x"), ("y", "x")):
        raise ImageError(f"the image's space axes are {', '.join(names) or 'none'}; only z, y, x or y, x can be "
                         "opened", path)
    shape = image_shape(tuple(array.shape[index] for index in space), array.dtype, path)
    units = [parse_unit(axes[index].unit) for index in space]
    voxel_size = origin = unit = None
    if None not in units:
        sizes = [to_angstrom(scale[index], name) for index, name in zip(space, units)]
        voxel_size = tuple(sizes) if len(sizes) == 3 else (sizes[1], sizes[0], sizes[1])
        if translation is not None:
            shifts = [to_angstrom(translation[index], name) for index, name in zip(space, units)]
            origin = tuple(shifts) if len(shifts) == 3 else (0.0, shifts[0], shifts[1])
        unit = units[-1]
    image = ImageData(_placeholder(shape, array.dtype), voxel_size, origin, path, True, unit)
    return _Image(key, tuple(selection), space[0] if len(space) == 3 else None, image)


def _axes(axes, ndim: int, path: pathlib.Path) -> list[_Axis]:
    """The axes of OME-NGFF 0.4 (objects), 0.3 (names) or 0.1 and 0.2 (none: t, c, z, y, x)."""
    if axes is None:
        if ndim > 5:
            raise ImageError(f"the OME-NGFF metadata give no axes for an array of {ndim} dimensions", path)
        axes = list("tczyx"[5 - ndim:])
    if not isinstance(axes, list) or len(axes) != ndim:
        count = len(axes) if isinstance(axes, list) else "no list of"
        raise ImageError(f"the OME-NGFF metadata give {count} axes for an array of {ndim} dimensions", path)
    result = []
    for axis in axes:
        if isinstance(axis, str):
            axis = {"name": axis}
        if not isinstance(axis, dict) or not isinstance(axis.get("name"), str):
            raise ImageError(f"the OME-NGFF metadata give an axis without a name ({axis!r:.60})", path)
        name = axis["name"]
        kind = axis.get("type", _AXIS_TYPES.get(name.lower()))
        result.append(_Axis(name, kind if isinstance(kind, str) else None, axis.get("unit")))
    return result


def _transforms(dataset, multiscale, ndim: int, path: pathlib.Path) -> tuple[list[float], list[float] | None]:
    """Scale and translation (None if none is given) of the first dataset, the multiscale's applied after its own."""
    scale, translation = [1.0] * ndim, None
    for transforms in (dataset, multiscale):
        if transforms is None:
            continue
        if not isinstance(transforms, list):
            raise ImageError(f"the OME-NGFF coordinateTransformations are not a list ({transforms!r:.60})", path)
        for transform in transforms:
            kind = transform.get("type") if isinstance(transform, dict) else None
            if kind == "identity":
                continue
            if kind not in ("scale", "translation"):
                raise ImageError(f"the OME-NGFF coordinate transformation {transform!r:.80} cannot be read "
                                 "(only scale and translation, given as lists, can)", path)
            values = transform.get(kind)
            if (not isinstance(values, list) or len(values) != ndim
                    or not all(isinstance(value, (int, float)) and math.isfinite(value) for value in values)
                    or (kind == "scale" and min(values) <= 0)):
                raise ImageError(f"the OME-NGFF {kind} {values!r:.80} is not {ndim} "
                                 f"{'positive' if kind == 'scale' else 'finite'} numbers", path)
            if kind == "scale":
                scale = [old * float(value) for old, value in zip(scale, values)]
                translation = None if translation is None else [
                    old * float(value) for old, value in zip(translation, values)]
            else:
                translation = [old + float(value) for old, value in zip(translation or [0.0] * ndim, values)]
    return scale, translation


def _placeholder(shape, dtype) -> np.ndarray:
    return np.broadcast_to(np.zeros((), native(np.zeros(0, dtype)).dtype), shape)


@contextlib.contextmanager
def partial_store(path: pathlib.Path, *, overwrite: bool) -> Iterator[pathlib.Path]:
    """An empty hidden partial folder to fill with the store ``path``; it takes that name when the block completes.

    An existing store is replaced whole, and only with ``overwrite``; without
    it, a store another program creates under the name meanwhile is left as
    it is.  On any error (:class:`~engine.errors.Cancelled` included) the
    partial folder is removed and ``path`` is untouched
    (:func:`engine.io.partial_files.staging_folder`).

    Raises
    ------
    ImageError
        ``overwrite`` is False and ``path`` appeared while the store was being written.
    OSError
        Writing failed (the caller names the store).
    """
    replaced: set[str] = set()  # the previous store's entries: none of them is kept in the new one
    with staging_folder(path, owned=replaced) as staging:
        yield staging
        _flush(staging)
        if path.exists():
            if not overwrite:
                raise ImageError("another program created this store while it was being written; "
                                 "it was left as it is and nothing was saved", path)
            replaced.update(os.listdir(path))


def _flush(folder: pathlib.Path) -> None:
    """Flush the chunk files in the subfolders of ``folder`` to the disk (its own files are flushed by the swap)."""
    for parent, _folders, files in os.walk(folder):
        if parent == str(folder):
            continue
        for name in files:
            with open(os.path.join(parent, name), "rb+") as stream:
                os.fsync(stream.fileno())


def chunk_shape(shape: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """The chunks written: tiles of at most 512 × 512 pixels, a few planes deep (at most 4 MiB, 16 planes).

    Examples
    --------
    >>> chunk_shape((300, 2048, 2048), np.dtype(np.float32)), chunk_shape((100, 200), np.dtype(np.uint8))
    ((4, 512, 512), (100, 200))
    """
    tile = tuple(min(size, _CHUNK_SIDE) for size in shape[-2:])
    if len(shape) == 2:
        return tile
    planes = CHUNK_BYTES // (tile[0] * tile[1] * np.dtype(dtype).itemsize)
    return (max(1, min(_MAX_CHUNK_PLANES, shape[0], planes)),) + tile


def write_zarr(folder: pathlib.Path, path: pathlib.Path, data, dtype: np.dtype, voxel_size: Vector3 | None,
               origin: Vector3 | None, unit: str | None) -> None:
    """Write an OME-NGFF 0.4 image of one resolution level into the empty folder ``folder``, a chunk row at a time.

    Parameters
    ----------
    folder : pathlib.Path
        The partial folder (:func:`partial_store`) that becomes ``path``.
    path : pathlib.Path
        The store's final name, for its OME-NGFF name and for messages.
    data : ndarray or SlabStream
        ``(Z, Y, X)`` or ``(Y, X)``; a stream's blocks are converted and
        written as they come, so a volume larger than memory streams.
    dtype : numpy.dtype
        The stored type (:data:`ZARR_WRITE_TYPES`).
    voxel_size, origin : tuple of 3 float, optional
        ``(z, y, x)`` in Å: the scale and translation transformations.  Without
        a voxel size the scale is 1 and the axes have no unit.
    unit : str, optional
        The unit to write them in: Å, nm or µm (others as Å).

    Raises
    ------
    ImageError
        A slab holds NaN or infinity, or values too large for ``dtype``.
    """
    import zarr
    from numcodecs import Blosc

    shape = tuple(data.shape)
    root = zarr.group(store=zarr.DirectoryStore(str(folder)))
    target = root.create_dataset("0", shape=shape, chunks=chunk_shape(shape, dtype), dtype=dtype,
                                 compressor=Blosc(cname="zstd", clevel=5, shuffle=Blosc.BITSHUFFLE), fill_value=0, dimension_separator="/")
    unit = unit if unit in _OME_UNITS else _DEFAULT_UNIT
    names = ("z", "y", "x")[3 - len(shape):]
    axes = [{"name": name, "type": "space", **({"unit": _OME_UNITS[unit]} if voxel_size else {})} for name in names]
    scale = [from_angstrom(size, unit) for size in voxel_size[3 - len(shape):]] if voxel_size else [1.0] * len(shape)
    transforms = [{"type": "scale", "scale": scale}]
    if origin is not None and voxel_size is not None:
        transforms.append({"type": "translation",
                           "translation": [from_angstrom(shift, unit) for shift in origin[3 - len(shape):]]})
    name = path.name[:-len(path.suffix)]
    root.attrs["multiscales"] = [{"version": "0.4", "name": name.removesuffix(".ome"), "axes": axes,
                                  "datasets": [{"path": "0", "coordinateTransformations": transforms}]}]
    if len(shape) == 2:
        for _part, values in converted_slabs(data[np.newaxis], dtype, path):
            target[...] = values[0]
        return
    run = target.chunks[0]
    pending: list[np.ndarray] = []
    first = 0  # the first plane not written yet
    for part, values in converted_slabs(data, dtype, path):
        pending.append(values)
        held = part.stop - first
        ready = held if part.stop == shape[0] else held - held % run  # whole chunk rows, and the last
        if ready:
            block = pending[0] if len(pending) == 1 else np.concatenate(pending)
            target[first:first + ready] = block[:ready]
            pending = [block[ready:]] if ready < held else []
            first += ready
