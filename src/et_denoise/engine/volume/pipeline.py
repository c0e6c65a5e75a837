"""Denoise a volume slab by slab on Dask, streaming the result into its file.

The volume is cut along Z into slabs of as many planes as the memory budget
allows (:func:`engine.volume.budget.slab_planes`).  Each slab is one task of a
``dask.array`` graph (:func:`engine.volume.graph.slab_array`): it reads its
planes and the halo its method needs from the file, converts them to float32
inside the method, denoises them, and keeps its own planes.  The result's
blocks are computed in order and written as they come
(:class:`~engine.io.checks.SlabStream` into :func:`engine.io.write_image`):
MRC by regions with the header statistics accumulated on the way, TIFF plane
by plane, both under a temporary name renamed into place at the end
(:func:`engine.io.partial_files.atomic_file`), so a cancelled or failed run
leaves no partial file and an existing output untouched.

A volume that fits in the budget is a graph of one slab: the same code path
for every size.  Peak memory is about one slab with its halo, whatever the
volume's size.
"""

from __future__ import annotations

import pathlib
import shutil
import threading
import uuid

import numpy as np

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.checks import SlabStream
from et_denoise.engine.io.memory import format_bytes
from et_denoise.engine.io.lazy import LazyImage
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.volume.budget import default_budget, slab_planes
from et_denoise.engine.volume.graph import slab_array
from et_denoise.engine.volume.jobs import SlabJob


def denoised_array(volume: LazyImage, job: SlabJob, planes: int, *, progress: ProgressFn | None = None,
                   cancel: CancelToken | None = None):
    """The denoised volume as a lazy ``dask.array`` of slabs of ``planes`` planes.

    Parameters
    ----------
    volume : LazyImage
        A ``(Z, Y, X)`` volume.
    job : SlabJob
        What denoises a slab (:func:`~engine.volume.jobs.method_job`,
        :func:`~engine.volume.jobs.model_job`).
    planes : int
        Output planes per slab (each task reads its halo besides).
    progress : callable, optional
        ``progress(fraction)`` as the slabs' planes are done (below 1.0;
        whoever finishes the work reports 1.0).
    cancel : CancelToken, optional
        Handed to the job, which checks it between planes, tiles or batches.

    Returns
    -------
    dask.array.Array
        float32, chunked like the slabs.
    """
    n_planes = volume.n_planes
    tracker = _PlaneProgress(n_planes, progress)

    def make(start: int, stop: int) -> np.ndarray:
        planes = denoise_slab(volume, job, start, stop, progress=tracker.slab(stop - start), cancel=cancel)
        tracker.done(stop - start)
        return planes

    shape = (n_planes,) + volume.shape[-2:]
    return slab_array(f"denoise-{uuid.uuid4().hex}", shape, np.float32, planes, make)


def denoise_slab(volume: LazyImage, job: SlabJob, start: int, stop: int, *, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> np.ndarray:
    """Planes ``start:stop`` of the denoised volume: the slab read with its halo, denoised, its own planes kept.

    The one task of a slab, here (:func:`denoised_array`) and on a cluster's workers
    (:func:`~engine.volume.cluster.denoise_region`).
    """
    first, last = slab_reach(start, stop, volume.n_planes, job)
    result = job.run(volume.read(first, last), progress=progress, cancel=cancel)
    return np.ascontiguousarray(result[start - first:stop - first], dtype=np.float32)


def slab_reach(start: int, stop: int, n_planes: int, job: SlabJob) -> tuple[int, int]:
    """The planes ``first:last`` a slab ``start:stop`` reads: its halo, clipped to the volume, the first aligned.

    Examples
    --------
    >>> from et_denoise.engine.methods import Halo
    >>> job = SlabJob("x", Halo(3, align=2), lambda pixels, itemsize: 0, None)
    >>> slab_reach(10, 20, 24, job), slab_reach(0, 4, 24, job)
    ((6, 23), (0, 7))
    """
    first = max(start - job.halo.planes, 0) // job.halo.align * job.halo.align
    return first, min(stop + job.halo.planes, n_planes)


def denoise_volume(volume: LazyImage, job: SlabJob, *, memory: int | None = None, in_use: int = 0,
                   progress: ProgressFn | None = None, cancel: CancelToken | None = None,
                   scheduler="sync") -> SlabStream | np.ndarray:
    """The denoised volume, made slab by slab as it is consumed (a 2-D image: the denoised image).

    Parameters
    ----------
    volume : LazyImage
        The image (:func:`engine.io.open_image_lazily`, or
        :meth:`LazyImage.from_array` for one in memory).
    job : SlabJob
        What denoises a slab.
    memory : int, optional
        Memory budget in bytes; default :func:`~engine.volume.budget.default_budget`.
    in_use : int
        Bytes of ``memory`` the process holds already (for a budget of the
        whole process, :func:`engine.io.memory.process_private_memory`): the
        slabs get the rest.
    progress : callable, optional
        ``progress(fraction)`` as planes are done, below 1.0; the caller
        reports 1.0 once the result is consumed (:func:`denoise_to_file` does).
    cancel : CancelToken, optional
        Checked by the job within each slab and between slabs; raises
        :class:`~engine.errors.Cancelled`.
    scheduler : str or distributed.Client
        What computes each slab's task: the local synchronous scheduler by
        default (the methods use every core themselves).

    Returns
    -------
    SlabStream or ndarray
        For a volume, a :class:`~engine.io.checks.SlabStream` of float32
        blocks (give it to :func:`engine.io.write_image`, or
        :func:`collect` it); for a 2-D image, the float32 result.

    Raises
    ------
    MemoryBudgetError
        Not even one slab fits in the budget.
    """
    if len(volume.shape) == 2:
        return job.run(volume.read(0, 1)[0], progress=_below_one(progress), cancel=cancel)
    budget = default_budget() if memory is None else int(memory)
    planes = slab_planes(volume.shape, volume.dtype.itemsize, job, budget, path=volume.path, in_use=in_use)
    array = denoised_array(volume, job, planes, progress=progress, cancel=cancel)

    def blocks():
        for index in range(array.numblocks[0]):
            if cancel is not None:
                cancel.check()
            yield array.blocks[index].compute(scheduler=scheduler)

    return SlabStream(array.shape, np.float32, blocks)


def collect(result: SlabStream | np.ndarray) -> np.ndarray:
    """The whole result of :func:`denoise_volume` as one array (for volumes that fit in memory).

    The blocks are copied into the array as they come, so no more than one
    block is held besides it.
    """
    if isinstance(result, np.ndarray):
        return result
    out = np.empty(result.shape, result.dtype)
    for first, block in result.blocks():
        out[first:first + len(block)] = block
    return out


def denoise_to_file(volume: LazyImage, output, job: SlabJob, *, memory: int | None = None, in_use: int = 0,
                    overwrite: bool = False, progress: ProgressFn | None = None,
                    cancel: CancelToken | None = None, scheduler="sync"):
    """Denoise ``volume`` slab by slab into the file ``output``, never holding it whole.

    Parameters
    ----------
    volume : LazyImage
        The input (its metadata is copied to the output as :func:`engine.io.write_image` does ``like``).
    output : str or path-like
        The file to write (TIFF or MRC, by extension), float32.
    job : SlabJob
        What denoises a slab.
    memory : int, optional
        Memory budget in bytes; default :func:`~engine.volume.budget.default_budget`.
    in_use : int
        Bytes of ``memory`` the process holds already; see :func:`denoise_volume`.
    overwrite : bool
        Replace an existing file (without it, an existing file is never touched).
    progress : callable, optional
        ``progress(fraction)``; 1.0 exactly once, when the file is complete.
    cancel : CancelToken, optional
        Stops the run within about one plane's (or tile's) time: nothing is
        left of the output and an existing file is unchanged.
    scheduler : str or distributed.Client
        See :func:`denoise_volume`.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ImageError
        Reading or writing failed (nothing partial is left), or the output exists.
    MemoryBudgetError
        Not even one slab fits in the budget.
    Cancelled
        ``cancel`` was set.

    Examples
    --------
    >>> from et_denoise.engine.filters import FILTERS
    >>> from et_denoise.engine.io import open_image_lazily
    >>> from et_denoise.engine.volume.jobs import method_job
    >>> volume = open_image_lazily("tomogram.rec")                               # doctest: +SKIP
    >>> job = method_job(FILTERS["median"], None, volume)                        # doctest: +SKIP
    >>> denoise_to_file(volume, "denoised.rec", job, memory=4 * 10**9)           # doctest: +SKIP
    PosixPath('denoised.rec')
    """
    from et_denoise.engine.io.files import write_image

    result = denoise_volume(volume, job, memory=memory, in_use=in_use, progress=progress, cancel=cancel,
                            scheduler=scheduler)
    require_disk_space(output, 4 * int(np.prod(volume.shape, dtype=np.int64)))
    path = write_image(output, result, like=volume.image, overwrite=overwrite)
    if progress is not None:
        progress(1.0)
    return path


def require_disk_space(output, nbytes: int) -> None:
    """ImageError, naming both sizes, if the folder of ``output`` has less than ``nbytes`` free.

    Checked before a volume is denoised into a file, so that a run that
    cannot be saved stops at its start, not hours later at a full disk (the
    output is written beside an existing one, which is replaced only at the end).
    """
    folder = pathlib.Path(output).expanduser().parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # the write reports what is wrong with the folder
    if nbytes > free:
        raise ImageError(f"not enough disk space for the result: it needs {format_bytes(nbytes)}, "
                         f"{format_bytes(free)} are free in {folder}", output)


class _PlaneProgress:
    """The fraction of the volume's planes done, from the jobs' fractions of their slabs."""

    def __init__(self, total: int, progress: ProgressFn | None) -> None:
        self._total = max(total, 1)
        self._progress = progress
        self._done = 0.0
        self._lock = threading.Lock()

    def slab(self, planes: int) -> ProgressFn | None:
        if self._progress is None:
            return None
        base = self._done

        def report(fraction: float) -> None:
            self._report(base + planes * min(max(fraction, 0.0), 1.0))

        return report

    def done(self, planes: int) -> None:
        with self._lock:
            self._done += planes
        self._report(self._done)

    def _report(self, planes_done: float) -> None:
        if self._progress is not None:
            self._progress(min(planes_done / self._total, 0.999))


def _below_one(progress: ProgressFn | None) -> ProgressFn | None:
    return None if progress is None else (lambda fraction: progress(min(fraction, 0.999)))
