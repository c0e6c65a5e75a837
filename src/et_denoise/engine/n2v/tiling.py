"""Prediction in overlapping tiles, so that large images and volumes fit in memory.

Each tile is the part of the image it writes (its core) plus a margin as
wide as the network's receptive field on every side that has data, so the
output does not depend on where tiles are cut.  Tile starts are multiples of
``2 ** depth`` so that the U-Net's pooling grid is the same in every tile; an
image whose sides are not multiples of it is mirrored at its far end, as n2v
does.
"""

from __future__ import annotations

import math
from itertools import product
from collections.abc import Callable, Sequence

import numpy as np

from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn

# Voxels in one call of the network (margins included, all tiles of a batch
# together) for a network with 32 first-layer filters: about 256 MB per
# full-resolution activation; scaled by the filters.
TILE_BUDGET_VOXELS = 2**21 * 32

#: Most tiles predicted in one call: planes of one stack at the same tile position are batched,
#: which spares the per-call overhead; beyond 8 the time per tile no longer falls.
MAX_TILES_PER_BATCH = 8


#: Full-resolution activations (tile voxels × filters) alive at once while a U-Net predicts a tile:
#: the top decoder level's concatenation holds 3 (its upsampled input's 2 and the skip's 1) beside
#: the convolution's output and the skip itself.  With 4, a 2048² prediction of an 8-filter
#: network within ``--memory 4GB`` peaked at 4.02 GB of private memory.
ACTIVATIONS_PER_TILE = 5


def prediction_bytes(shape: Sequence[int], *, ndim: int, margin: int, multiple: int, filters: int,
                     tile_shape: int | Sequence[int] | None = None) -> int:
    """Memory :func:`predict_tiled` and its caller need for an image of ``shape``: a normalised
    float32 copy, the float32 result, and the activations of the largest batch of tiles."""
    spatial = tuple(shape[-ndim:])
    margin = _round_up(margin, multiple)
    core = _tile_core(spatial, margin, multiple, filters, tile_shape)
    tile = math.prod(min(_round_up(n, multiple), c + 2 * margin) for n, c in zip(spatial, core))
    planes = math.prod(shape[:-ndim])
    batch = min(planes, tiles_per_batch(tile, filters))
    return 8 * math.prod(shape) + 4 * batch * tile * filters * ACTIVATIONS_PER_TILE


def tiles_per_batch(tile_voxels: int, filters: int) -> int:
    """How many tiles of ``tile_voxels`` one call of the network predicts within the memory budget."""
    return max(1, min(MAX_TILES_PER_BATCH, TILE_BUDGET_VOXELS // filters // tile_voxels))


def _tile_core(spatial, margin: int, multiple: int, filters: int, tile_shape) -> tuple[int, ...]:
    if tile_shape is None:
        return auto_tile_shape(spatial, margin, multiple, filters)
    sizes = (tile_shape,) * len(spatial) if np.isscalar(tile_shape) else tuple(tile_shape)
    return tuple(_round_up(int(s), multiple) for s in sizes)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def auto_tile_shape(shape: Sequence[int], margin: int, multiple: int, filters: int) -> tuple[int, ...]:
    """The largest tile cores (multiples of ``multiple``) whose tiles stay within the memory budget.

    Splits the longest core in two, repeatedly, until a tile with its margins
    has at most ``TILE_BUDGET_VOXELS / filters`` voxels.
    """
    budget = TILE_BUDGET_VOXELS // filters
    padded = [_round_up(n, multiple) for n in shape]
    counts = [1] * len(shape)
    while True:
        cores = [_round_up(-(-n // k), multiple) for n, k in zip(padded, counts)]
        voxels = math.prod(min(n, c + 2 * margin) for n, c in zip(padded, cores))
        splittable = [i for i, c in enumerate(cores) if c > multiple]
        if voxels <= budget or not splittable:
            return tuple(cores)
        longest = max(splittable, key=lambda i: cores[i])
        counts[longest] += 1


def tiles(shape: Sequence[int], core: Sequence[int], margin: int) -> list[tuple[tuple[slice, ...], tuple[slice, ...], tuple[slice, ...]]]:
    """Tiles covering ``shape``: ``(read, source, destination)`` slices for each.

    ``image[read]`` goes into the network; ``output_tile[source]`` is written
    to ``result[destination]``.
    """
    per_axis = []
    for n, c in zip(shape, core):
        axis = []
        for start in range(0, n, c):
            stop = min(start + c, n)
            low, high = max(0, start - margin), min(n, stop + margin)
            axis.append((slice(low, high), slice(start - low, stop - low), slice(start, stop)))
        per_axis.append(axis)
    return [tuple(zip(*combination)) for combination in product(*per_axis)]


def predict_tiled(
    predict: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    *,
    ndim: int,
    margin: int,
    multiple: int,
    filters: int,
    tile_shape: int | Sequence[int] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Apply a network to an image, plane by plane (2-D network) or as a volume, in tiles.

    Parameters
    ----------
    predict : callable
        ``predict(batch)`` for a batch (B, *tile) of float32 whose sides are
        multiples of ``multiple``; returns an array of the same shape.  A 2-D
        network gets the same tile of up to :data:`MAX_TILES_PER_BATCH` planes
        at once, as many as the memory budget allows.
    image : ndarray, float32, shape (Y, X) or (Z, Y, X)
        A 2-D network handles a volume one plane at a time.
    ndim : {2, 3}
        Spatial dimensions of the network.
    margin : int
        Receptive-field radius in pixels; rounded up to a multiple of ``multiple``.
    multiple : int
        The network needs sides and tile starts that are multiples of this (``2 ** depth``).
    filters : int
        First-layer filters, which scale the memory one tile needs.
    tile_shape : int or sequence of int, optional
        Core size of the tiles along the network's axes (rounded up to a
        multiple of ``multiple``); by default the largest that fits the budget.
    progress : callable, optional
        ``progress(fraction)`` after each batch of tiles; 1.0 exactly once at the end.
    cancel : CancelToken, optional
        Checked before each batch of tiles; raises :class:`~engine.errors.Cancelled`.

    Returns
    -------
    ndarray, float32
        The prediction, with the shape of ``image``.
    """
    stack = image[np.newaxis] if ndim == 3 else image.reshape((-1,) + image.shape[-2:])
    spatial = stack.shape[1:]
    margin = _round_up(margin, multiple)
    core = _tile_core(spatial, margin, multiple, filters, tile_shape)
    layout = tiles(spatial, core, margin)
    out = np.empty(stack.shape, dtype=np.float32)
    counter = ProgressCounter(len(stack) * len(layout), progress)
    for read, source, destination in layout:
        padded = [_round_up(r.stop - r.start, multiple) for r in read]
        batch = tiles_per_batch(math.prod(padded), filters)
        for first in range(0, len(stack), batch):
            if cancel is not None:
                cancel.check()
            planes = slice(first, first + batch)
            tile = stack[(planes,) + read]
            pad = [(0, 0)] + [(0, p - n) for p, n in zip(padded, tile.shape[1:])]
            if any(p for _, p in pad):
                tile = np.pad(tile, pad, mode="symmetric")
            out[(planes,) + destination] = predict(tile.astype(np.float32, copy=False))[(slice(None),) + source]
            counter.step(len(tile))
    counter.finish()
    return out.reshape(image.shape)
