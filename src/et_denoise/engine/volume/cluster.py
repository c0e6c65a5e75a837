"""The same slab jobs on a Dask cluster: workers read their slabs from the input and write them into the output.

:func:`denoise_on_cluster` lays out the output MRC file under its temporary
name (header, extended header and room for the data), then submits one task
per slab to a ``distributed.Client``.  Each task reads its planes and halo
from the input on shared storage, denoises them, writes its planes into the
output at their offset and returns only its statistics: no pixel passes
through the client.  The client merges the statistics into the header and
renames the file into place; a cancelled or failed run removes it, and an
existing output is untouched until then.

TIFF outputs are written plane by plane in order by one process, so a
cluster writes MRC only.
"""

from __future__ import annotations

import os
import pathlib
import time

import numpy as np

from et_denoise.engine.errors import Cancelled, ImageError, OutputExistsError, ParameterError
from et_denoise.engine.io.checks import RunningStats
from et_denoise.engine.io.lazy import LazyImage
from et_denoise.engine.io.mrc import MRC_EXTENSIONS, mrc_header, set_statistics
from et_denoise.engine.io.partial_files import partial_path, publish, remove_stale_partials, tracked
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.volume.budget import default_budget, slab_planes
from et_denoise.engine.volume.graph import slab_bounds
from et_denoise.engine.volume.jobs import SlabJob
from et_denoise.engine.volume.pipeline import denoise_slab, require_disk_space

#: Seconds between two looks at the finished tasks and the cancel token.
POLL_S = 0.1
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 10


def connect(address: str):
    """A ``distributed.Client`` of the Dask scheduler at ``address`` (``tcp://HOST:8786``).

    A scheduler shared with other clients can batch a message meant for all
    of them (another client cancelling its tasks) with its first answer to a
    new client, which ``distributed`` refuses with a bare ``AssertionError``;
    the handshake is then tried again until :data:`CONNECT_TIMEOUT_S` is spent.

    Raises
    ------
    ParameterError
        The scheduler does not answer, or does not complete the handshake,
        within :data:`CONNECT_TIMEOUT_S`, or the address is not one.
    """
    from distributed import Client

    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            return Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as error:
            raise ParameterError(f"cannot reach the Dask scheduler at {address} ({error})") from None
        except AssertionError:
            if time.monotonic() > deadline:
                raise ParameterError(f"the Dask scheduler at {address} answers but its handshake keeps failing; "
                                     "is it the same version of distributed as this one?") from None


def denoise_on_cluster(volume: LazyImage, output, job: SlabJob, client, *, memory: int | None = None,
                       overwrite: bool = False, progress: ProgressFn | None = None,
                       cancel: CancelToken | None = None) -> pathlib.Path:
    """Denoise ``volume`` into the MRC file ``output`` on the workers of ``client``, slab by slab.

    Parameters
    ----------
    volume : LazyImage
        The input, on storage the workers share with this process (its path as
        this process sees it).
    output : str or path-like
        An MRC file (``.mrc``, ``.rec``, ``.st``...), float32, on the same shared storage.
    job : SlabJob
        A classic filter's job (:func:`~engine.volume.jobs.method_job`),
        pickled to the workers with the volume-wide inputs it measured here,
        or a saved model's (:func:`~engine.volume.jobs.model_job` with its
        folder, on the shared storage): each worker loads the model once.
    client : distributed.Client
        The cluster.
    memory : int, optional
        Memory budget of one worker's slab, in bytes; default
        :func:`~engine.volume.budget.default_budget` of this machine.
    overwrite : bool
        Replace an existing file.
    progress : callable, optional
        ``progress(fraction)`` as slabs finish; 1.0 exactly once, when the file is complete.
    cancel : CancelToken, optional
        Checked every :data:`POLL_S`: the tasks are cancelled and the partial
        output removed (a task already running finishes into the removed file).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ImageError
        The output is not MRC, exists without ``overwrite``, or a task failed (its message).
    Cancelled
        ``cancel`` was set.
    """
    output = pathlib.Path(output).expanduser().absolute()
    if output.suffix.lower() not in MRC_EXTENSIONS:
        raise ImageError("a cluster writes the result by regions into an MRC file; name the output .mrc or .rec",
                         output)
    if output.exists() and not overwrite:
        raise OutputExistsError(output)
    shape = tuple(volume.shape)
    n_planes = volume.n_planes
    planes = slab_planes(shape, volume.dtype.itemsize, job, default_budget() if memory is None else int(memory),
                         path=volume.path)
    plane_bytes = 4 * shape[-1] * shape[-2]
    require_disk_space(output, plane_bytes * n_planes)
    like = volume.image
    header, extended = mrc_header(output, shape, np.dtype(np.float32), like.voxel_size, like.origin,
                                  like.mrc_header, True)
    offset = header.nbytes + len(extended)
    remove_stale_partials(output.parent)
    with tracked(partial_path(output)) as partial:
        with open(partial, "xb") as stream:
            stream.write(bytes(header.nbytes) + extended)
            stream.truncate(offset + plane_bytes * n_planes)
        futures = [client.submit(denoise_region, volume, job, start, stop, str(partial), offset + start * plane_bytes,
                                 pure=False)
                   for start, stop in slab_bounds(n_planes, planes)]
        stats = _gathered(client, futures, progress, cancel)
        set_statistics(header, stats)
        with open(partial, "r+b") as stream:
            stream.write(header.tobytes())
            stream.flush()
            os.fsync(stream.fileno())
        publish(partial, output, overwrite=overwrite)
    if progress is not None:
        progress(1.0)
    return output


def denoise_region(volume: LazyImage, job: SlabJob, start: int, stop: int, path: str, offset: int) -> tuple:
    """One task, on a worker: denoise planes ``start:stop`` and write them into ``path`` at ``offset``.

    Returns
    -------
    tuple
        :meth:`RunningStats.state` of the planes written.
    """
    planes = denoise_slab(volume, job, start, stop)
    with open(path, "r+b") as stream:
        stream.seek(offset)
        stream.write(memoryview(planes).cast("B"))
        stream.flush()
        os.fsync(stream.fileno())
    stats = RunningStats()
    stats.add(planes)
    return stats.state()


def _gathered(client, futures, progress, cancel) -> RunningStats:
    """The merged statistics of every task, reporting progress; cancels them all on cancel or failure."""
    stats = RunningStats()
    pending = list(futures)
    try:
        while pending:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("cancelled by the user")
            finished = [future for future in pending if future.done()]
            for future in finished:
                if future.status == "error":
                    error = future.exception()
                    if isinstance(error, ImageError):
                        raise error
                    raise ImageError(f"a cluster task failed ({type(error).__name__}: {error})")
                stats.merge(future.result())
                pending.remove(future)
            if finished and progress is not None:
                progress(min((len(futures) - len(pending)) / len(futures), 0.999))
            if pending and not finished:
                time.sleep(POLL_S)
    except BaseException:
        client.cancel(futures)
        raise
    return stats
