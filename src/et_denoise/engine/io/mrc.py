"""MRC files (mrcfile): volumes (.mrc, .rec, .map) and image stacks (.mrcs, .st, .ali)."""

from __future__ import annotations

import datetime
import io
import pathlib
from typing import BinaryIO

import mrcfile
import numpy as np
from mrcfile.mrcinterpreter import MrcInterpreter
from mrcfile.dtypes import HEADER_DTYPE
from mrcfile.utils import byte_order_from_machine_stamp, data_dtype_from_header, data_shape_from_header

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.checks import RunningStats, converted_slabs, image_shape, is_native, native
from et_denoise.engine.io.image_data import ImageData, MrcHeaderInfo, Vector3
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.io.units import float32_rounded, round_size

MRC_EXTENSIONS = (".mrc", ".rec", ".st", ".ali", ".mrcs", ".map")

#: Extensions IMOD and RELION use for stacks of 2-D images (space group 0).
#: Tomograms (.rec) and maps are volumes (space group 1); a plain .mrc output
#: is whichever its input was, a volume if it has none.
MRC_STACK_EXTENSIONS = (".mrcs", ".st", ".ali")
_VOLUME_EXTENSIONS = (".rec", ".map")

#: Data type written for each data type MRC output accepts, and its mode.
MRC_WRITE_TYPES = {
    np.dtype(np.int8): np.dtype(np.int8),
    np.dtype(np.uint8): np.dtype(np.uint8),
    np.dtype(np.int16): np.dtype(np.int16),
    np.dtype(np.uint16): np.dtype(np.uint16),
    np.dtype(np.float16): np.dtype(np.float16),
    np.dtype(np.float32): np.dtype(np.float32),
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.float64): np.dtype(np.float32),
}
_MODES = {"int8": 0, "uint8": 0, "int16": 1, "float32": 2, "uint16": 6, "float16": 12}
_MODE_NAMES = "0 (8-bit), 1 (16-bit signed), 2 (32-bit float), 6 (16-bit unsigned), 12 (16-bit float)"

# IMOD marks the bytes of mode 0 as signed or unsigned: a stamp at header
# byte 152 and, in the flags word after it, bit 0 set for signed bytes.
# mrcfile always reads mode 0 as int8, so unsigned files are reinterpreted.
_IMOD_STAMP = 1146047817
_IMOD_STAMP_OFFSET = 152
_IMOD_SIGNED_BYTES = 1
_EXTRA2_OFFSET = 112  # header byte where mrcfile's "extra2" field starts
_MAX_LABELS = 10


def read_mrc(path: pathlib.Path, mmap_threshold: float) -> ImageData:
    """Read an MRC file, memory-mapped if larger than ``mmap_threshold`` bytes."""
    header, dtype, file_shape, shape = _checked_header(path)
    data_bytes = int(np.prod(file_shape, dtype=np.int64)) * dtype.itemsize
    with mrcfile.mmap(path, mode="r") as mrc:
        memory_mapped = data_bytes > mmap_threshold and is_native(dtype)
        if not memory_mapped:
            require_memory(data_bytes, f"to open this {'×'.join(map(str, file_shape))} {dtype} image", path)
        data = mrc.data if memory_mapped else np.array(mrc.data)
        extended_header = mrc.extended_header.tobytes()
    if int(header.mode) == 0 and _has_unsigned_bytes(header):
        data = data.view(np.uint8)
    voxel_size = _voxel_size(header)
    return ImageData(native(data.reshape(shape)), voxel_size, _origin(header), path,
                     memory_mapped, "Å" if voxel_size else None, _header_info(header, extended_header))


def open_mrc_lazily(path: pathlib.Path) -> tuple[ImageData, int, np.dtype]:
    """The image an MRC file holds, without reading its data: where the data start and their type.

    Returns
    -------
    image : ImageData
        Voxel size, origin and header details as :func:`read_mrc` gives them;
        its ``data`` is a zero-strided placeholder of the image's shape and type
        (it holds one value and no pixel of the file).
    offset : int
        Byte offset of the first voxel in the file.
    dtype : numpy.dtype
        The voxels' type as stored (byte order included; mode 0 as uint8 when
        IMOD's flags say its bytes are unsigned).
    """
    header, dtype, _file_shape, shape = _checked_header(path)
    extended = int(header.nsymbt)
    with open(path, "rb") as stream:
        stream.seek(header.nbytes)
        extended_header = stream.read(extended)
    if int(header.mode) == 0 and _has_unsigned_bytes(header):
        dtype = np.dtype(np.uint8)
    voxel_size = _voxel_size(header)
    placeholder = np.broadcast_to(np.zeros((), native(np.zeros(0, dtype)).dtype), shape)
    image = ImageData(placeholder, voxel_size, _origin(header), path, True, "Å" if voxel_size else None,
                      _header_info(header, extended_header))
    return image, header.nbytes + extended, dtype


def _checked_header(path: pathlib.Path):
    """The header, data type, shape in the file and image shape; ImageError for what cannot be read."""
    _check_extended_header_fits(path)
    try:
        with mrcfile.open(path, header_only=True) as mrc:
            header = mrc.header.copy()
    except ValueError as exc:
        raise ImageError(f"this is not an MRC file, or it is damaged ({exc})", path) from exc
    mode = int(header.mode)
    if mode in (3, 4):
        raise ImageError(
            f"the file holds complex numbers (MRC mode {mode}, e.g. a Fourier transform); "
            "only real-valued images can be denoised", path)
    if mode not in _MODES.values():
        raise ImageError(f"MRC mode {mode} is not supported; supported modes are {_MODE_NAMES}", path)
    dtype = data_dtype_from_header(header)
    file_shape = data_shape_from_header(header)
    if min(file_shape) < 0:  # an empty axis (0) gets image_shape's own message
        raise ImageError(f"the file is damaged: its header gives the size {tuple(map(int, file_shape))[::-1]} "
                         "(X, Y, Z), and no size can be negative", path)
    shape = image_shape(file_shape, dtype, path)
    data_bytes = int(np.prod(file_shape, dtype=np.int64)) * dtype.itemsize
    expected = header.nbytes + int(header.nsymbt) + data_bytes
    actual = path.stat().st_size
    if actual < expected:
        raise ImageError(
            f"the file is truncated: its header describes {expected} bytes but the file has "
            f"only {actual}", path)
    return header, dtype, file_shape, shape


def _header_info(header, extended_header: bytes) -> MrcHeaderInfo:
    return MrcHeaderInfo(
        labels=tuple(label.decode("latin-1").rstrip()
                     for label in header.label[:min(max(int(header.nlabl), 0), _MAX_LABELS)]),
        image_stack=int(header.ispg) == 0,
        nstart=(int(header.nzstart), int(header.nystart), int(header.nxstart)),
        extended_header=extended_header,
        exttyp=bytes(header.exttyp) if extended_header else b"",
    )


def _check_extended_header_fits(path: pathlib.Path) -> None:
    """Refuse a header whose extended-header size exceeds the file, before mrcfile reads (allocates) it."""
    with open(path, "rb") as stream:
        raw = stream.read(HEADER_DTYPE.itemsize)
        size = stream.seek(0, io.SEEK_END)
    if len(raw) < HEADER_DTYPE.itemsize or bytes(raw[208:211]) != b"MAP":  # the map ID, as mrcfile checks it
        return  # mrcfile's own message says what is wrong
    header = np.frombuffer(raw, dtype=HEADER_DTYPE).reshape(()).view(np.recarray)
    try:
        header = header.view(header.dtype.newbyteorder(byte_order_from_machine_stamp(header.machst)))
    except ValueError:
        return
    extended = int(header.nsymbt)
    if extended < 0 or HEADER_DTYPE.itemsize + extended > size:
        raise ImageError(
            f"the file is damaged or truncated: its header announces an extended header of {extended} "
            f"bytes but the file has only {size}", path)


def write_mrc(stream: BinaryIO, path: pathlib.Path, data: np.ndarray, dtype: np.dtype,
              voxel_size: Vector3 | None, origin: Vector3 | None, like: MrcHeaderInfo | None,
              same_shape: bool) -> None:
    """Write an MRC2014 file that IMOD reads with the right voxel size and origin.

    The file goes to ``stream`` (``path`` decides between volume and stack and
    names the file in messages) by ordinary writes, slab by slab, converted to
    ``dtype``; the header, with the statistics computed on the way, is written
    last.  Unlike a memory map, a full disk is an ordinary ``OSError`` here.
    Labels of ``like`` are kept and one is added; its start indices and
    extended header are kept only if the shape is unchanged (``same_shape``).
    """
    header, extended = mrc_header(path, data.shape, dtype, voxel_size, origin, like, same_shape)
    stream.write(bytes(header.nbytes) + extended)  # the header is rewritten at the end
    stats = RunningStats()
    for _part, values in converted_slabs(data, dtype, path):
        stream.write(memoryview(values).cast("B"))
        stats.add(values)
    set_statistics(header, stats)
    stream.seek(0)
    stream.write(header.tobytes())
    stream.seek(0, io.SEEK_END)


def mrc_header(path: pathlib.Path, shape: tuple[int, ...], dtype: np.dtype, voxel_size: Vector3 | None,
               origin: Vector3 | None, like: MrcHeaderInfo | None, same_shape: bool):
    """The header of an MRC file of ``shape`` and ``dtype`` (statistics still unset) and its extended header.

    As :func:`write_mrc` writes it; for writers that place the data
    themselves (by regions, from several processes).

    Returns
    -------
    header : numpy record
        mrcfile's header; ``header.tobytes()`` is its 1024 bytes.
    extended : bytes
        The extended header that follows it, then the data.
    """
    keep = like is not None and same_shape
    extended = like.extended_header if keep else b""
    mrc = MrcInterpreter()
    mrc._create_default_attributes()  # an empty in-memory header, as mrcfile.new makes one
    mrc.set_data(np.zeros((1,) * len(shape), np.int8 if dtype == np.uint8 else dtype))
    if extended:
        mrc.set_extended_header(np.frombuffer(extended, dtype="V1"))
        mrc.header.exttyp = like.exttyp
    header = mrc.header
    if len(shape) == 3:
        if _is_stack_output(path, like):
            mrc.set_image_stack()
        else:
            mrc.set_volume()
    _set_shape(header, shape)
    if voxel_size is not None:
        mrc.voxel_size = voxel_size[::-1]
    if origin is not None:
        header.origin.z, header.origin.y, header.origin.x = origin
    if keep:
        header.nzstart, header.nystart, header.nxstart = like.nstart
    _set_labels(header, (like.labels if like is not None else ()))
    if dtype.itemsize == 1:
        _set_imod_byte_sign(header, signed=dtype == np.int8)
    return header, extended


def set_statistics(header, stats: RunningStats) -> None:
    """Set the header's minimum, maximum, mean and rms from statistics of all the data."""
    header.dmin, header.dmax, header.dmean, header.rms = (stats.minimum, stats.maximum, stats.mean, stats.std)


def _set_shape(header, shape: tuple[int, ...]) -> None:
    """Set the header's dimensions for ``shape`` as mrcfile does for data of that shape."""
    header.nx = header.mx = shape[-1]
    header.ny = header.my = shape[-2]
    header.nz = shape[0] if len(shape) == 3 else 1
    header.mz = 1 if len(shape) == 2 or int(header.ispg) == 0 else shape[0]


def _is_stack_output(path: pathlib.Path, like: MrcHeaderInfo | None) -> bool:
    suffix = path.suffix.lower()
    if suffix in MRC_STACK_EXTENSIONS:
        return True
    if suffix in _VOLUME_EXTENSIONS:
        return False
    return like is not None and like.image_stack


def _voxel_size(header) -> Vector3 | None:
    """``(z, y, x)`` voxel size in Å from the cell size and sampling, None if unset."""
    cell = (header.cella.z, header.cella.y, header.cella.x)
    samples = (header.mz, header.my, header.mx)
    if not all(n > 0 for n in samples):
        return None
    sizes = tuple(round_size(float(c) / int(n)) for c, n in zip(cell, samples))
    return sizes if all(np.isfinite(s) and s > 0 for s in sizes) else None


def _origin(header) -> Vector3 | None:
    origin = tuple(float32_rounded(float(v)) for v in (header.origin.z, header.origin.y, header.origin.x))
    return origin if all(np.isfinite(v) for v in origin) else None


def _has_unsigned_bytes(header) -> bool:
    stamp, flags = np.frombuffer(header.tobytes(), dtype=header.mode.dtype, count=2,
                                 offset=_IMOD_STAMP_OFFSET)
    return stamp == _IMOD_STAMP and not flags & _IMOD_SIGNED_BYTES


def _set_imod_byte_sign(header, signed: bool) -> None:
    words = np.array([_IMOD_STAMP, _IMOD_SIGNED_BYTES if signed else 0], dtype=header.mode.dtype)
    extra2 = bytearray(header.extra2.tobytes())
    start = _IMOD_STAMP_OFFSET - _EXTRA2_OFFSET
    extra2[start:start + words.nbytes] = words.tobytes()
    header.extra2 = bytes(extra2)


def _set_labels(header, labels: tuple[str, ...]) -> None:
    """Keep ``labels`` and add one saying who wrote the file, as IMOD programs do."""
    stamp = datetime.datetime.now().strftime("%d-%b-%y  %H:%M:%S")
    labels = list(labels[:_MAX_LABELS - 1]) + [f"ET Denoise: saved{stamp:>50}"]
    header.label = [label.encode("ascii", "replace")[:80] for label in labels] + [b""] * (
        _MAX_LABELS - len(labels))
    header.nlabl = len(labels)
