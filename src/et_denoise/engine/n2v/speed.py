"""The speed of training on this machine, and the network width that fits a time budget.

The time per batch is measured by a run on this machine (:meth:`StepSpeed.from_events`)
and remembered by the caller; for other parameters it is scaled by the network's
multiply-adds per batch plus a fixed work per pixel (:func:`step_cost`).  The
multiply-adds alone predicted the measured time per batch of other kernel
sizes, depths, batch and patch sizes within 15 % on the development machine,
but narrow networks up to 3.5× too fast; the fixed work
(:data:`STEP_OVERHEAD`) was fitted to the widths.  Until a run was measured,
the speed of the default network on a 2-core CPU stands in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from et_denoise.engine.n2v.advice import useful_batches
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.monitor import TrainingEvent

REFERENCE_SECONDS_PER_STEP = 0.21
"""Seconds per batch of the 32-filter network (``N2VParams(unet_filters=32)``) on a 2-core CPU.

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


STEP_OVERHEAD = 24_000
"""The fixed work per pixel of a batch (data handling, the framework's per-batch calls), in multiply-adds.

Fitted to test_bench_width_budget.py on the 2-core development machine: 229, 567
and 948 batches a minute with 32, 16 and 8 filters are a fixed 0.054 s per batch
plus a part that scales with filters² (within 6 %); filters² alone predicted 8
filters 3.5× faster than measured.
"""


def step_cost(params: N2VParams) -> float:
    """Multiply-adds of one training batch of the U-Net of ``params``, up to a constant factor.

    Each resolution level ``l`` of the U-Net runs four convolutions (two on the
    way down, two up; two at the bottom) of ``filters × 2**l`` channels over
    ``1 / 2**(ndim × l)`` of the patch's pixels, each costing ``kernel**ndim``
    multiply-adds per input and output channel; each pixel of the batch adds
    :data:`STEP_OVERHEAD`.

    Parameters
    ----------
    params : N2VParams
        Uses ``mode``, ``batch_size``, ``patch_size``, ``unet_depth``, ``unet_filters`` (a width, not 0:
        see :func:`choose_width`) and ``unet_kernel``.

    Returns
    -------
    float

    Examples
    --------
    >>> step_cost(N2VParams(batch_size=32, unet_filters=32)) / step_cost(N2VParams(batch_size=16, unet_filters=32))
    2.0
    """
    ndim = params.ndim
    kernel = params.kernel_size
    ratio = 4 / 2**ndim  # channels squared ×4, pixels ÷2**ndim per level
    levels = 4 * sum(ratio**level for level in range(params.unet_depth)) + 2 * ratio**params.unet_depth
    convolutions = kernel**ndim * params.unet_filters**2 * levels
    return params.batch_size * params.patch_size**ndim * (convolutions + STEP_OVERHEAD)


AUTO_WIDTHS = (8, 16, 32)
"""The first-layer widths ``unet_filters=0`` (auto) chooses from, narrowest first."""

EPOCH_WIDTH = 32
"""The width auto chooses when training runs by epochs, without a time budget."""

BUDGET_RUNWAY = 1.6
"""The budget must hold this many times the batches a useful model needs
(:func:`~engine.n2v.advice.useful_batches`) for the widest of :data:`AUTO_WIDTHS`
to be chosen; a narrower one needs more (:func:`batches_needed`)."""


def batches_needed(params: N2VParams) -> float:
    """The batches ``params``'s budget must hold for its width to be chosen over a narrower one.

    :data:`BUDGET_RUNWAY` times :func:`~engine.n2v.advice.useful_batches`,
    times ``sqrt(32 / unet_filters)`` for the widest auto width of 32: a
    narrower network learns less per batch.

    Notes
    -----
    Fitted to two runs of ``tests/benchmarks/test_bench_width_budget.py``
    (the sample with ``wbp`` and ``fbp`` noise, 1 and 3 minutes on 2 cores):
    32 filters were the best width from 654 batches on (640 needed), 16
    filters after 624 batches were still 1.5 dB below 8 filters after 1160
    (905 needed), and at the same 1160 batches 16 filters did not beat 8.

    Examples
    --------
    >>> [round(batches_needed(N2VParams(unet_filters=w))) for w in (32, 16)]
    [640, 905]
    """
    return BUDGET_RUNWAY * useful_batches(params) * math.sqrt(AUTO_WIDTHS[-1] / params.unet_filters)


def choose_width(params: N2VParams, speed: StepSpeed | None = None) -> N2VParams:
    """``params`` with the network width that fits its time budget on this machine, when it is auto.

    Parameters
    ----------
    params : N2VParams
        ``unet_filters`` 0 (auto) is resolved; any other width is kept.
    speed : StepSpeed, optional
        A speed measured on this machine (any network); None uses
        :data:`REFERENCE_SECONDS_PER_STEP`, a 2-core CPU's.

    Returns
    -------
    N2VParams
        With ``unet_filters`` the widest of :data:`AUTO_WIDTHS` whose batches,
        in ``params.minutes``, reach :func:`batches_needed` (the narrowest
        when none does); :data:`EPOCH_WIDTH` without a time budget.

    Notes
    -----
    A wider network learns more per batch but takes longer per batch (about
    the square of the width): on a CPU a short budget gives a wide network too
    few batches to leave the flat, blurred early stage of training (Krull et al.
    2019 train for hours on a GPU), while a narrower one gets there.

    Examples
    --------
    >>> [choose_width(N2VParams(unet_filters=0, minutes=m)).unet_filters for m in (0.3, 1, 5, 0)]
    [8, 8, 32, 32]
    >>> choose_width(N2VParams(unet_filters=24, minutes=1)).unet_filters
    24
    """
    if params.unet_filters:
        return params
    if not params.minutes:
        return params.replace(unet_filters=EPOCH_WIDTH)
    speed = speed if speed is not None else StepSpeed(REFERENCE_SECONDS_PER_STEP, N2VParams(unet_filters=32))
    for width in reversed(AUTO_WIDTHS):
        candidate = params.replace(unet_filters=width)
        if 60 * params.minutes / speed.seconds_for(candidate) >= batches_needed(candidate):
            return candidate
    return params.replace(unet_filters=AUTO_WIDTHS[0])


def _network(params: N2VParams) -> tuple:
    """What the time per batch depends on."""
    return (params.ndim, params.batch_size, params.patch_size, params.unet_depth, params.unet_filters,
            params.kernel_size)


def _batches_done(event: TrainingEvent) -> int:
    return (event.epoch - 1) * event.steps + event.batch
