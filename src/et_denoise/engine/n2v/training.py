"""Train a Noise2Void / StructN2V model on one or several images."""

from __future__ import annotations

import math
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np

from et_denoise.engine.errors import ImageError, ModelError
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v.backend import get_backend
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import make_training_data
from et_denoise.engine.n2v.model import TrainedModel, denoise_with
from et_denoise.engine.n2v.monitor import StopReason, TrainingEvent, TrainingMonitor
from et_denoise.engine.n2v.network_thread import runs_on_network_thread
from et_denoise.engine.n2v.speed import StepSpeed, batches_needed, choose_width

MIN_AUTO_STEPS, MAX_AUTO_STEPS = 10, 400


def auto_steps_per_epoch(n_patches: int, params: N2VParams) -> int:
    """One pass over the training patches in all their augmented orientations, within 10 to 400 batches.

    With a network width chosen (``unet_filters`` > 0), never fewer than the
    epochs need together to reach :func:`~engine.n2v.speed.batches_needed`:
    the few 3-D patches of a stack made 29 batches an epoch, and 10 epochs
    stopped 8 filters after 290 batches, 2.5 minutes into a 10-minute budget.
    """
    from et_denoise.engine.n2v.masks import symmetries

    orientations = len(symmetries(params.blind_spot_mask)) if params.augment else 1
    one_pass = math.ceil(n_patches * orientations / params.batch_size)
    enough = math.ceil(batches_needed(params) / params.epochs) if params.unet_filters else 0
    return min(max(one_pass, enough, MIN_AUTO_STEPS), MAX_AUTO_STEPS)


@runs_on_network_thread
def train(
    images: Sequence[np.ndarray],
    params: N2VParams | None = None,
    *,
    progress: Callable[[TrainingEvent], None] | None = None,
    cancel: CancelToken | None = None,
    model_dir: str | Path | None = None,
    backend: str = "n2v",
    preview: np.ndarray | None = None,
    speed: StepSpeed | None = None,
) -> TrainedModel:
    """Train a Noise2Void network, or StructN2V with a blind-spot mask, on noisy images alone.

    Parameters
    ----------
    images : sequence of ndarray
        Noisy 2-D images and/or 3-D volumes (Z, Y, X), each at least one patch
        in size.  2-D mode uses every plane of a volume; 3-D mode needs volumes.
    params : N2VParams, optional
        Training parameters; defaults when omitted (StructN2V, ``horizontal:11``).
    progress : callable, optional
        ``progress(event)`` with a :class:`~engine.n2v.monitor.TrainingEvent`
        after every batch and every epoch, called on the training thread.
    cancel : CancelToken, optional
        Releases the call while it waits for the network thread, is checked
        while patches are cut (raising :class:`~engine.errors.Cancelled`)
        and after every batch: a Stop during training ends it after the current
        batch and one validation pass, and the model so far is returned with
        ``history.stopped`` set to ``StopReason.CANCELLED``.
    model_dir : str or Path, optional
        Also save the trained model to this folder (see :meth:`TrainedModel.save`).
    backend : str
        Training backend; only ``"n2v"`` (TensorFlow) exists so far.
    preview : ndarray, optional
        An image to watch training on (a 2-D slice for a 2-D model, a volume
        for a 3-D one): after every epoch it is denoised with the weights of
        that moment and sent in the EPOCH event's ``preview``.
    speed : StepSpeed, optional
        A training speed measured on this machine, from which a width of 0
        (auto) is chosen (:func:`~engine.n2v.speed.choose_width`); default a
        2-core CPU's.

    Returns
    -------
    TrainedModel
        With the weights of the epoch with the lowest validation loss; its
        ``params`` hold the width trained.

    Raises
    ------
    ImageError
        Unusable images (see :func:`engine.n2v.data.check_training_images`).
    ModelError
        The loss became NaN (training diverged), or saving failed.
    Cancelled
        Stop was pressed before training began.

    Notes
    -----
    Noise2Void (Krull et al. 2019) hides pixels of noisy patches and trains a
    U-Net to predict them from their surroundings; because noise that is
    independent from pixel to pixel cannot be predicted, the network learns
    the signal.  Tomogram noise is correlated along X, so its neighbours do
    predict it and plain N2V learns the identity; StructN2V (Broaddus et al.
    2020) hides those neighbours too (``params.mask``).  Augmentation uses
    only rotations and flips under which the mask is unchanged.  ``params.seed``
    seeds the global random generators of NumPy, Python and TensorFlow, which
    n2v draws from.  Training runs on the network thread
    (:mod:`engine.n2v.network_thread`), whichever thread calls it; ``progress``
    is called there.

    References
    ----------
    .. [1] Krull, A., Buchholz, T.-O. & Jug, F. (2019). Noise2Void - learning
       denoising from single noisy images. CVPR 2019, 2129-2137.
    .. [2] Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020).
       Removing structured noise with self-supervised blind-spot networks.
       ISBI 2020, 159-163.

    Examples
    --------
    >>> params = N2VParams(patch_size=32, epochs=2, steps_per_epoch=5, unet_filters=8)  # doctest: +SKIP
    >>> model = train([noisy], params, progress=print)                                  # doctest: +SKIP
    >>> denoised = model.predict(noisy)                                                 # doctest: +SKIP
    """
    params = choose_width(params if params is not None else N2VParams(), speed)
    mask = params.blind_spot_mask
    data = make_training_data(images, params, cancel)
    if cancel is not None:
        cancel.check()
    steps = params.steps_per_epoch or auto_steps_per_epoch(len(data.train), params)
    watch = None
    if preview is not None:
        preview = np.asarray(preview, dtype=np.float32)
        if preview.ndim != params.ndim or not np.isfinite(preview).all():
            raise ImageError(f"the preview must be a finite {params.ndim}-D image, got shape {preview.shape}")

        def watch(network):
            return denoise_with(network, preview, params=params, mask=mask, mean=data.mean, std=data.std,
                                backend=backend)

    monitor = TrainingMonitor(params.epochs, steps, progress, cancel, watch, budget_s=60 * params.minutes)
    engine = get_backend(backend)
    network = engine.train(data, params, mask, steps, monitor)
    history = monitor.history
    if history.stopped is StopReason.NOT_A_NUMBER:
        epoch, batch = monitor.where
        raise ModelError(f"training diverged: the loss became NaN in epoch {epoch}, batch {batch}; "
                         "lower the learning rate")
    model = TrainedModel(params, mask, data.mean, data.std, history, network, backend)
    if model_dir is not None:
        model.save(model_dir)
    return model
