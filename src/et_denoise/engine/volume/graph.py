"""Dask graphs of slabs of planes: one task per slab, each reading what it needs itself.

A task reads its own planes (with the halo its method needs) from the file by
region, so no data pass through the process that builds the graph, on the
local scheduler or on a cluster's workers alike.  Dask is imported here,
when a graph is built, never when the engine is imported.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def slab_bounds(n_planes: int, planes: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive slabs of ``planes`` planes covering ``n_planes`` (the last may be shorter).

    Examples
    --------
    >>> slab_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    planes = max(int(planes), 1)
    return [(start, min(start + planes, n_planes)) for start in range(0, n_planes, planes)]


def slab_array(name: str, shape: tuple[int, int, int], dtype, planes: int,
               make: Callable[[int, int], np.ndarray]):
    """A ``dask.array`` of shape ``shape`` whose chunk of planes ``start:stop`` is ``make(start, stop)``.

    Parameters
    ----------
    name : str
        The graph's unique name (its task keys are ``(name, i, 0, 0)``).
    shape : tuple of 3 int
        ``(Z, Y, X)``.
    dtype : numpy.dtype
        What ``make`` returns.
    planes : int
        Planes per chunk along Z.
    make : callable
        ``make(start, stop)`` returns an array of shape (stop - start, Y, X).

    Returns
    -------
    dask.array.Array
        Chunked along Z only; nothing is computed until asked.

    Examples
    --------
    >>> array = slab_array("ramp", (5, 2, 2), np.float32, 2,
    ...                    lambda start, stop: np.full((stop - start, 2, 2), start, np.float32))
    >>> array.chunks[0], float(array[4, 0, 0].compute())
    ((2, 2, 1), 4.0)
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    bounds = slab_bounds(shape[0], planes)
    tasks = {(name, index, 0, 0): (make, start, stop) for index, (start, stop) in enumerate(bounds)}
    chunks = (tuple(stop - start for start, stop in bounds), (shape[1],), (shape[2],))
    graph = HighLevelGraph.from_collections(name, tasks, dependencies=())
    return da.Array(graph, name, chunks, dtype=np.dtype(dtype))
