"""What the slab pipeline runs on each slab: a filter with its parameters, or a trained network.

A :class:`SlabJob` knows the halo a slab needs, the memory a plane of it
costs, and how to denoise a run of planes.  :func:`method_job` makes one of
an :class:`~engine.methods.Method` (every classic filter), computing once,
from the whole volume, what the filter would otherwise measure on each slab
(:attr:`Method.volume_inputs`); :func:`model_job` makes one of a
:class:`~engine.n2v.TrainedModel`.  The pipeline (:mod:`engine.volume.pipeline`)
treats both alike.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.methods import Halo, Method, PlaneReader
from et_denoise.engine.params import MethodParams


@dataclass(frozen=True)
class SlabJob:
    """Denoising that can run on a volume slab by slab.

    Attributes
    ----------
    label : str
        Human name, for messages.
    halo : Halo
        Planes each slab needs on both sides, and the alignment of its first plane.
    plane_bytes : callable
        ``plane_bytes(pixels, itemsize) -> int``: memory one input plane of
        ``pixels`` pixels read as ``itemsize``-byte values costs while it is
        denoised (the plane as read, as float32, the result and working buffers).
    run : callable
        ``run(planes, progress=..., cancel=...) -> float32 array`` of the same shape.
    fixed_bytes : callable
        ``fixed_bytes((Y, X)) -> int``: memory a slab needs whatever its
        number of planes (a network's tile activations).
    inputs : dict
        What was measured once on the whole volume and is passed to every
        slab (a noise σ, a noise covariance, value bins).
    """

    label: str
    halo: Halo
    plane_bytes: Callable[[int, int], int]
    run: Callable[..., np.ndarray]
    fixed_bytes: Callable[[tuple[int, int]], int] = lambda plane_shape: 0
    inputs: dict[str, Any] = field(default_factory=dict, repr=False)


def method_job(method: Method, params: MethodParams | None, volume: PlaneReader, *,
               cancel: CancelToken | None = None) -> SlabJob:
    """A slab job for a classic filter, with its volume-wide inputs measured on ``volume``.

    Parameters
    ----------
    method : Method
        The filter (an entry of :data:`engine.filters.FILTERS`).
    params : MethodParams or None
        Its parameters; defaults when None.
    volume : PlaneReader
        The whole volume (a :class:`~engine.io.LazyImage`), read here only
        for what :attr:`Method.volume_inputs` needs (a few planes for a noise σ).
    cancel : CancelToken, optional
        Checked while those inputs are measured.

    Returns
    -------
    SlabJob
    """
    params = params if params is not None else method.params_type()
    keywords = method.volume_inputs(volume, params, cancel) if method.volume_inputs is not None else {}
    arguments = {**params.as_dict(), **keywords}

    def run(planes: np.ndarray, *, progress: ProgressFn | None = None,
            cancel: CancelToken | None = None) -> np.ndarray:
        return method.function(planes, **arguments, progress=progress, cancel=cancel)

    def plane_bytes(pixels: int, itemsize: int) -> int:
        return int(pixels * (itemsize + 4 * (2 + method.working_copies)))

    return SlabJob(method.label, method.halo(params), plane_bytes, run, inputs=keywords)


def model_job(model, *, folder=None) -> SlabJob:
    """A slab job for a trained StructN2V / N2V model (:class:`~engine.n2v.TrainedModel`).

    A 3-D model's slabs get its receptive field as halo, their first plane on
    the U-Net's pooling grid (a multiple of ``2 ** depth``), so that each
    slab's prediction equals the whole volume's; a 2-D model needs none.

    Parameters
    ----------
    model : TrainedModel
        The model; its normalisation is the training data's, the same for every slab.
    folder : path-like, optional
        The folder ``model`` was loaded from.  The job then holds the folder,
        not the network: pickled to the workers of a cluster, it loads the
        model in each worker process once (:func:`model_in_this_process`).

    Returns
    -------
    SlabJob
    """
    from et_denoise.engine.n2v.backend import get_backend
    from et_denoise.engine.n2v.tiling import prediction_bytes

    params = model.params
    multiple = 2 ** params.unet_depth
    margin = get_backend(model.backend).receptive_radius(params)
    if params.ndim == 3:
        halo = Halo(-(-margin // multiple) * multiple + multiple, align=multiple)
    else:
        halo = Halo()
    label = "StructN2V" if model.mask is not None else "N2V"

    if folder is None:
        def run(planes: np.ndarray, *, progress: ProgressFn | None = None,
                cancel: CancelToken | None = None) -> np.ndarray:
            return model.predict(planes, progress=progress, cancel=cancel)
    else:
        run = _SavedModelRun.of(folder)

    def plane_bytes(pixels: int, itemsize: int) -> int:
        return int(pixels * (itemsize + 4 + 8))  # the plane as read, normalised float32 copy and result

    def fixed(plane_shape: tuple[int, int]) -> int:
        one_plane = prediction_bytes((1,) + plane_shape, ndim=params.ndim, margin=margin, multiple=multiple,
                                     filters=params.unet_filters)
        return one_plane - 8 * plane_shape[0] * plane_shape[1]

    return SlabJob(label, halo, plane_bytes, run, fixed_bytes=fixed)


@functools.lru_cache(maxsize=2)
def model_in_this_process(folder: str, saved_ns: int):
    """The model saved in ``folder`` (at ``saved_ns``), loaded the first time a process asks for it and kept.

    The workers of a cluster load a model once each, however many slabs they
    denoise; a model saved again into the folder is loaded anew.
    """
    from et_denoise.engine.n2v.model import TrainedModel

    return TrainedModel.load(folder)


@dataclass(frozen=True)
class _SavedModelRun:
    """``run`` of a model job that travels as its folder and predicts with the model loaded where it runs."""

    folder: str
    saved_ns: int

    @classmethod
    def of(cls, folder) -> _SavedModelRun:
        from et_denoise.engine.n2v.model import METADATA

        folder = os.path.abspath(folder)
        return cls(folder, os.stat(os.path.join(folder, METADATA)).st_mtime_ns)

    def __call__(self, planes: np.ndarray, *, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> np.ndarray:
        return model_in_this_process(self.folder, self.saved_ns).predict(planes, progress=progress, cancel=cancel)
