"""How long a training run will take, and how long a useful one needs, said before it starts.

The time per batch is measured by a run on this machine (:meth:`StepSpeed.from_events`)
and remembered by the caller; for other parameters it is scaled by the network's
multiply-adds per batch (:func:`step_cost`), which on the development machine
predicted the measured time per batch of other kernel sizes, filters, depths,
batch and patch sizes within 15 %.  Until a run was measured, the speed of the
default network on a 2-core CPU stands in, and the text says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from et_denoise.engine.describe import format_seconds
from et_denoise.engine.n2v.advice import useful_batches
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import patch_count, validation_count
from et_denoise.engine.n2v.monitor import TrainingEvent
from et_denoise.engine.n2v.training import auto_steps_per_epoch

REFERENCE_SECONDS_PER_STEP = 0.21
"""Seconds per batch of the default network (:class:`N2VParams` ()) on a 2-core CPU.

The 2-core AMD EPYC development machine, TensorFlow-CPU 2.15: 240 steps in 53 s
(README, kernel-size table); 0.42 s while other jobs shared the machine.
"""


@dataclass(frozen=True)
class StepSpeed:
    """A measured training speed: seconds per batch of the network ``params`` describe, on ``device``."""

    seconds_per_step: float
    params: N2VParams
    device: str = ""

    def seconds_for(self, params: N2VParams) -> float:
        """Seconds per batch of the network of ``params``, scaled by :func:`step_cost` from this measurement."""
        return self.seconds_per_step * step_cost(params) / step_cost(self.params)

    def measures(self, params: N2VParams) -> bool:
        """Whether ``params`` train the same network on batches of the same size as the measured run."""
        return _network(params) == _network(self.params)

    @classmethod
    def from_events(cls, first: TrainingEvent, last: TrainingEvent, params: N2VParams,
                    device: str = "") -> StepSpeed | None:
        """The speed between two batch events of one run, or None when fewer than two batches lie between.

        The first batch of a run also builds the network's graph (seconds), so
        the time is taken from the end of ``first`` to the end of ``last``;
        epoch ends on the way (validation, previews) count, as they do in a run.
        """
        batches = _batches_done(last) - _batches_done(first)
        if batches < 2 or last.elapsed_s <= first.elapsed_s:
            return None
        return cls((last.elapsed_s - first.elapsed_s) / batches, params, device)

    def as_dict(self) -> dict:
        """A JSON-ready dictionary (for the app's settings)."""
        return {"seconds_per_step": self.seconds_per_step, "params": self.params.as_dict(), "device": self.device}

    @classmethod
    def from_dict(cls, data: dict) -> StepSpeed:
        """Inverse of :meth:`as_dict`; ValueError, TypeError or KeyError for a damaged record."""
        seconds = float(data["seconds_per_step"])
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"not a speed: {seconds}")
        return cls(seconds, N2VParams(**data["params"]), str(data.get("device", "")))


@dataclass(frozen=True)
class TrainingEstimate:
    """What :func:`estimate_training` expects of a run.

    Attributes
    ----------
    batches : int
        Batches planned (epochs × steps per epoch).
    seconds_per_step : float
    seconds : float
        Expected training time: the planned batches, or the time budget if shorter.
    useful_batches : int
        Batches a useful model needs (:data:`engine.n2v.advice.MIN_USEFUL_PIXELS`).
    measured : bool
        Whether the speed was measured on this machine with this network;
        otherwise it is scaled from another network or the reference CPU.
    reference : bool
        Whether no run on this machine was measured at all.
    """

    batches: int
    seconds_per_step: float
    seconds: float
    useful_batches: int
    measured: bool
    reference: bool
    budget_s: float | None = None

    @property
    def useful_seconds(self) -> float:
        """Expected time of :attr:`useful_batches`."""
        return self.useful_batches * self.seconds_per_step

    @property
    def too_short(self) -> bool:
        """Whether the run will end (by its batches or its time budget) before it is useful."""
        return min(self.batches, self.seconds / self.seconds_per_step) < self.useful_batches

    def headline(self) -> str:
        """The estimate in a few words, rounded as an estimate should be (:meth:`describe` has the details).

        Examples
        --------
        >>> TrainingEstimate(4000, 0.21, 840.0, 400, measured=True, reference=False).headline()
        'About 14 min on this machine (useful after 1.4 min)'
        >>> TrainingEstimate(100, 0.21, 21.0, 400, measured=False, reference=True).headline()
        'Too short: about 21 s on a 2-core CPU; a useful model needs 1.4 min'
        """
        where = "on a 2-core CPU" if self.reference else "on this machine"
        if self.too_short:
            return f"Too short: about {rough_duration(self.seconds)} {where}; " \
                   f"a useful model needs {rough_duration(self.useful_seconds)}"
        return f"About {rough_duration(self.seconds)} {where} (useful after {rough_duration(self.useful_seconds)})"

    def describe(self) -> str:
        """Two sentences for the user, such as ``"About 14 min 00 s on this machine: …"``.

        Examples
        --------
        >>> print(TrainingEstimate(4000, 0.21, 840.0, 400, measured=True, reference=False).describe())
        ... # doctest: +NORMALIZE_WHITESPACE
        About 14 min 00 s on this machine: 4000 batches at 0.21 s (measured). A useful model needs 400 batches,
        about 1 min 24 s.
        """
        where = "on a 2-core CPU" if self.reference else "on this machine"
        source = ("the reference speed; a first run measures this machine's" if self.reference
                  else "measured" if self.measured else "scaled from the last run's network")
        budget = self.budget_s is not None and self.budget_s < self.batches * self.seconds_per_step
        planned = (f"the time budget, about {self.seconds / self.seconds_per_step:.0f} of {self.batches} batches"
                   if budget else f"{self.batches} batches")
        text = f"About {format_seconds(self.seconds)} {where}: {planned} at {self.seconds_per_step:.2g} s ({source})."
        useful = f"{self.useful_batches} batches, about {format_seconds(self.useful_seconds)}"
        if self.too_short:
            return f"{text} Too short to be useful: a useful model needs {useful}; train longer."
        return f"{text} A useful model needs {useful}."


def rough_duration(seconds: float) -> str:
    """A duration to two significant figures at most: ``"40 s"``, ``"1.4 min"``, ``"14 min"``, ``"2.5 h"``.

    Examples
    --------
    >>> [rough_duration(s) for s in (7.3, 41.0, 84.0, 840.0, 9000.0)]
    ['7 s', '41 s', '1.4 min', '14 min', '2.5 h']
    """
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.2g} min"
    return f"{seconds / 3600:.2g} h"


def step_cost(params: N2VParams) -> float:
    """Multiply-adds of one training batch of the U-Net of ``params``, up to a constant factor.

    Each resolution level ``l`` of the U-Net runs four convolutions (two on the
    way down, two up; two at the bottom) of ``filters × 2**l`` channels over
    ``1 / 2**(ndim × l)`` of the patch's pixels, each costing ``kernel**ndim``
    multiply-adds per input and output channel.

    Parameters
    ----------
    params : N2VParams
        Uses ``mode``, ``batch_size``, ``patch_size``, ``unet_depth``, ``unet_filters`` and ``unet_kernel``.

    Returns
    -------
    float

    Examples
    --------
    >>> step_cost(N2VParams(batch_size=32)) / step_cost(N2VParams(batch_size=16))
    2.0
    """
    ndim = params.ndim
    kernel = params.kernel_size
    ratio = 4 / 2**ndim  # channels squared ×4, pixels ÷2**ndim per level
    levels = 4 * sum(ratio**level for level in range(params.unet_depth)) + 2 * ratio**params.unet_depth
    return params.batch_size * params.patch_size**ndim * kernel**ndim * params.unet_filters**2 * levels


def planned_batches(shape: tuple[int, ...], params: N2VParams) -> int:
    """Batches a run on an image of ``shape`` plans: epochs × steps per epoch (chosen as training chooses them).

    Raises
    ------
    ValueError
        The image of ``shape`` does not suit ``params`` (fewer axes than the
        mode needs, smaller than the patch, fewer than two patches).
    """
    if params.steps_per_epoch:
        return params.epochs * params.steps_per_epoch
    patches = patch_count(shape, params)
    if patches < 2:
        raise ValueError(f"an image of shape {shape} gives {patches} {params.patch_size}-pixel patch")
    return params.epochs * auto_steps_per_epoch(patches - validation_count(patches, params), params)


def estimate_training(shape: tuple[int, ...], params: N2VParams, speed: StepSpeed | None = None) -> TrainingEstimate:
    """How long training ``params`` on an image of ``shape`` will take, and how long a useful run takes.

    Parameters
    ----------
    shape : tuple of int
        Shape of the training image: (Y, X) or (Z, Y, X).
    params : N2VParams
        The run's parameters.
    speed : StepSpeed, optional
        A speed measured on this machine (any network); None uses
        :data:`REFERENCE_SECONDS_PER_STEP`.

    Returns
    -------
    TrainingEstimate

    Raises
    ------
    ValueError
        See :func:`planned_batches`.

    Notes
    -----
    Preparing the patches and building the network (seconds) are not
    counted.  A useful run needs :data:`~engine.n2v.advice.MIN_USEFUL_PIXELS`
    training pixels, the threshold :func:`~engine.n2v.advice.training_advice`
    warns below after a run.

    Examples
    --------
    >>> estimate = estimate_training((32, 256, 256), N2VParams(epochs=10))
    >>> estimate.batches, estimate.useful_batches, round(estimate.seconds)
    (1160, 400, 244)
    """
    reference = speed is None
    speed = speed if speed is not None else StepSpeed(REFERENCE_SECONDS_PER_STEP, N2VParams())
    seconds_per_step = speed.seconds_for(params)
    batches = planned_batches(shape, params)
    budget_s = 60 * params.minutes or None
    seconds = min(batches * seconds_per_step, budget_s or math.inf)
    return TrainingEstimate(batches, seconds_per_step, seconds, useful_batches(params), measured=not reference and speed.measures(params),
                            reference=reference, budget_s=budget_s)


def _network(params: N2VParams) -> tuple:
    """What the time per batch depends on."""
    return (params.ndim, params.batch_size, params.patch_size, params.unet_depth, params.unet_filters,
            params.kernel_size)


def _batches_done(event: TrainingEvent) -> int:
    return (event.epoch - 1) * event.steps + event.batch
