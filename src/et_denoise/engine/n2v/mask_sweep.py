"""Mask sweep: train a short StructN2V run per blind-spot mask size and denoise the image with each.

Which mask length suits a data set is usually judged by eye, training one
model after another.  A sweep trains one model per mask of the same shape and
hands each denoised image over as soon as its model is done, so a caller can
show it at once; cancelling keeps the finished ones and drops the model being
trained.

Examples
--------
>>> runs = mask_sweep_params("cross", [5, 9], SweepTraining(epochs=1))   # doctest: +SKIP
>>> train_mask_sweep(image, runs, on_model=print)                       # doctest: +SKIP
2
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from collections.abc import Callable, Sequence

import numpy as np

from et_denoise.engine.errors import Cancelled, ParameterError
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.masks import PRESETS
from et_denoise.engine.n2v.monitor import StopReason
from et_denoise.engine.n2v.training import train
from et_denoise.engine.params import MethodParams

#: Mask shapes a sweep varies the size of (every preset except "none").
SHAPES = tuple(shape for shape in PRESETS if shape != "none")
#: Share of each model's progress given to training; prediction takes the rest.
TRAIN_SHARE = 0.9
#: Training settings of each model of a sweep, shorter than a full training by default.
_SWEEP_DEFAULTS = {"epochs": 3, "steps_per_epoch": 40, "patch_size": 64, "unet_depth": 2, "unet_filters": 16}


def _sweep_training_type() -> type[MethodParams]:
    """A parameters class with the training fields of :class:`N2VParams` that a sweep sets (same metadata)."""
    fields = {item.name: item for item in dataclasses.fields(N2VParams)}
    spec = [(name, type(default), dataclasses.field(default=default, metadata=fields[name].metadata))
            for name, default in _SWEEP_DEFAULTS.items()]
    return dataclasses.make_dataclass("SweepTraining", spec, bases=(MethodParams,), frozen=True,
                                      namespace={"__module__": __name__})


#: The training settings shared by every model of a sweep (a :class:`~engine.params.MethodParams`).
SweepTraining = _sweep_training_type()


@dataclass(frozen=True)
class SweepModel:
    """One finished model of a sweep: its mask, parameters, denoised image and time taken."""

    spec: str
    params: N2VParams
    data: np.ndarray
    elapsed_s: float


def mask_sweep_params(shape: str, sizes: Sequence[int], training: MethodParams) -> list[N2VParams]:
    """The 2-D training parameters of each model of a sweep, one per size.

    Parameters
    ----------
    shape : str
        One of :data:`SHAPES`.
    sizes : sequence of int
        Mask lengths, in the order the models are trained.
    training : SweepTraining
        The training settings shared by every model.

    Raises
    ------
    ParameterError
        Unknown shape, or parameters :class:`N2VParams` rejects.
    """
    if shape not in SHAPES:
        raise ParameterError(f"mask shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    return [N2VParams(mode="2d", mask=f"{shape}:{size}", **training.as_dict()) for size in sizes]


def train_mask_sweep(
    image: np.ndarray,
    params: Sequence[N2VParams],
    *,
    on_model: Callable[[SweepModel], None],
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Train one model per entry of ``params`` on ``image``, denoise ``image`` with each.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        The noisy data, used for training and denoised by each model.
    params : sequence of N2VParams
        One training run each (they differ by their ``mask``).
    on_model : callable
        ``on_model(SweepModel)`` as soon as a model has denoised the image,
        called on the calling thread.
    progress : callable, optional
        ``progress(fraction)`` over the whole sweep; 1.0 once at the end.
    cancel : CancelToken, optional
        Stops the sweep: the model being trained is dropped (no ``on_model``).

    Returns
    -------
    int
        The number of models handed to ``on_model``.

    Raises
    ------
    Cancelled
        When ``cancel`` was set (models finished before stay delivered).

    Notes
    -----
    Each training and each prediction takes its turn on the network thread
    (:mod:`engine.n2v.network_thread`), so other network work (a preview) can
    run between them.
    """

    def report(fraction: float) -> None:
        if progress is not None and fraction < 1.0:
            progress(fraction)

    count = len(params)
    for index, run in enumerate(params):
        if cancel is not None:
            cancel.check()
        start = time.perf_counter()
        model = train([image], run, cancel=cancel,
                      progress=lambda event, i=index: report((i + TRAIN_SHARE * event.fraction) / count))
        if model.history.stopped is StopReason.CANCELLED:
            raise Cancelled("the mask sweep was cancelled")
        data = model.predict(image, cancel=cancel,
                             progress=lambda f, i=index: report((i + TRAIN_SHARE + (1 - TRAIN_SHARE) * f) / count))
        if cancel is not None:
            cancel.check()
        on_model(SweepModel(run.mask, run, data, time.perf_counter() - start))
    if progress is not None:
        progress(1.0)
    return count
