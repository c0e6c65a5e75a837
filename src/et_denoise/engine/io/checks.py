"""Checks that an array is a usable greyscale image, and slab-wise passes over big arrays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from et_denoise.engine.errors import ImageError

#: Bytes of data handled at once by slab-wise passes (NaN scan, MRC writing).
SLAB_BYTES = 32 * 1024**2


def image_shape(shape: Sequence[int], dtype: np.dtype, path, axes: str | None = None) -> tuple[int, ...]:
    """Return the ``(Z, Y, X)`` or ``(Y, X)`` shape of the image in an array.

    Singleton axes in front of Y and X (time points or channels of an ImageJ
    hyperstack, one-slice stacks) are dropped.

    Parameters
    ----------
    shape : sequence of int
        Shape of the array in the file.
    dtype : numpy.dtype
        Its data type.
    path : path-like
        The file, named in error messages.
    axes : str, optional
        tifffile's axis letters for ``shape`` (``"S"`` samples, ``"C"`` channels).

    Returns
    -------
    tuple of int
        The shape to reshape the array to.

    Raises
    ------
    ImageError
        For complex or non-numeric data, colour or multi-channel images, an
        empty axis, 1-D data, or more than three dimensions.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise ImageError(
            "the file holds complex numbers (for example a Fourier transform); "
            "only real-valued images can be denoised", path)
    if dtype.kind not in "uifb":
        raise ImageError(f"the file holds data of type {dtype}, which is not an image", path)
    shape = tuple(int(n) for n in shape)
    for letter, size in zip(axes or "", shape):
        if letter == "S" and size > 1:
            raise ImageError(
                f"this is a colour image ({size} samples per pixel, e.g. RGB); "
                "convert it to greyscale first", path)
        if letter == "C" and size > 1:
            raise ImageError(
                f"this image has {size} channels; save each channel as its own file", path)
    if 0 in shape:
        raise ImageError(f"the image is empty: it has an axis of length 0 (shape {shape})", path)
    if len(shape) < 2:
        raise ImageError(f"the file holds 1-D data (shape {shape}), not an image", path)
    squeezed = tuple(n for n in shape[:-2] if n != 1) + shape[-2:]
    if len(squeezed) > 3:
        raise ImageError(
            f"the image has {len(squeezed)} dimensions (shape {squeezed}); only 2-D images "
            "and 3-D stacks can be opened", path)
    return squeezed


def native(array: np.ndarray) -> np.ndarray:
    """Return ``array`` in native byte order, with bool pixels as uint8 (copying only if needed)."""
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def is_native(dtype: np.dtype) -> bool:
    """True if arrays of ``dtype`` need no conversion by :func:`native`."""
    dtype = np.dtype(dtype)
    return dtype.isnative and dtype != np.bool_


def slabs(array: np.ndarray, max_bytes: int | None = None) -> Iterator[slice]:
    """Yield slices along the first axis that each cover at most ``max_bytes`` (at least one plane or row)."""
    max_bytes = SLAB_BYTES if max_bytes is None else max_bytes
    row_bytes = max(array[:1].nbytes, 1)
    step = max(1, max_bytes // row_bytes)
    for start in range(0, array.shape[0], step):
        yield slice(start, min(start + step, array.shape[0]))


def check_finite(array: np.ndarray, path) -> None:
    """Raise ImageError if a float array holds NaN or infinite values.

    The array is scanned in slabs, so a memory-mapped file is never loaded whole.
    """
    if array.dtype.kind != "f":
        return
    for part in slabs(array):
        bad_rows = ~np.isfinite(array[part]).reshape(part.stop - part.start, -1).all(axis=1)
        if bad_rows.any():
            index = part.start + int(np.argmax(bad_rows))
            where = f"slice {index}" if array.ndim == 3 else f"row {index}"
            raise ImageError(
                f"the image contains NaN or infinite values (first in {where}); "
                "replace them before denoising", path)


def converted_slabs(array, dtype: np.dtype, path) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(part, values)``: slabs of ``array`` converted to the native ``dtype`` a file stores.

    ``array`` is an ndarray, or a :class:`SlabStream` whose blocks are made
    as they are asked for (a volume denoised slab by slab).

    Raises ImageError, before a non-finite value reaches a file, if a slab
    holds NaN or infinity or a value too large for ``dtype`` (float64 data
    beyond float32's ±3.4e38).
    """
    blocks = array.blocks() if isinstance(array, SlabStream) else [(0, array)]
    for first, block in blocks:
        for part in slabs(block):
            with np.errstate(over="ignore", invalid="ignore"):
                values = np.ascontiguousarray(block[part], dtype=dtype)
            if values.dtype.kind == "f" and not np.isfinite(values).all():
                local = part.start + int(np.argmax(~np.isfinite(values).reshape(len(values), -1).all(axis=1)))
                index = first + local
                where = f"slice {index}" if array.ndim == 3 else f"row {index}"
                if np.isfinite(block[local]).all():
                    problem = f"values too large for {dtype} (beyond ±{np.finfo(dtype).max:.3g})"
                else:
                    problem = "NaN or infinite values"
                raise ImageError(f"nothing was saved: the result contains {problem} (first in {where})", path)
            yield slice(first + part.start, first + part.stop), values


class SlabStream:
    """A ``(Z, Y, X)`` array given as consecutive blocks of planes, made one after another.

    The writers (:func:`engine.io.write_image`) take it in place of an array,
    so that a result larger than memory streams into its file.

    Parameters
    ----------
    shape : tuple of 3 int
        The whole array's shape.
    dtype : numpy.dtype
        Its data type.
    make_blocks : callable
        ``make_blocks()`` returns an iterator of arrays of shape (n, Y, X), in
        order, together covering ``shape[0]`` planes.

    Examples
    --------
    >>> stream = SlabStream((3, 2, 2), np.float32, lambda: iter([np.zeros((2, 2, 2)), np.ones((1, 2, 2))]))
    >>> [(first, block.shape[0]) for first, block in stream.blocks()]
    [(0, 2), (2, 1)]
    """

    def __init__(self, shape, dtype, make_blocks) -> None:
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape))
        self._make_blocks = make_blocks

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first plane, block)``; ImageError if the blocks do not match the shape."""
        first = 0
        for block in self._make_blocks():
            if block.ndim != 3 or block.shape[1:] != self.shape[1:] or first + len(block) > self.shape[0]:
                raise ImageError(f"a block of shape {block.shape} does not fit planes {first}: of {self.shape}")
            yield first, block
            first += len(block)
        if first != self.shape[0]:
            raise ImageError(f"the blocks hold {first} planes, {self.shape[0]} were expected")


class RunningStats:
    """Minimum, maximum, mean and standard deviation accumulated slab by slab.

    Slabs are merged with Chan et al.'s pairwise update, so the result equals
    the statistics of the whole array without holding it in memory.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0
        self.minimum = np.inf
        self.maximum = -np.inf

    def add(self, values: np.ndarray) -> None:
        """Include ``values`` in the statistics."""
        count = values.size
        if count == 0:
            return
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite data give NaN statistics
            mean = float(values.mean(dtype=np.float64))
            m2 = float(values.var(dtype=np.float64)) * count
        total = self.count + count
        delta = mean - self.mean
        self._m2 += m2 + delta * delta * self.count * count / total
        self.mean += delta * count / total
        self.count = total
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))

    def state(self) -> tuple[int, float, float, float, float]:
        """``(count, mean, m2, minimum, maximum)``: what :meth:`merge` takes (from another process)."""
        return self.count, self.mean, self._m2, self.minimum, self.maximum

    def merge(self, state: tuple[int, float, float, float, float]) -> None:
        """Include the statistics of other values, given as their :meth:`state`.

        Examples
        --------
        >>> values = np.arange(10.0)
        >>> whole, first, second = RunningStats(), RunningStats(), RunningStats()
        >>> whole.add(values); first.add(values[:3]); second.add(values[3:])
        >>> first.merge(second.state())
        >>> (first.mean, round(first.std, 12), first.maximum) == (whole.mean, round(whole.std, 12), whole.maximum)
        True
        """
        count, mean, m2, minimum, maximum = state
        if count == 0:
            return
        total = self.count + count
        delta = mean - self.mean
        self._m2 += m2 + delta * delta * self.count * count / total
        self.mean += delta * count / total
        self.count = total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)

    @property
    def std(self) -> float:
        """Population standard deviation (the MRC ``rms`` field)."""
        return (self._m2 / self.count) ** 0.5 if self.count else 0.0
