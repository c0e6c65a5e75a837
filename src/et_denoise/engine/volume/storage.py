"""Where an interactive session keeps whole-volume results: in memory up to a budget, beyond it in scratch files.

The GUI keeps every result it computes, to compare and save them later.  A
result that fits in what is left of the memory budget is an array in memory;
a larger one is denoised slab by slab into an MRC file in a scratch folder
and shown from there, memory-mapped read-only (only the planes on screen are
read).  Saving it then copies that file's data: nothing is recomputed.  The
scratch folder of a session is removed when the session ends; folders left
by sessions that were killed are removed by the next one.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import uuid
from collections.abc import Callable

import numpy as np

from et_denoise.engine.io.image_data import ImageData
from et_denoise.engine.io.lazy import LazyImage
from et_denoise.engine.io.memory import process_private_memory
from et_denoise.engine.io.partial_files import process_runs
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.volume.budget import default_budget, slab_bytes
from et_denoise.engine.volume.jobs import SlabJob
from et_denoise.engine.volume.pipeline import collect, denoise_to_file, denoise_volume

_SESSION_PREFIX = "session-"


def default_scratch_base() -> pathlib.Path:
    """``$XDG_CACHE_HOME/et-denoise/scratch`` (``~/.cache/...``; ``%LOCALAPPDATA%`` on Windows)."""
    if os.name == "nt":
        cache = pathlib.Path(os.environ.get("LOCALAPPDATA", pathlib.Path.home() / "AppData" / "Local"))
    else:
        cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    return cache / "et-denoise" / "scratch"


class ScratchFolder:
    """One session's folder of result files, under ``base``, made when the first file is asked for.

    Parameters
    ----------
    base : path-like, optional
        The folder that holds every session's folder; default
        :func:`default_scratch_base`.

    Examples
    --------
    >>> import tempfile
    >>> scratch = ScratchFolder(tempfile.mkdtemp())
    >>> path = scratch.new_file(".mrc")
    >>> path.parent == scratch.folder, path.parent.is_dir()
    (True, True)
    >>> scratch.remove(); scratch.folder.exists()
    False
    """

    def __init__(self, base=None) -> None:
        self.base = pathlib.Path(base).expanduser() if base is not None else default_scratch_base()
        self.folder = self.base / f"{_SESSION_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def new_file(self, suffix: str) -> pathlib.Path:
        """A new, unused file name in this session's folder (the folder is created)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"result-{uuid.uuid4().hex[:12]}{suffix}"

    def remove(self) -> None:
        """Delete this session's folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def remove_stale(self) -> list[pathlib.Path]:
        """Delete the folders under :attr:`base` of sessions whose process is gone; returns them."""
        removed = []
        try:
            folders = [path for path in self.base.iterdir() if path.name.startswith(_SESSION_PREFIX)]
        except OSError:
            return removed
        for folder in folders:
            pid = folder.name[len(_SESSION_PREFIX):].split("-", 1)[0]
            if folder != self.folder and pid.isdigit() and not process_runs(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed


def scratch_file_of(data: np.ndarray) -> pathlib.Path | None:
    """The scratch file a result made by :meth:`ResultStorage.denoise` is mapped from, or None if in memory."""
    filename = getattr(data, "filename", None)
    return pathlib.Path(filename) if isinstance(data, np.memmap) and filename else None


class ResultStorage:
    """Makes whole-image results for a session, in memory or in its scratch folder by size.

    Parameters
    ----------
    scratch : ScratchFolder
        Where results too large for memory go.
    memory : int, optional
        The budget of the whole process in bytes (what it holds besides
        counts against it); default :func:`~engine.volume.budget.default_budget`
        at each run.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:8786``): volumes mapped
        from a file are then denoised by its workers, which read the file and
        write the result into the scratch folder (both on storage they share);
        ``memory`` is then a worker's budget.  None: this machine.

    Notes
    -----
    A result is kept in memory when it needs at most half of what the budget
    leaves after the memory the process already holds, and the rest still
    holds a slab (the slabs being denoised share it); otherwise it streams
    into an MRC file.
    """

    def __init__(self, scratch: ScratchFolder, memory: int | None = None, scheduler: str | None = None) -> None:
        self.scratch = scratch
        self.memory = memory
        self.scheduler = scheduler
        self._earlier: list[ScratchFolder] = []
        self._client = None

    def on_cluster(self, image: ImageData) -> bool:
        """Whether :meth:`denoise` sends ``image`` to the cluster: a scheduler is set and the image is its file's."""
        return bool(self.scheduler) and image.memory_mapped and image.path is not None and image.data.ndim == 3

    def where(self, image: ImageData) -> str:
        """Where :meth:`denoise` runs on ``image``, for a status line ("on this machine", "on the cluster at …")."""
        if self.on_cluster(image):
            return f"on the cluster at {self.scheduler}"
        if self.scheduler:
            return "on this machine (the cluster's workers read only volumes opened whole from an MRC or TIFF file)"
        return "on this machine"

    def client(self):
        """The ``distributed.Client`` of :attr:`scheduler`, connected at the first call and kept while it is the same."""
        from et_denoise.engine.volume.cluster import connect

        if self._client is None or self._client[0] != self.scheduler:
            self.close_client()
            self._client = (self.scheduler, connect(self.scheduler))
        return self._client[1]

    def close_client(self) -> None:
        """Disconnect from the scheduler (the cluster itself goes on)."""
        if self._client is not None:
            self._client[1].close()
            self._client = None

    def use_scratch_base(self, base=None) -> None:
        """Keep later results under ``base`` (None: the default); the folders used so far stay until :meth:`remove_files`."""
        folder = ScratchFolder(base)
        if folder.base != self.scratch.base:
            self._earlier.append(self.scratch)
            self.scratch = folder

    def remove_files(self) -> None:
        """Delete every scratch file of this session and disconnect from the cluster (the session ends)."""
        self.close_client()
        for folder in (*self._earlier, self.scratch):
            folder.remove()

    def budget(self) -> int:
        """The budget in bytes now."""
        return default_budget() if self.memory is None else int(self.memory)

    def fits_in_memory(self, volume: LazyImage, job: SlabJob, in_use: int) -> bool:
        """Whether the float32 result of ``job`` on ``volume`` is kept in memory when the process holds ``in_use``."""
        left = self.budget() - in_use
        result = 4 * int(np.prod(volume.shape, dtype=np.int64))
        return 2 * result <= left and result + slab_bytes(volume.shape, volume.dtype.itemsize, job, 1) <= left

    def denoise(self, image: ImageData, make_job: Callable[[LazyImage], SlabJob], *, cluster: bool = True,
                progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> np.ndarray:
        """The denoised image, float32, slab by slab within the budget.

        Parameters
        ----------
        image : ImageData
            The open image (its data in memory or memory-mapped).
        make_job : callable
            ``make_job(volume) -> SlabJob`` (:func:`~engine.volume.jobs.method_job`
            measures its volume-wide inputs on ``volume``).
        cluster : bool
            False keeps the job on this machine even where :meth:`on_cluster`
            (a network saved nowhere the workers could load it from).
        progress, cancel
            As :func:`~engine.volume.pipeline.denoise_volume`; ``progress(1.0)`` at the end.

        Returns
        -------
        ndarray or numpy.memmap
            In memory, or mapped read-only from a new file of the scratch
            folder (:func:`scratch_file_of` names it).

        Raises
        ------
        MemoryBudgetError
            Not even one slab fits in the budget.
        ImageError
            The image holds NaN or infinity, the scratch folder is full or
            unwritable, or a cluster task failed.
        ParameterError
            The cluster's scheduler does not answer.
        Cancelled
            ``cancel`` was set (no scratch file is left).
        """
        if cluster and self.on_cluster(image):
            from et_denoise.engine.io.files import open_image_lazily
            from et_denoise.engine.volume.cluster import denoise_on_cluster

            volume = open_image_lazily(image.path)
            volume.image.voxel_size, volume.image.origin = image.voxel_size, image.origin  # as the user set them
            path = denoise_on_cluster(volume, self.scratch.new_file(".mrc"), make_job(volume), self.client(),
                                      memory=self.memory, progress=progress, cancel=cancel)
            return mapped_result(path)
        volume = LazyImage.from_array(image.data, like=image)
        job = make_job(volume)
        in_use = process_private_memory()
        if volume.n_planes == 1 or self.fits_in_memory(volume, job, in_use):
            held = in_use + 4 * int(np.prod(volume.shape, dtype=np.int64))  # the slabs share the rest
            result = collect(denoise_volume(volume, job, memory=self.budget(), in_use=held, progress=progress,
                                            cancel=cancel))
            if progress is not None:
                progress(1.0)
            return result
        path = denoise_to_file(volume, self.scratch.new_file(".mrc"), job, memory=self.budget(), in_use=in_use,
                               progress=progress, cancel=cancel)
        return mapped_result(path)


def mapped_result(path: pathlib.Path) -> np.memmap:
    """The float32 volume of an MRC file this storage wrote, memory-mapped read-only."""
    from et_denoise.engine.io.mrc import open_mrc_lazily

    image, offset, dtype = open_mrc_lazily(path)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=image.data.shape)

