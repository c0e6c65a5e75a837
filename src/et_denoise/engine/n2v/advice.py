"""Whether a training run was long enough: said after it, in words a microscopist can act on.

A Noise2Void network first learns the mean grey level, then coarse shapes,
and only later the detail: a run stopped after a minute on a CPU gives a
flat, blurred image that looks like a failure of the method.
"""

from __future__ import annotations

from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.monitor import History

MIN_USEFUL_PIXELS = 400 * 16 * 64 * 64
"""Training pixels (batches × batch size × patch pixels, 2-D) a run needs before its output is useful.

400 batches of 16 patches of 64² on the built-in sample: the run of
``tests/benchmarks/test_bench_n2v.py`` in which StructN2V beats plain N2V by
3 dB; shorter runs give visibly smoother, flatter output.
"""

MIN_USEFUL_BATCHES = 400
"""Batches a run needs whatever the pixels they hold: the optimiser needs its steps.

3-D patches of 32³ hold 8 times the pixels of 64² ones (:data:`MIN_USEFUL_PIXELS`
alone asks for 50 batches), but 3-D StructN2V with the suggested 3-D mask on the
sample (2 cores) needed many more: on ``wedge`` noise 32 filters after 197
batches gave 26.34 dB, 16 filters after 460 batches 30.32 and after 582 30.41,
8 filters after 920 batches 30.52; on ``sirt`` and ``wbp`` 16 filters after 460
batches (10 minutes' plan with a floor of 200) gave 24.25 and 28.33 dB, 8 filters
after 640 batches 25.77 and 28.86.
"""

STILL_FALLING = 0.02
"""Relative drop of the validation loss over the last epoch above which training had not converged."""


def useful_batches(params: N2VParams) -> int:
    """Batches of ``params``' size a useful model needs.

    Enough to show the network :data:`MIN_USEFUL_PIXELS` training pixels,
    and never fewer than :data:`MIN_USEFUL_BATCHES` (3-D patches).

    Examples
    --------
    >>> useful_batches(N2VParams()), useful_batches(N2VParams(patch_size=32))
    (400, 1600)
    >>> useful_batches(N2VParams(mode="3d", patch_size=32))  # 50 by its pixels
    400
    """
    by_pixels = -(-MIN_USEFUL_PIXELS // (params.batch_size * params.patch_size ** params.ndim))
    return max(by_pixels, MIN_USEFUL_BATCHES)


def training_advice(history: History, params: N2VParams) -> str | None:
    """One line saying why a finished run is likely under-trained, or None when it looks long enough.

    Parameters
    ----------
    history : History
        The run's record (its ``batches`` and per-epoch validation losses).
    params : N2VParams
        Its parameters (batch size, patch size, mode).

    Returns
    -------
    str or None

    Examples
    --------
    >>> short = History(loss=[1.0], val_loss=[0.9], learning_rate=[4e-4], batches=40)
    >>> print(training_advice(short, N2VParams()))  # doctest: +NORMALIZE_WHITESPACE
    Under-trained: 40 batches saw 2.6 M pixels, about a tenth of what a useful model needs
    (400 batches of this size); the result stays flat and blurred. Train longer.
    """
    needed = useful_batches(params)
    if history.batches and history.batches < needed:
        seen = history.batches * params.batch_size * params.patch_size ** params.ndim
        batches = f"{history.batches} batch{'es' if history.batches != 1 else ''}"
        return (f"Under-trained: {batches} saw {_pixels(seen)} pixels, {_share(history.batches / needed)} of "
                f"what a useful model needs ({needed} batches of this size); the result stays flat and "
                "blurred. Train longer.")
    losses = [loss for loss in history.val_loss if loss is not None]
    if len(losses) >= 2 and losses[-2] > 0 and (losses[-2] - losses[-1]) / losses[-2] > STILL_FALLING:
        drop = 100 * (losses[-2] - losses[-1]) / losses[-2]
        return (f"Still improving: the validation loss fell {drop:.0f} % in the last epoch; "
                "more epochs would give a cleaner result.")
    return None


def _pixels(count: float) -> str:
    return f"{count / 1e6:.1f} M" if count >= 1e6 else f"{count / 1e3:.0f} k"


def _share(fraction: float) -> str:
    if fraction < 0.2:
        return "about a tenth" if fraction >= 0.05 else "a small part"
    return f"about {round(fraction * 10) * 10} %"
