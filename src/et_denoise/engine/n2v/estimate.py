"""How long a training run will take, and how long a useful one needs, said before it starts.

The time per batch comes from :mod:`engine.n2v.speed` (measured on this machine, or a
2-core CPU's until a run was), and the text says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from et_denoise.engine.describe import format_seconds
from et_denoise.engine.n2v.advice import useful_batches
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import patch_count, validation_count
from et_denoise.engine.n2v.speed import REFERENCE_SECONDS_PER_STEP, StepSpeed, choose_width
from et_denoise.engine.n2v.training import auto_steps_per_epoch

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
    budget_s : float or None
        The time budget, when there is one.
    chosen_width : int or None
        The first-layer filters chosen for the budget (``unet_filters`` 0, auto);
        None when the parameters set a width.
    """

    batches: int
    seconds_per_step: float
    seconds: float
    useful_batches: int
    measured: bool
    reference: bool
    budget_s: float | None = None
    chosen_width: int | None = None

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
        >>> TrainingEstimate(900, 0.2, 180.0, 400, measured=True, reference=False, budget_s=180.0,
        ...                  chosen_width=16).headline()
        'About 3 min on this machine with 16 filters (useful after 1.3 min)'
        """
        where = "on a 2-core CPU" if self.reference else "on this machine"
        if self.chosen_width:
            where += f" with {self.chosen_width} filters"
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
        if self.chosen_width:
            text += f" {self.chosen_width} first-layer filters, the widest network that fits the budget."
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
    speed = speed if speed is not None else StepSpeed(REFERENCE_SECONDS_PER_STEP, N2VParams(unet_filters=32))
    chosen = choose_width(params, speed)
    width = None if params.unet_filters else chosen.unet_filters
    params = chosen
    seconds_per_step = speed.seconds_for(params)
    batches = planned_batches(shape, params)
    budget_s = 60 * params.minutes or None
    seconds = min(batches * seconds_per_step, budget_s or math.inf)
    return TrainingEstimate(batches, seconds_per_step, seconds, useful_batches(params),
                            measured=not reference and speed.measures(params), reference=reference,
                            budget_s=budget_s, chosen_width=width)
