"""The memory budget of a volume job, and how many planes a slab may hold within it."""

from __future__ import annotations

import re

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.io.memory import available_memory, format_bytes

#: Fraction of the available memory a job uses when no budget is given.
DEFAULT_BUDGET_FRACTION = 0.5

_UNITS = {"": 1, "B": 1, "K": 1000, "KB": 1000, "M": 1000**2, "MB": 1000**2, "G": 1000**3, "GB": 1000**3,
          "T": 1000**4, "TB": 1000**4, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}
_SIZE = re.compile(r"^\s*(?P<number>\d+(\.\d*)?|\.\d+)\s*(?P<unit>[a-zA-Z]*)\s*$")


class MemoryBudgetError(ImageError):
    """Not even one slab of the volume fits in the memory budget.

    Attributes
    ----------
    needed : int
        Bytes the smallest slab needs, with what the process holds besides (the least budget that works).
    budget : int
        The budget, in bytes.
    halo : int
        The halo planes on each side that the slab needs (0 in 2-D modes).
    """

    def __init__(self, message: str, path=None, *, needed: int, budget: int, halo: int = 0) -> None:
        super().__init__(message, path)
        self.needed = needed
        self.budget = budget
        self.halo = halo


def parse_memory(text: str) -> int:
    """Bytes in a size such as ``"4GB"``, ``"500 MB"``, ``"1.5G"`` or ``"2GiB"`` (GB = 10⁹ bytes, GiB = 2³⁰).

    Raises
    ------
    ParameterError
        The text is not a positive size.

    Examples
    --------
    >>> parse_memory("4GB"), parse_memory("1.5 GiB"), parse_memory("800M")
    (4000000000, 1610612736, 800000000)
    """
    match = _SIZE.match(str(text))
    unit = match["unit"].upper() if match else ""
    if match is None or unit not in _UNITS or float(match["number"]) <= 0:
        raise ParameterError(f"a memory size needs a positive number and a unit, such as 4GB or 500MB; got {text!r}")
    return int(float(match["number"]) * _UNITS[unit])


def default_budget() -> int:
    """The budget of a job that gives none: :data:`DEFAULT_BUDGET_FRACTION` of the memory available now."""
    return int(DEFAULT_BUDGET_FRACTION * available_memory())


#: Bytes per output pixel the writer may hold besides the slab: the MRC header statistics' float64 pass.
WRITER_BYTES_PER_PIXEL = 8


def slab_bytes(shape: tuple[int, ...], itemsize: int, job, planes: int) -> int:
    """Memory a slab of ``planes`` output planes of ``job`` needs, at most, on a volume of ``shape``.

    It reads ``planes`` plus its halo on both sides (and up to ``align - 1``
    planes more, to start on the alignment; never more than the volume), each
    costing ``job.plane_bytes``; the writer converts and measures its own
    planes (:data:`WRITER_BYTES_PER_PIXEL`); add the job's fixed cost.

    Parameters
    ----------
    shape : tuple of int
        The volume's ``(Z, Y, X)`` (or ``(Y, X)``).
    itemsize : int
        Bytes per voxel as read.
    job : SlabJob
        What runs on the slabs.
    planes : int
        Output planes of the slab.
    """
    n_planes = shape[0] if len(shape) == 3 else 1
    plane_shape = tuple(shape[-2:])
    pixels = plane_shape[0] * plane_shape[1]
    read = min(planes + 2 * job.halo.planes + job.halo.align - 1, n_planes)
    return int(job.fixed_bytes(plane_shape) + read * job.plane_bytes(pixels, itemsize)
               + planes * pixels * WRITER_BYTES_PER_PIXEL)


def slab_planes(shape: tuple[int, ...], itemsize: int, job, budget: int, *, path=None, in_use: int = 0) -> int:
    """The most planes a slab of ``job`` may hold so that :func:`slab_bytes` stays within ``budget``.

    Parameters
    ----------
    shape : tuple of int
        The volume's ``(Z, Y, X)`` (or ``(Y, X)``).
    itemsize : int
        Bytes per voxel as read.
    job : SlabJob
        What runs on the slabs.
    budget : int
        Bytes.
    path : path-like, optional
        The input file, named in the error.
    in_use : int
        Bytes of the budget the process holds already (its libraries, a
        loaded network): the slabs get the rest.

    Returns
    -------
    int
        Planes per slab, between 1 and the volume's plane count.

    Raises
    ------
    MemoryBudgetError
        Not even a slab of one plane (with its halo) fits.
    """
    n_planes = shape[0] if len(shape) == 3 else 1
    needed = slab_bytes(shape, itemsize, job, 1)
    if needed > budget - in_use:
        plane_shape = tuple(shape[-2:])
        halo = f" with its halo of {job.halo.planes} planes on each side" if job.halo.planes else ""
        held = f" less the {format_bytes(in_use)} the program holds" if in_use else ""
        raise MemoryBudgetError(
            f"one slab of {'×'.join(map(str, plane_shape))} planes{halo} needs {format_bytes(needed)} for "
            f"{job.label}, more than the memory budget of {format_bytes(budget)}{held}", path,
            needed=needed + in_use, budget=budget, halo=job.halo.planes)
    budget -= in_use
    low, high = 1, n_planes  # the largest slab within the budget (slab_bytes grows with planes)
    while low < high:
        middle = (low + high + 1) // 2
        if slab_bytes(shape, itemsize, job, middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
