"""A trained Noise2Void model: prediction, and the model folder it is saved in.

Model folder layout::

    MODEL/
        metadata.json      ours: format, parameters, normalisation, loss history, versions
        mask.txt           the blind-spot mask as 0/1 rows (StructN2V only; a valid mask file)
        config.json        the backend's configuration (n2v's N2VConfig)
        weights_best.h5    the backend's weights (n2v/Keras HDF5)

n2v can open the folder itself (``N2V(None, name="MODEL", basedir=PARENT)``):
its ``config.json`` carries the same normalisation as ``metadata.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from et_denoise import DISTRIBUTION, __version__
from et_denoise.engine.errors import ImageError, ModelError, ParameterError
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.io.partial_files import staging_folder
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.validation import check_image
from et_denoise.engine.n2v.backend import BackendModel, get_backend
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.masks import flip_symmetries, is_preset, mask_to_text, preset_of
from et_denoise.engine.n2v.monitor import History
from et_denoise.engine.n2v.network_thread import runs_on_network_thread
from et_denoise.engine.n2v.tiling import prediction_bytes, predict_tiled

METADATA = "metadata.json"
MASK = "mask.txt"
FORMAT = "et-denoise-n2v"
FORMAT_VERSION = 1


def denoise_with(network: BackendModel, image: np.ndarray, *, params: N2VParams, mask: np.ndarray | None,
                 mean: float, std: float, backend: str, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None, tile_shape=None, flips: bool | None = None) -> np.ndarray:
    """Normalise ``image`` as in training, predict it tile by tile with ``network`` and scale it back.

    The shared core of :meth:`TrainedModel.predict` and of the per-epoch
    preview during training (which runs with the weights of the moment).
    With ``flips`` (default: ``params.test_time_flips``), the predictions of
    the image flipped by each of :func:`~engine.n2v.masks.flip_symmetries` of
    ``mask`` (the parsed blind-spot mask), flipped back, are averaged.  Raises :class:`~engine.errors.ImageError`,
    naming both sizes, before anything is allocated when that would not fit
    in the memory available.
    """
    margin, multiple = get_backend(backend).receptive_radius(params), 2**params.unet_depth
    flips = flip_symmetries(mask, params.ndim) if (
        params.test_time_flips if flips is None else flips) else ((),)
    averaged = len(flips) > 1
    require_memory(prediction_bytes(image.shape, ndim=params.ndim, margin=margin, multiple=multiple,
                                    filters=params.unet_filters, tile_shape=tile_shape) + 4 * averaged * image.size,
                   f"to denoise this {'×'.join(map(str, image.shape))} image with the network "
                   f"(a float32 copy, the result{', the sum over flips' if averaged else ''} and one tile's activations)")
    normalised = image.astype(np.float32)  # a copy, normalised in place to spare memory
    normalised -= np.float32(mean)
    normalised /= np.float32(std)
    out = None
    for index, axes in enumerate(flips):
        report = None if progress is None else (lambda fraction, index=index: progress((index + fraction) / len(flips)))
        part = predict_tiled(network.predict, np.flip(normalised, axes) if axes else normalised, ndim=params.ndim,
                             margin=margin, multiple=multiple, filters=params.unet_filters, tile_shape=tile_shape,
                             progress=report, cancel=cancel)
        part = np.flip(part, axes) if axes else part
        if out is None:
            out = part
        else:
            out += part
    if averaged:
        out /= np.float32(len(flips))
    out *= np.float32(std)
    out += np.float32(mean)
    return out


@dataclass(eq=False)
class TrainedModel:
    """A network with everything needed to apply it to new images.

    Attributes
    ----------
    params : N2VParams
        The parameters it was trained with.
    mask : ndarray or None
        The blind-spot mask (None for plain N2V).
    mean, std : float
        Normalisation of the training data, applied to images before the
        network and undone after it.
    history : History
        Per-epoch losses and learning rates, and why training stopped early (if it did).
    network : BackendModel
        The backend's network.
    backend : str
        Name of the backend that trained it.
    """

    params: N2VParams
    mask: np.ndarray | None
    mean: float
    std: float
    history: History
    network: BackendModel
    backend: str = "n2v"

    def shown_values(self) -> dict[str, str]:
        """How the parameters that the saved ones misstate read for people (for :func:`~engine.describe.describe_params`).

        A mask read from a file is named by its preset when it equals one, by
        its shape otherwise (never by the file's path); when training stopped
        early, the epochs read "2 of 10".

        Examples
        --------
        >>> model = TrainedModel(N2VParams(epochs=10), None, 0.0, 1.0, History(loss=[0.3, 0.2]), None, "n2v")
        >>> model.shown_values()
        {'epochs': '2 of 10'}
        """
        shown = {}
        if not is_preset(self.params.mask):
            preset = preset_of(self.mask)
            shown["mask"] = (f"{preset[0]}:{preset[1]}" if preset is not None
                             else "custom " + "×".join(map(str, self.mask.shape)))
        trained = len(self.history.loss)
        if trained != self.params.epochs:
            shown["epochs"] = f"{trained} of {self.params.epochs}"
        return shown

    @runs_on_network_thread(abandon=True)
    def predict(
        self,
        image: np.ndarray,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        tile_shape: int | tuple[int, ...] | None = None,
        flips: bool | None = None,
    ) -> np.ndarray:
        """Denoise an image or volume.

        Parameters
        ----------
        image : ndarray, shape (Y, X) or (Z, Y, X)
            A 2-D model denoises a volume plane by plane; a 3-D model needs a volume.
        progress : callable, optional
            ``progress(fraction)`` after each batch of tiles; 1.0 exactly once at the end.
        cancel : CancelToken, optional
            Checked before each batch of tiles; raises :class:`~engine.errors.Cancelled`
            as soon as it is set, without waiting for the network call under way.
        tile_shape : int or tuple of int, optional
            Size of the part of the image each tile writes, along the model's
            axes; by default the largest that fits a fixed memory budget.
        flips : bool, optional
            Test-time augmentation: average the predictions of the image
            flipped along Y, X and both, each flipped back, over the flips
            that leave the blind-spot mask unchanged (see
            :func:`~engine.n2v.masks.flip_symmetries`): up to 4 times the time.
            Default: the model's ``params.test_time_flips``.

        Returns
        -------
        ndarray, float32
            The denoised image, same shape as ``image``.

        Notes
        -----
        Runs on the network thread (:mod:`engine.n2v.network_thread`), whichever
        thread calls it.

        Raises
        ------
        ImageError
            Not an image (see :func:`~engine.validation.check_image`), or a
            2-D image for a 3-D model.

        Examples
        --------
        >>> model = TrainedModel.load("my_model")            # doctest: +SKIP
        >>> denoised = model.predict(volume, tile_shape=256)  # doctest: +SKIP
        """
        image = check_image(image)
        if self.params.ndim == 3 and image.ndim != 3:
            raise ImageError(f"the model was trained in 3d and needs a 3-D volume, got shape {image.shape}")
        if tile_shape is not None and min(np.atleast_1d(tile_shape)) < 1:
            raise ParameterError(f"tile size must be positive, got {tile_shape}")
        return denoise_with(self.network, image, params=self.params, mask=self.mask, mean=self.mean, std=self.std,
                            backend=self.backend, progress=progress, cancel=cancel, tile_shape=tile_shape,
                            flips=flips)

    @runs_on_network_thread
    def save(self, folder: str | Path, *, cancel: CancelToken | None = None) -> Path:
        """Write the model folder (created if needed; a model already in it is replaced).

        The files are written into a hidden folder beside it, which replaces
        it only once complete (:func:`engine.io.partial_files.staging_folder`):
        if saving fails (a full disk), a model already there stays intact and
        nothing partial is left.  Other files in the folder are kept.

        Parameters
        ----------
        folder : str or Path
            The model folder.
        cancel : CancelToken, optional
            Releases the call while it waits for the network thread (raising
            :class:`~engine.errors.Cancelled`); saving itself is not interrupted.

        Returns
        -------
        Path
            The folder.
        """
        folder = Path(folder)
        try:
            with staging_folder(folder, owned=(MASK, METADATA)) as staging:
                self.network.save(staging)
                if self.mask is not None:
                    (staging / MASK).write_text(mask_to_text(self.mask))
                (staging / METADATA).write_text(json.dumps(self._metadata(), indent=2))
        except OSError as error:
            raise ModelError(f"cannot save the model to {folder} ({error.strerror or error}); "
                             "a model already there is kept as it was") from None
        return folder

    def _metadata(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "backend": self.backend,
            "versions": {DISTRIBUTION: __version__, **get_backend(self.backend).versions()},
            "params": self.params.as_dict(),
            "normalization": {"mean": self.mean, "std": self.std},
            "history": self.history.as_dict(),
        }

    @classmethod
    @runs_on_network_thread
    def load(cls, folder: str | Path, *, cancel: CancelToken | None = None) -> TrainedModel:
        """Read a model folder written by :meth:`save`.

        Parameters
        ----------
        folder : str or Path
            The model folder.
        cancel : CancelToken, optional
            Releases the call while it waits for the network thread (raising
            :class:`~engine.errors.Cancelled`); loading itself is not interrupted.

        Raises
        ------
        ModelError
            The folder is missing, is not a model folder, or is damaged.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelError(f"{folder}: no such model folder")
        path = folder / METADATA
        if not path.is_file():
            raise ModelError(f"{folder}: not an ET Denoise model folder ({METADATA} is missing)")
        try:
            meta = json.loads(path.read_text())
            if meta.get("format") != FORMAT:
                raise ModelError(f"{folder}: {METADATA} is not an ET Denoise model description")
            if meta.get("format_version", 0) > FORMAT_VERSION:
                raise ModelError(f"{folder}: the model was saved by a newer ET Denoise; update the app")
            spec = meta["params"]["mask"]
            # A mask read from a file travels as the folder's own copy of it.
            # Models saved before the kernel size and the flips were parameters have n2v's 2-D
            # default kernel, 5, and predict without flips, as they did.
            params = N2VParams(**{"unet_kernel": 5, "test_time_flips": False, **meta["params"],
                                  "mask": spec if is_preset(spec) else str(folder / MASK)})
            mean, std = float(meta["normalization"]["mean"]), float(meta["normalization"]["std"])
            if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
                raise ModelError(f"{folder}: the model's normalisation is damaged (mean {mean:g}, std {std:g}; "
                                 "the std must be a positive number)")
            history = History.from_dict(meta["history"])
            backend = meta["backend"]
        except ModelError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON, missing keys, invalid parameters or mask
            raise ModelError(f"{folder}: the model description is damaged ({type(error).__name__}: {error})") from None
        network = get_backend(backend).load(folder, params)
        return cls(params, params.blind_spot_mask, mean, std, history, network, backend)

