"""Median filter: plane by plane (2-D) or in the volume (3-D), with exact results.

Two kernels compute the same thing, scipy's
``scipy.ndimage.median_filter(image, footprint=..., mode="reflect")``, and
:func:`median` picks the fastest one for the window and the data:

* windows of up to :data:`NETWORK_MAX_ELEMENTS` pixels use a *selection
  network* (Batcher's odd-even merge sort, pruned to the comparators the median
  depends on) of branch-free min/max operations over whole rows at a time,
  which the compiler turns into SIMD instructions.  Exact for every dtype.
* larger windows use a *sliding histogram* (Huang et al. 1979): moving
  one pixel along X adds and removes one pixel per footprint row, and the
  median level is found from the previous one with a two-level (coarse/fine)
  histogram of at most 65,536 levels; see :func:`median` for when that is
  exact and the bound when it is not.

The numba kernels run on numba's threads (``prange``) over the rows of a plane
or a slab, so a single image uses every core.
Planes (2-D mode) or slabs of :data:`SLAB_PLANES` planes (3-D mode) are
processed one after another, with the cancel token checked and progress
reported between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numba
import numpy as np

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.validation import check_image
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn, default_workers, run_slicewise
from et_denoise.engine.methods import Halo, Method
from et_denoise.engine.params import MethodParams, param

#: Windows with at most this many pixels use the selection network; larger ones
#: the sliding histogram (the crossover measured on 2-D and 3-D windows).
NETWORK_MAX_ELEMENTS = 128

#: Number of levels the sliding histogram distinguishes (16 bits).
HISTOGRAM_LEVELS = 65536

#: Output planes per slab in 3-D mode.
SLAB_PLANES = 8

#: Output voxels × window voxels of one unit of progress and cancellation in 3-D mode (a slab, or a band of
#: its rows): 8 planes of 256² with a 5³ window, 0.2 s on the 2-core machine under load.
UNIT_WORK = SLAB_PLANES * 256 * 256 * 125
#: Fewest rows in a band: narrower bands cost more (24 rows: +22 % for an 11³ window; 64 rows: none).
MIN_BAND_ROWS = 64

_COARSE_SHIFT = 5  # a coarse bin counts 32 fine bins
_COARSE_BLOCK = 1 << _COARSE_SHIFT


@dataclass(frozen=True)
class MedianParams(MethodParams):
    """Parameters of :func:`median`."""

    size: int = param(5, label="Size", minimum=1, maximum=99, step=1,
                      help="Width of the window in pixels. Larger windows remove more noise "
                           "and also more fine detail; details smaller than half the window vanish.")
    footprint: str = param("square", label="Footprint", choices=("square", "disk"),
                           help="Shape of the window: a square (cube in 3-D) or the disk "
                                "(ball in 3-D) inscribed in it, which keeps corners rounder.")
    mode: str = param("2d", label="Mode", choices=("2d", "3d"),
                      help="2d filters each plane of a stack on its own; 3d uses a window "
                           "that also spans neighbouring planes (stacks only).")


def median_footprint(size: int, footprint: str = "square", ndim: int = 2) -> np.ndarray:
    """The window of :func:`median` as a boolean array.

    Parameters
    ----------
    size : int
        Width of the window in pixels, odd or even.
    footprint : {"square", "disk"}
        ``"square"`` is the full ``size**ndim`` window; ``"disk"`` keeps the
        pixels whose centres lie inside the circle (sphere) of diameter ``size``
        inscribed in that window.
    ndim : {2, 3}
        Dimensions of the window.

    Returns
    -------
    ndarray of bool, shape ``(size,) * ndim``
        Centred like scipy's footprints: the centre pixel is at index
        ``size // 2`` along each axis.

    Examples
    --------
    >>> median_footprint(5, "disk").sum()
    21
    """
    if footprint == "square":
        return np.ones((size,) * ndim, dtype=bool)
    axis = np.arange(size) - (size - 1) / 2
    grids = np.meshgrid(*([axis] * ndim), indexing="ij")
    return sum(g * g for g in grids) <= (size / 2) ** 2


def median(
    image: np.ndarray,
    *,
    size: int = 5,
    footprint: str = "square",
    mode: str = "2d",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    value_bins: tuple | None = None,
) -> np.ndarray:
    """Median filter of an image or a stack.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Any integer or floating dtype (uint8, uint16, int16, float32, float64...).
        Values must be finite.
    size : int
        Width of the window in pixels (1 to 99).  Even widths put the centre
        pixel at index ``size // 2`` of the window, as scipy does.
    footprint : {"square", "disk"}
        Window shape, see :func:`median_footprint`.
    mode : {"2d", "3d"}
        ``"2d"`` filters every plane of a stack on its own; ``"3d"`` uses a
        cube or ball spanning neighbouring planes and needs a 3-D stack.
    progress : callable, optional
        ``progress(fraction)`` after each plane (2-D) or slab (3-D); 1.0 exactly once.
    cancel : CancelToken, optional
        Checked between planes or slabs; raises :class:`~engine.errors.Cancelled`.
    workers : int, optional
        Threads that share each plane's rows; default one per core.
    value_bins : tuple, optional
        The 16-bit levels of large windows (see Notes) when ``image`` is a
        slab of a larger volume: :func:`volume_value_bins` of the volume, so
        that the slab gets the levels the whole volume has.  By default taken
        from ``image``.

    Returns
    -------
    ndarray, float32
        A new array with the shape of ``image``.

    Raises
    ------
    ImageError
        If ``image`` is not a non-empty 2-D or 3-D array of finite numbers.
    ParameterError
        If a parameter is out of range, or ``mode="3d"`` is asked of a 2-D image.

    Notes
    -----
    The result is ``scipy.ndimage.median_filter(image, footprint=w,
    mode="reflect")`` with ``w = median_footprint(size, footprint, ndim)``:
    borders are extended by mirroring about the edge (``d c b a | a b c d``),
    and a window with an even number of pixels ``n`` gives the element of rank
    ``n // 2`` of its sorted values (the upper median), never an average.

    Windows of up to :data:`NETWORK_MAX_ELEMENTS` pixels (2-D up to 11 x 11,
    3-D up to 5 x 5 x 5) are always exact, and so are large windows on integer
    data spanning fewer than 256 values.  Other large windows work on the image
    quantised to 65,536 levels spread evenly between its minimum and maximum,
    and return, for the median level, the single data value it holds or, when
    several distinct values fall in it, the middle of their range.  Therefore:

    * integer images whose range spans at most 65,535 (every uint8, uint16 and
      int16 image) and any image with at most one distinct value per level are
      filtered exactly;
    * otherwise the result differs from the exact median by at most half a
      level, ``(image.max() - image.min()) / 131070``, plus its rounding to
      float32 (half a unit in the last place).

    float64 input is filtered as float32, which gives the float32 rounding of
    the exact median.

    References
    ----------
    .. [1] T. S. Huang, G. J. Yang, G. Y. Tang, "A fast two-dimensional median
       filtering algorithm", IEEE Trans. Acoust., Speech, Signal Process. 27(1),
       13-18, 1979.
    .. [2] K. E. Batcher, "Sorting networks and their applications", AFIPS
       Spring Joint Computer Conference, 307-314, 1968.
    .. [3] S. Perreault, P. Hebert, "Median filtering in constant time",
       IEEE Trans. Image Process. 16(9), 2389-2394, 2007.

    Examples
    --------
    >>> noisy = np.random.default_rng(0).normal(size=(64, 64))
    >>> median(noisy, size=3).std() < noisy.std()
    True
    """
    size = int(MedianParams(size=size, footprint=footprint, mode=mode).size)
    array = check_image(image)
    if mode == "3d" and array.ndim != 3:
        raise ParameterError("3-D median needs a stack of planes (Z, Y, X); "
                             f"this image is 2-D {array.shape}. Use mode 2d.")
    window = median_footprint(size, footprint, 3 if mode == "3d" else 2).reshape(
        (-1, size, size))
    kernel = _kernel_for(window, array, value_bins)
    chunks = max(int(workers or default_workers()), 1)
    if mode == "2d":
        return run_slicewise(lambda plane: kernel.filter_plane(plane, chunks), kernel.source,
                             progress=progress, cancel=cancel, workers=1)
    return _filter_volume(kernel, chunks, progress, cancel)


MEDIAN = Method(
    name="median",
    label="Median",
    description="Replaces each pixel by the median of its window: removes speckle and "
                "salt-and-pepper noise while keeping edges sharper than a mean.",
    params_type=MedianParams,
    function=median,
    halo=lambda params: Halo(params.size // 2 if params.mode == "3d" else 0),
    volume_inputs=lambda volume, params, cancel: (
        {"value_bins": volume_value_bins(volume, cancel=cancel)}
        if _uses_histogram(params) else {}),
)

#: Bytes of a volume read at once by :func:`volume_value_bins`.
_BINS_READ_BYTES = 64 * 1024**2


def volume_value_bins(volume, *, cancel: CancelToken | None = None) -> tuple:
    """The 16-bit levels a large-window median uses, from a volume read through ``volume.read``.

    Two passes over the volume, a few planes at a time: its range, then the
    smallest and largest value falling in each of the 65,536 bins.

    Parameters
    ----------
    volume : PlaneReader
        Has ``shape`` and ``read(start, stop)`` (see :class:`engine.methods.PlaneReader`).
    cancel : CancelToken, optional
        Checked between reads.

    Returns
    -------
    tuple
        ``(low, scale, bin_min, bin_max)`` for :func:`median`'s ``value_bins``.
    """
    n_planes = volume.shape[0] if len(volume.shape) == 3 else 1
    plane_bytes = 4 * int(np.prod(volume.shape[-2:]))
    step = max(1, _BINS_READ_BYTES // plane_bytes)

    def parts():
        for start in range(0, n_planes, step):
            if cancel is not None:
                cancel.check()
            yield volume.read(start, min(start + step, n_planes)).astype(np.float32, copy=False).reshape(-1)

    low, high = np.inf, -np.inf
    for part in parts():
        low, high = min(low, float(part.min())), max(high, float(part.max()))
    span = high - low
    scale = (HISTOGRAM_LEVELS - 1) / span if span > 0 else 0.0
    bin_min = np.full(HISTOGRAM_LEVELS, np.inf, np.float32)
    bin_max = np.full(HISTOGRAM_LEVELS, -np.inf, np.float32)
    for part in parts():
        _, part_min, part_max = _quantise(part, low, scale, HISTOGRAM_LEVELS)
        np.minimum(bin_min, part_min, out=bin_min)
        np.maximum(bin_max, part_max, out=bin_max)
    return low, scale, bin_min, bin_max


def _uses_histogram(params: MedianParams) -> bool:
    window = median_footprint(params.size, params.footprint, 3 if params.mode == "3d" else 2)
    return int(window.sum()) > NETWORK_MAX_ELEMENTS


def _kernel_for(window: np.ndarray, array: np.ndarray, value_bins: tuple | None = None):
    """The fastest exact (or, for large windows on float data, 16-bit) kernel."""
    if window.sum() <= NETWORK_MAX_ELEMENTS:
        return _NetworkMedian(window, array)
    return _HistogramMedian(window, array, value_bins)


def _filter_volume(kernel, chunks: int, progress, cancel) -> np.ndarray:
    """3-D mode: filter slab after slab, in bands of rows of about :data:`UNIT_WORK`, checking ``cancel`` between them."""
    depth, height, width = kernel.source.shape
    out = np.empty(kernel.source.shape, dtype=np.float32)
    band = max(UNIT_WORK // (min(SLAB_PLANES, depth) * width * int(kernel.window.sum())), MIN_BAND_ROWS)
    units = [(start, rows) for start in range(0, depth, SLAB_PLANES) for rows in range(0, height, band)]
    counter = ProgressCounter(len(units), progress)
    for start, first_row in units:
        if cancel is not None:
            cancel.check()
        rows = slice(first_row, min(first_row + band, height))
        target = out[start:start + SLAB_PLANES, rows]
        part = target if target.flags.c_contiguous else np.empty(target.shape, np.float32)  # the kernels' layout
        kernel.filter_planes(kernel.source, part, start, chunks, rows)
        if part is not target:
            target[...] = part
        counter.step()
    counter.finish()
    return out


def _reflected(indices: np.ndarray, length: int) -> np.ndarray:
    """Indices mirrored into ``[0, length)`` as scipy's ``mode="reflect"`` does."""
    folded = np.mod(indices, 2 * length)
    return np.where(folded < length, folded, 2 * length - 1 - folded)


class _SlabKernel:
    """Common part of the kernels: the window's layout and the mirrored halo.

    ``source`` is the whole image in the form the kernel reads (the input, or
    its levels); :meth:`filter_planes` pads a run of planes with their halo,
    mirrored at the image's borders, and has ``run_rows`` filter them.
    """

    def __init__(self, window: np.ndarray) -> None:
        self.window = window
        self.before = np.array([s // 2 for s in window.shape])
        self.after = np.array(window.shape) - 1 - self.before

    def filter_planes(self, volume: np.ndarray, out: np.ndarray, start: int, chunks: int,
                      rows: slice = slice(None)) -> None:
        """Filter planes ``start:start + len(out)`` of a 3-D ``volume`` into ``out``: their ``rows``, all by default.

        A band of rows reads the rows of its halo from the volume, mirrored
        only at the volume's own edges, so bands give what whole planes give.
        """
        first, stop = start - self.before[0], start + len(out) + self.after[0]
        n_y = volume.shape[1]
        row_first, row_stop, _ = rows.indices(n_y)
        y0, y1 = max(row_first - int(self.before[1]), 0), min(row_stop + int(self.after[1]), n_y)
        if first >= 0 and stop <= len(volume):
            planes = volume[first:stop, y0:y1]
        else:
            planes = volume[_reflected(np.arange(first, stop), len(volume)), y0:y1]
        pad_y = (int(self.before[1]) - (row_first - y0), int(self.after[1]) - (y1 - row_stop))
        pad = [(0, 0), pad_y, (int(self.before[2]), int(self.after[2]))]
        self.run_rows(np.pad(planes, pad, mode="symmetric"), out, chunks)

    def filter_plane(self, plane: np.ndarray, chunks: int) -> np.ndarray:
        """The filtered 2-D ``plane`` (2-D mode: the window has one plane)."""
        out = np.empty((1,) + plane.shape, dtype=np.float32)
        self.filter_planes(plane[np.newaxis], out, 0, chunks)
        return out[0]


class _NetworkMedian(_SlabKernel):
    """Exact median of small windows by a pruned selection network."""

    def __init__(self, window: np.ndarray, array: np.ndarray) -> None:
        super().__init__(window)
        self.source = array
        self.offsets = np.ascontiguousarray(np.argwhere(window), dtype=np.int64)
        self.ops, self.out_slot = _selection_network(len(self.offsets))

    def run_rows(self, padded, out, chunks):
        _network_rows(padded.astype(np.float32, copy=False), out, self.offsets, self.ops,
                      self.out_slot, chunks)


class _HistogramMedian(_SlabKernel):
    """Median of large windows by a sliding histogram over 16-bit levels."""

    def __init__(self, window: np.ndarray, array: np.ndarray, value_bins: tuple | None = None) -> None:
        super().__init__(window)
        self.source, self.values = _quantised(array.astype(np.float32, copy=False), value_bins)
        runs = []  # each footprint row is one run of pixels [x0, x1) along X
        for z, y in np.ndindex(window.shape[:2]):
            xs = np.flatnonzero(window[z, y])
            if xs.size:
                runs.append((z, y, xs[0], xs[-1] + 1))
        self.runs = np.array(runs, dtype=np.int64)
        self.rank = int(window.sum()) // 2

    def run_rows(self, padded, out, chunks):
        _histogram_rows(padded, self.values, out, self.runs, self.rank, chunks)


def _quantised(data: np.ndarray, value_bins: tuple | None = None):
    """Levels (uint16, one per occupied bin, in order) and the value of each level.

    With ``value_bins`` (:func:`volume_value_bins`) the bins are the volume's
    that ``data`` is a slab of; otherwise ``data``'s own.
    """
    if value_bins is None:
        low = float(data.min())
        span = float(data.max()) - low
        scale = (HISTOGRAM_LEVELS - 1) / span if span > 0 else 0.0
        bins, bin_min, bin_max = _quantise(data.reshape(-1), low, scale, HISTOGRAM_LEVELS)
    else:
        low, scale, bin_min, bin_max = value_bins
        bins, _, _ = _quantise(data.reshape(-1), low, scale, HISTOGRAM_LEVELS)
    occupied = bin_min <= bin_max
    level_of_bin = (np.cumsum(occupied) - 1).astype(np.uint16)
    lows, highs = bin_min[occupied], bin_max[occupied]
    values = np.where(lows == highs, lows, (lows.astype(np.float64) + highs) / 2)
    levels = np.take(level_of_bin, bins, out=bins, mode="clip")  # in place: no extra copy
    return levels.reshape(data.shape), values.astype(np.float32)


@cache
def _selection_network(n: int):
    """Comparators that leave the median (rank ``n // 2``) of ``n`` values in one slot.

    Batcher's odd-even merge sort on the next power of two, with the missing
    inputs taken as +infinity (comparators with them vanish or become swaps,
    done by renaming slots), then pruned backwards from the median's slot.
    Returns an int32 array of ``(a, b, kind)``: ``kind`` 0 stores the min in
    ``a`` and the max in ``b``, 1 only the min, 2 only the max; and the slot
    holding the median at the end.
    """
    width = 1 << max(n - 1, 0).bit_length()
    infinite = -1
    slot = list(range(n)) + [infinite] * (width - n)
    ops = []
    for i, j in _batcher_pairs(width):
        a, b = slot[i], slot[j]
        if b == infinite:
            continue
        if a == infinite:
            slot[i], slot[j] = b, infinite
            continue
        ops.append((a, b))
    result = slot[n // 2]
    needed = {result}
    pruned = []
    for a, b in reversed(ops):
        keep_min, keep_max = a in needed, b in needed
        if keep_min or keep_max:
            pruned.append((a, b, 0 if keep_min and keep_max else (1 if keep_min else 2)))
            needed.update((a, b))
    return np.array(pruned[::-1], dtype=np.int32).reshape(-1, 3), result


def _batcher_pairs(width: int):
    """Comparator pairs of Batcher's odd-even merge sort for a power-of-two width."""
    pairs = []
    p = 1
    while p < width:
        k = p
        while k >= 1:
            for j in range(k % p, width - k, 2 * k):
                for i in range(min(k, width - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


_TILE = 256  # row tile of the network kernel: its working set stays in L1/L2


@numba.njit(parallel=True, fastmath=True, nogil=True, cache=True)
def _network_rows(padded, out, offsets, ops, out_slot, chunks):  # pragma: no cover - compiled
    depth, height, width = out.shape
    n = offsets.shape[0]
    tiles = (width + _TILE - 1) // _TILE
    items = depth * height * tiles
    chunks = min(chunks, items)
    for chunk in numba.prange(chunks):
        buf = np.empty((n, _TILE), np.float32)
        for item in range(chunk * items // chunks, (chunk + 1) * items // chunks):
            row = item // tiles
            z = row // height
            y = row % height
            x0 = (item % tiles) * _TILE
            w = min(_TILE, width - x0)
            for j in range(n):
                start = x0 + offsets[j, 2]
                src = padded[z + offsets[j, 0], y + offsets[j, 1], start:start + w]
                dst = buf[j]
                for x in range(w):
                    dst[x] = src[x]
            for q in range(ops.shape[0]):
                ra = buf[ops[q, 0]]
                rb = buf[ops[q, 1]]
                kind = ops[q, 2]
                if kind == 0:
                    for x in range(w):
                        u = ra[x]
                        v = rb[x]
                        ra[x] = min(u, v)
                        rb[x] = max(u, v)
                elif kind == 1:
                    for x in range(w):
                        ra[x] = min(ra[x], rb[x])
                else:
                    for x in range(w):
                        rb[x] = max(ra[x], rb[x])
            result = buf[out_slot]
            dst = out[z, y, x0:x0 + w]
            for x in range(w):
                dst[x] = result[x]


@numba.njit(parallel=True, nogil=True, cache=True)
def _histogram_rows(levels, values, out, runs, rank, chunks):  # pragma: no cover - compiled
    depth, height, width = out.shape
    rows = depth * height
    chunks = min(chunks, rows)
    n_runs = runs.shape[0]
    for chunk in numba.prange(chunks):
        fine = np.zeros(values.size, np.int32)
        coarse = np.zeros((values.size >> _COARSE_SHIFT) + 1, np.int32)
        m = 0  # current median level; below = window pixels with a level < m
        below = 0
        for row in range(chunk * rows // chunks, (chunk + 1) * rows // chunks):
            z = row // height
            y = row % height
            for r in range(n_runs):
                src = levels[z + runs[r, 0], y + runs[r, 1]]
                for x in range(runs[r, 2], runs[r, 3]):
                    v = src[x]
                    fine[v] += 1
                    coarse[v >> _COARSE_SHIFT] += 1
                    below += v < m
            dst = out[z, y]
            for x in range(width):
                if x > 0:
                    for r in range(n_runs):
                        src = levels[z + runs[r, 0], y + runs[r, 1]]
                        v = src[x - 1 + runs[r, 2]]
                        u = src[x - 1 + runs[r, 3]]
                        if u != v:
                            fine[v] -= 1
                            coarse[v >> _COARSE_SHIFT] -= 1
                            below -= v < m
                            fine[u] += 1
                            coarse[u >> _COARSE_SHIFT] += 1
                            below += u < m
                while below > rank:  # move down, a whole coarse block at a time when possible
                    if (m & (_COARSE_BLOCK - 1)) == 0 and below - coarse[(m >> _COARSE_SHIFT) - 1] > rank:
                        m -= _COARSE_BLOCK
                        below -= coarse[m >> _COARSE_SHIFT]
                    else:
                        m -= 1
                        below -= fine[m]
                while below + fine[m] <= rank:  # move up likewise
                    if (m & (_COARSE_BLOCK - 1)) == 0 and below + coarse[m >> _COARSE_SHIFT] <= rank:
                        below += coarse[m >> _COARSE_SHIFT]
                        m += _COARSE_BLOCK
                    else:
                        below += fine[m]
                        m += 1
                dst[x] = values[m]
            for r in range(n_runs):  # empty the histogram for the next row
                src = levels[z + runs[r, 0], y + runs[r, 1]]
                for x in range(width - 1 + runs[r, 2], width - 1 + runs[r, 3]):
                    v = src[x]
                    fine[v] -= 1
                    coarse[v >> _COARSE_SHIFT] -= 1
                    below -= v < m


@numba.njit(parallel=True, nogil=True, cache=True)
def _quantise(flat, low, scale, n_bins):  # pragma: no cover - compiled
    """Bin of each value, and the smallest and largest value in each bin (min > max if empty)."""
    chunks = 16
    bins = np.empty(flat.size, np.uint16)
    mins = np.full((chunks, n_bins), np.inf, np.float32)
    maxs = np.full((chunks, n_bins), -np.inf, np.float32)
    for chunk in numba.prange(chunks):
        for i in range(chunk * flat.size // chunks, (chunk + 1) * flat.size // chunks):
            v = flat[i]
            b = int((v - low) * scale + 0.5)
            bins[i] = b
            mins[chunk, b] = min(mins[chunk, b], v)
            maxs[chunk, b] = max(maxs[chunk, b], v)
    bin_min = mins[0].copy()
    bin_max = maxs[0].copy()
    for chunk in range(1, chunks):
        for b in range(n_bins):
            bin_min[b] = min(bin_min[b], mins[chunk, b])
            bin_max[b] = max(bin_max[b], maxs[chunk, b])
    return bins, bin_min, bin_max
