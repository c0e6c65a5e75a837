"""The n2v (TensorFlow) training backend.

TensorFlow, csbdeep and n2v are imported inside the functions that need them,
so importing this module is cheap.  The network, loss, blind-spot masking
(``N2V_DataWrapper``, including StructN2V's mask) and checkpoints are n2v's;
this module only replaces ``N2V.train``, which hard-codes ``fit(verbose=1)``,
prints, and needs every augmented patch in memory, with the same steps:
a data wrapper whose sampler rotates and flips patches on the fly, validation
patches masked like the training ones, and ``fit(verbose=0)`` with a callback
that reports to a :class:`~engine.n2v.monitor.TrainingMonitor`.  StructN2V's
hidden neighbours are filled with nearby pixels instead of n2v's uniform
random values (see :func:`hide_neighbours`): those biased the output.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import warnings
from importlib.metadata import version
from collections.abc import Callable
from pathlib import Path

import numpy as np

from et_denoise.engine.errors import ModelError
from et_denoise.engine.jobs import default_workers
from et_denoise.engine.n2v.backend import Backend, BackendModel
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import TrainingData
from et_denoise.engine.n2v.masks import apply_symmetry, symmetries
from et_denoise.engine.n2v.monitor import TrainingMonitor

WEIGHTS = "weights_best.h5"
CONFIG = "config.json"
_tensorflow_configured = False


def tensorflow():
    """Import TensorFlow once, quietly, using one thread per core."""
    global _tensorflow_configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if not _tensorflow_configured:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(default_workers())
            tf.config.threading.set_inter_op_parallelism_threads(default_workers())
        except RuntimeError:  # TensorFlow already ran: its thread pools are fixed
            pass
        tf.get_logger().setLevel("ERROR")
        _tensorflow_configured = True
    return tf


@contextlib.contextmanager
def quiet():
    """Swallow n2v's prints, progress bars and warnings.

    Also gives them a stream to write to when the app runs without a console
    (``sys.stdout is None`` in a windowed frozen build).
    """
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _n2v_config(data: TrainingData, params: N2VParams, mask: np.ndarray | None, steps_per_epoch: int):
    from n2v.models import N2VConfig

    return N2VConfig(
        data.train,
        means=[repr(data.mean)], stds=[repr(data.std)],
        unet_n_depth=params.unet_depth, unet_n_first=params.unet_filters, unet_kern_size=params.kernel_size,
        train_epochs=params.epochs, train_steps_per_epoch=steps_per_epoch,
        train_batch_size=params.batch_size, train_learning_rate=params.learning_rate,
        train_tensorboard=False, train_reduce_lr={"factor": 0.5, "patience": 10, "verbose": 0},
        n2v_perc_pix=_perc_pix(params), n2v_patch_shape=(params.patch_size,) * params.ndim,
        n2v_manipulator=params.manipulator, n2v_neighborhood_radius=params.neighborhood_radius,
        structN2Vmask=None if mask is None else mask.tolist(),
        blurpool=params.blur_pool, skip_skipone=not params.top_skip,
    )


def _perc_pix(params: N2VParams) -> float:
    """n2v's ``perc_pix`` that gives one blind spot per :attr:`~N2VParams.blind_spot_box` (2-D and 3-D)."""
    return 100 / params.blind_spot_box**2


def _manipulator(params: N2VParams):
    from n2v.utils import n2v_utils

    return getattr(n2v_utils, f"pm_{params.manipulator}")(params.neighborhood_radius)


def _training_sequence(data: TrainingData, params: N2VParams, mask: np.ndarray | None, length: int):
    """n2v's data wrapper, sampling each patch under a random symmetry of the mask."""
    from n2v.internals.N2V_DataWrapper import N2V_DataWrapper

    transforms = symmetries(mask) if params.augment else ((0, False),)
    # YX axes of one patch (..., Y, X, channel); np.random is the generator n2v uses.
    axes = (-3, -2)

    def sample(X, X_Batches, indices, range, shape):  # n2v's sampler signature; patches already have `shape`
        for i, j in enumerate(indices):
            X_Batches[i] = apply_symmetry(X[j], transforms[np.random.randint(len(transforms))], axes)

    with quiet():
        # The wrapper builds targets from X alone; its Y argument is stored but never read.
        sequence = N2V_DataWrapper(data.train, data.train, batch_size=params.batch_size, length=length,
                                   perc_pix=_perc_pix(params), shape=(params.patch_size,) * params.ndim,
                                   value_manipulation=_manipulator(params),
                                   structN2Vmask=None if mask is None else mask.copy())
    sequence.patch_sampler = sample
    sequence.apply_structN2Vmask = hide_neighbours
    return sequence


def _as_dataset(sequence, params: N2VParams):
    """The training batches as a ``tf.data`` pipeline without autotuning.

    Given the plain iterator, Keras builds the pipeline itself with tf.data's
    autotuning on, whose optimisation thread sleeps up to about ten seconds
    between rounds, and destroying the pipeline at the end of ``fit`` waited
    for it: every training ended some 10 s after its last epoch.  Each batch is
    copied, as the wrapper refills the same arrays.
    """
    tf = tensorflow()
    shape = (None, *(params.patch_size,) * params.ndim)

    def batches():
        for x, y in sequence:
            yield x.copy(), y.copy()

    dataset = tf.data.Dataset.from_generator(batches, output_signature=(
        tf.TensorSpec(shape=(*shape, 1), dtype=tf.float32), tf.TensorSpec(shape=(*shape, 2), dtype=tf.float32)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options).prefetch(1)


def hide_neighbours(patch: np.ndarray, coords: tuple, dims: int, mask: np.ndarray) -> None:
    """Hide the StructN2V neighbours of each blind spot under pixels of the same patch from just outside the mask.

    Replaces n2v's ``N2V_DataWrapper.apply_structN2Vmask`` (same signature;
    ``patch`` is changed in place, ``coords`` holds one array of blind-spot
    positions per axis).  Each hidden neighbour takes the value of a pixel
    drawn at random near its blind spot (within two pixels of the mask's
    bounding box) but outside the mask, so it carries the local signal and
    none of the blind spot's correlated noise.

    Notes
    -----
    n2v fills hidden neighbours with uniform random values in [-2, 2]
    (normalised units, i.e. around the image's mean).  At 1 % blind spots a
    3×3 mask replaces 9 % of each patch, a 7×7 one 49 %, with values pulled
    towards the mean: the network learns to undo that pull, and at
    prediction, where nothing is replaced, it overshoots.  On a real ET slice
    (0-255) after 200 steps with a 3×3 mask the mean of flat background rose
    by 9.8 grey levels (3.9 % of the range) with n2v's filling and by 1.8
    (0.7 %) with this one; contrast rose from 0.59 to 0.68 of the input's.

    References
    ----------
    Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020).
    Removing structured noise with self-supervised blind-spot networks. ISBI 2020, 159-163.
    """
    offsets = _hidden_offsets(mask)
    if len(offsets) == 0:
        return
    spots = np.stack([np.asarray(c, dtype=np.int64) for c in coords], axis=1)  # (n, dims)
    outside = _fill_offsets(mask)
    targets = (spots[:, None, :] + offsets[None]).reshape(-1, dims)
    sources = np.repeat(spots, len(offsets), axis=0) + outside[np.random.randint(len(outside), size=len(targets))]
    last = np.array(patch.shape[:dims]) - 1
    values = patch[tuple(np.clip(sources, 0, last).T)]  # read before writing: no fill copies another
    patch[tuple(np.clip(targets, 0, last).T)] = values


def _hidden_offsets(mask: np.ndarray) -> np.ndarray:
    """Offsets of the mask's 1s from its centre, the centre itself left out."""
    offsets = np.argwhere(np.asarray(mask) > 0) - np.array(mask.shape) // 2
    return offsets[np.any(offsets != 0, axis=1)]


def _fill_offsets(mask: np.ndarray) -> np.ndarray:
    """Offsets within two pixels of the mask's bounding box that lie outside the mask (and off the centre)."""
    reach = np.array(mask.shape) // 2 + 2
    window = np.argwhere(np.ones(2 * reach + 1, dtype=bool)) - reach
    footprint = np.zeros(2 * reach + 1, dtype=bool)
    footprint[tuple(slice(r - m // 2, r + m // 2 + 1) for r, m in zip(reach, mask.shape))] = np.asarray(mask) > 0
    footprint[tuple(reach)] = True
    return window[~footprint[tuple((window + reach).T)]]


def _validation_pair(data: TrainingData, params: N2VParams, mask: np.ndarray | None, sequence):
    """Validation input and target with blind spots, masked the way training patches are.

    n2v's ``manipulate_val_data`` hides only the blind spots; the StructN2V
    neighbours are hidden here too, or the validation loss would reward the
    identity that the mask exists to prevent.
    """
    from n2v.utils import n2v_utils

    x = data.validation.copy()
    y = np.concatenate((x, np.zeros_like(x)), axis=-1)
    with quiet():
        n2v_utils.manipulate_val_data(x, y, perc_pix=_perc_pix(params), shape=x.shape[1:-1],
                                      value_manipulation=_manipulator(params))
    if mask is not None:
        for j in range(len(x)):
            spots = np.nonzero(y[j, ..., 1])
            sequence.apply_structN2Vmask(x[j, ..., 0], spots, params.ndim, mask.copy())
    return x, y


def _monitor_callback(monitor: TrainingMonitor, network: N2VModel):
    """A Keras callback that reports to ``monitor`` and stops training when it says so.

    ``network`` wraps the model being trained; the monitor may preview with it after each epoch.
    """
    tf = tensorflow()

    class MonitorCallback(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            monitor.start()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            self.learning_rate = float(tf.keras.backend.get_value(self.model.optimizer.learning_rate))
            if monitor.batch_done(self.epoch, batch + 1, float(logs["loss"]), self.learning_rate):
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if monitor.epoch_done(epoch + 1, logs["loss"], logs.get("val_loss"), self.learning_rate, network):
                self.model.stop_training = True

    return MonitorCallback()


def _best_weights_callback():
    """A Keras callback that keeps, in memory, the weights of the epoch with the lowest validation loss
    (what n2v's ``ModelCheckpoint(save_best_only=True)`` writes to disk); ``weights`` stays None until one is seen."""
    tf = tensorflow()

    class BestWeights(tf.keras.callbacks.Callback):
        weights = None
        lowest = math.inf

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("val_loss")
            if loss is not None and loss < self.lowest:  # False for NaN, as in ModelCheckpoint
                self.lowest = loss
                self.weights = self.model.get_weights()

    return BestWeights()


def _cosine_schedule(initial: float, fraction: Callable[[int], float]):
    """A Keras callback that lowers the learning rate along half a cosine, from ``initial`` to 0 when
    ``fraction(batches done)`` reaches 1: at the last planned step, or when a time budget runs out
    (Loshchilov & Hutter 2017, SGDR, without restarts)."""
    tf = tensorflow()

    class CosineSchedule(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.step = 0

        def on_train_batch_begin(self, batch, logs=None):
            fraction_done = min(fraction(self.step), 1.0)
            tf.keras.backend.set_value(self.model.optimizer.learning_rate,
                                       initial * 0.5 * (1.0 + math.cos(math.pi * fraction_done)))
            self.step += 1

    return CosineSchedule()


class N2VModel(BackendModel):
    """An ``n2v.models.N2V`` whose Keras network predicts normalised tiles.

    A network still training (``live=True``) predicts with its weights of the
    moment (the per-epoch preview); a finished one predicts with a copy whose
    batch normalisations are folded into the convolutions
    (:func:`~engine.n2v.folded_network.fold_batch_norms`).  Both run as a traced
    graph rather than Keras' eager call, which spares its per-layer overhead.
    """

    def __init__(self, model, *, live: bool = False) -> None:
        self.n2v_model = model
        self._live = live
        self._compiled = None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self._compiled is None:
            from et_denoise.engine.n2v.folded_network import fold_batch_norms

            network = self.n2v_model.keras_model
            if not self._live:
                network = fold_batch_norms(network) or network
            self._compiled = tensorflow().function(lambda x: network(x, training=False), reduce_retracing=True)
        out = self._compiled(batch[..., np.newaxis])
        return np.asarray(out, dtype=np.float32)[..., 0]

    def save(self, folder: Path) -> None:
        """Write n2v's configuration and the weights (an HDF5 file built in memory, then written as bytes).

        HDF5 writing straight to a full disk prints a traceback per failed
        block and can crash the process; built in memory, the file reaches
        the disk by one ordinary write, whose failure is a plain ``OSError``.
        """
        import h5py
        from csbdeep.utils import save_json
        from keras.src.saving.legacy import hdf5_format  # what save_weights(".h5") calls, in Keras 2.15

        save_json(vars(self.n2v_model.config), str(folder / CONFIG))
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as weights:
            hdf5_format.save_weights_to_hdf5_group(weights, self.n2v_model.keras_model)
        (folder / WEIGHTS).write_bytes(buffer.getbuffer())


class N2VBackend(Backend):
    """Noise2Void and StructN2V with the ``n2v`` library (Krull et al. 2019; Broaddus et al. 2020)."""

    name = "n2v"

    def train(self, data: TrainingData, params: N2VParams, mask: np.ndarray | None, steps_per_epoch: int,
              monitor: TrainingMonitor) -> N2VModel:
        tf = tensorflow()
        from n2v.models import N2V

        tf.keras.utils.set_random_seed(params.seed)
        config = _n2v_config(data, params, mask, steps_per_epoch)
        with tempfile.TemporaryDirectory(prefix="et-denoise-n2v-") as workdir:
            with quiet():
                model = N2V(config, name="model", basedir=workdir)
                model.prepare_for_training()
            # The monitor replaces TerminateOnNaN: it stops on NaN too, and the caller explains why.
            # The cosine schedule replaces n2v's ReduceLROnPlateau.  The best weights are kept in
            # memory instead of n2v's HDF5 checkpoints: on a full disk those print a traceback per
            # failed block and crash the process.
            replaced = (tf.keras.callbacks.TerminateOnNaN, tf.keras.callbacks.ModelCheckpoint)
            if params.lr_schedule == "cosine":
                replaced += (tf.keras.callbacks.ReduceLROnPlateau,)
            callbacks = [c for c in model.callbacks if not isinstance(c, replaced)]
            if params.lr_schedule == "cosine":
                callbacks.append(_cosine_schedule(params.learning_rate, monitor.fraction))
            network = N2VModel(model, live=True)
            best = _best_weights_callback()
            callbacks += [best, _monitor_callback(monitor, network)]
            sequence = _training_sequence(data, params, mask, length=steps_per_epoch * params.epochs)
            validation = _validation_pair(data, params, mask, sequence)
            # verbose=0 and the callbacks' own verbose=0: nothing is printed while training.
            model.keras_model.fit(_as_dataset(sequence, params), validation_data=validation, epochs=params.epochs,
                                  steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=0)
            if best.weights is not None:
                model.keras_model.set_weights(best.weights)
            model.basedir = None  # the folder is temporary: nothing of it may be used later
        return N2VModel(model)

    def load(self, folder: Path, params: N2VParams) -> N2VModel:
        # Keras keeps every model built in its global state: without a clear, each load grew
        # memory by 2 MB.  Networks built before keep working (all run on the network thread).
        tensorflow().keras.backend.clear_session()
        from n2v.models import N2V

        for name in (CONFIG, WEIGHTS):
            if not (folder / name).is_file():
                raise ModelError(f"{folder}: not a complete model folder ({name} is missing)")
        try:
            with quiet():
                model = N2V(None, name=folder.name, basedir=str(folder.parent))  # loads weights_best.h5
        except Exception as error:  # h5py, JSON and Keras errors: all mean a damaged folder
            raise ModelError(f"{folder}: the model cannot be loaded ({type(error).__name__}: {error})") from None
        return N2VModel(model)

    def receptive_radius(self, params: N2VParams) -> int:
        # n2v's U-Net: two convolutions per level down and up, two in the middle,
        # of width params.kernel_size; pooling and upsampling add one step per level.
        half = params.kernel_size // 2
        levels = 2**params.unet_depth
        return (4 * half + 2) * (levels - 1) + 2 * half * levels

    def versions(self) -> dict:
        return {"n2v": version("n2v"), "tensorflow": tensorflow().__version__}
