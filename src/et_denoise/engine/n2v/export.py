"""Export a trained model to the bioimage.io model zoo format.

n2v 0.3.3's own ``N2V.export_TF`` calls ``bioimageio.core.build_spec``, which
bioimageio.core removed in 0.6; this module writes the same package (a
TensorFlow SavedModel with n2v's configuration, test tensors, normalisation as
pre- and post-processing) with the installed ``bioimageio.spec`` (format 0.5)
instead.  Both libraries are imported only when a model is exported.

The package validates with bioimageio.spec and its SavedModel reproduces the
test output; bioimageio.core 0.11 itself cannot run it with TensorFlow 2.15
(its TensorFlow adapter needs Keras 3's ``TFSMLayer``, TensorFlow >= 2.16).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from et_denoise.engine.errors import ImageError, ModelError
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v.model import TrainedModel
from et_denoise.engine.n2v.n2v_backend import N2VModel, tensorflow
from et_denoise.engine.n2v.network_thread import runs_on_network_thread

# Side of the test tensor: big enough to show denoising, small enough to test quickly.
TEST_SIDE = 128

CITATIONS = {
    "n2v": ("A. Krull, T.-O. Buchholz and F. Jug, \"Noise2Void - Learning Denoising From Single Noisy Images\", "
            "CVPR 2019, pp. 2129-2137", "10.1109/CVPR.2019.00223"),
    "structn2v": ("C. Broaddus, A. Krull, M. Weigert, U. Schmidt and G. Myers, \"Removing Structured Noise with "
                  "Self-Supervised Blind-Spot Networks\", ISBI 2020, pp. 159-163", "10.1109/ISBI45749.2020.9098336"),
}


def _test_crop(model: TrainedModel, image: np.ndarray) -> np.ndarray:
    """A centred crop whose sides are multiples of the network's, so no padding is involved."""
    image = np.asarray(image, dtype=np.float32)
    if model.params.ndim == 2 and image.ndim == 3:
        image = image[len(image) // 2]
    if image.ndim != model.params.ndim:
        raise ImageError(f"the test image must be {model.params.ndim}-D for this model, got shape {image.shape}")
    multiple = 2**model.params.unet_depth
    sides = [min(n, TEST_SIDE) // multiple * multiple for n in image.shape]
    if min(sides) == 0:
        raise ImageError(f"the test image {image.shape} is smaller than {multiple} pixels")
    return image[tuple(slice((n - s) // 2, (n - s) // 2 + s) for n, s in zip(image.shape, sides))]


def _documentation(model: TrainedModel, name: str) -> str:
    p = model.params
    method = "StructN2V" if model.mask is not None else "Noise2Void"
    return (f"# {name}\n\n{method} denoising network trained with ET Denoise on the n2v library.\n\n"
            f"- mode: {p.mode}, patch {p.patch_size}, U-Net depth {p.unet_depth}, {p.unet_filters} filters\n"
            f"- blind-spot mask: {p.mask}\n- epochs: {len(model.history.loss)}, final validation loss "
            f"{model.history.val_loss[-1] if model.history.val_loss else 'n/a'}\n"
            f"- normalisation: mean {model.mean:.6g}, std {model.std:.6g} (applied as pre-/post-processing)\n")


@runs_on_network_thread
def export_bioimageio(
    model: TrainedModel,
    path: str | Path,
    test_image: np.ndarray,
    *,
    name: str = "ET Denoise Noise2Void",
    description: str = "Self-supervised denoising of electron tomograms (Noise2Void / StructN2V).",
    authors: Sequence[str] = ("ET Denoise user",),
    cancel: CancelToken | None = None,
) -> Path:
    """Write a bioimage.io model package (``.zip``) that other tools can run.

    Parameters
    ----------
    model : TrainedModel
        A model trained with the n2v backend.
    path : str or Path
        The package file to write, conventionally ``NAME.bioimage.io.zip``.
    test_image : ndarray
        An image like the training data; a centred crop of at most 128 pixels
        a side (the middle plane of a volume for a 2-D model) becomes the
        package's test input, and the model's output on it the test output.
    name, description : str
        Shown in the model zoo.
    authors : sequence of str
        Author names.
    cancel : CancelToken, optional
        Releases the call while it waits for the network thread and is checked
        while the test output is predicted (raising :class:`~engine.errors.Cancelled`).

    Returns
    -------
    Path
        The package written.

    Raises
    ------
    ModelError
        The model is not an n2v model, or the package does not validate.
    ImageError
        The test image does not suit the model.

    Notes
    -----
    The package holds a TensorFlow SavedModel (channels last: batch, [z,] y, x,
    channel), fixed zero-mean unit-variance pre-processing with the model's
    mean and standard deviation, and the inverse linear scaling as
    post-processing, like n2v's own export.  Runs on the network thread
    (:mod:`engine.n2v.network_thread`), whichever thread calls it.
    """
    if not isinstance(model.network, N2VModel):
        raise ModelError("only models trained with the n2v backend can be exported to bioimage.io")
    crop = _test_crop(model, test_image)
    expected = model.predict(crop, cancel=cancel, flips=False)  # the package's network predicts in one pass
    tensorflow()
    from bioimageio.spec import save_bioimageio_package
    from bioimageio.spec.model import v0_5 as spec
    from n2v.utils.export_utils import save_model_tf

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="et-denoise-export-") as folder:
        folder = Path(folder)
        weights = save_model_tf(model=model.network.n2v_model.keras_model, config=model.network.n2v_model.config,
                                model_path=folder / "tf_model.zip", config_path=folder / "config.json")
        np.save(folder / "test_input.npy", crop[np.newaxis, ..., np.newaxis])
        np.save(folder / "test_output.npy", expected[np.newaxis, ..., np.newaxis])
        (folder / "README.md").write_text(_documentation(model, name))

        space = "zyx"[-model.params.ndim:]
        multiple = 2**model.params.unet_depth
        input_id, output_id = spec.TensorId("input"), spec.TensorId("output")
        channel = spec.ChannelAxis(channel_names=[spec.Identifier("intensity")])
        input_axes = [spec.BatchAxis(),
                      *(spec.SpaceInputAxis(id=spec.AxisId(a), size=spec.ParameterizedSize(min=multiple, step=multiple))
                        for a in space), channel]
        output_axes = [spec.BatchAxis(),
                       *(spec.SpaceOutputAxis(id=spec.AxisId(a), size=spec.SizeReference(tensor_id=input_id,
                                                                                      axis_id=spec.AxisId(a)))
                         for a in space), channel]
        cite = [spec.CiteEntry(text=text, doi=spec.Doi(doi)) for key, (text, doi) in CITATIONS.items()
                if key == "n2v" or model.mask is not None]
        try:
            descr = spec.ModelDescr(
                name=name, description=description,
                authors=[spec.Author(name=a) for a in authors], cite=cite, license=spec.LicenseId("BSD-3-Clause"),
                documentation=spec.FileDescr(source=folder / "README.md"),
                tags=["denoising", "electron-tomography", f"{model.params.ndim}d", "unet", "tensorflow",
                      "structn2v" if model.mask is not None else "noise2void"],
                inputs=[spec.InputTensorDescr(
                    id=input_id, axes=input_axes, test_tensor=spec.FileDescr(source=folder / "test_input.npy"),
                    preprocessing=[spec.FixedZeroMeanUnitVarianceDescr(
                        kwargs=spec.FixedZeroMeanUnitVarianceKwargs(mean=model.mean, std=model.std))])],
                outputs=[spec.OutputTensorDescr(
                    id=output_id, axes=output_axes, test_tensor=spec.FileDescr(source=folder / "test_output.npy"),
                    postprocessing=[spec.ScaleLinearDescr(
                        kwargs=spec.ScaleLinearKwargs(gain=model.std, offset=model.mean))])],
                weights=spec.WeightsDescr(tensorflow_saved_model_bundle=spec.TensorflowSavedModelBundleWeightsDescr(
                    source=weights, tensorflow_version=spec.Version(tensorflow().__version__))),
                attachments=[spec.FileDescr(source=folder / "config.json")],
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            return Path(save_bioimageio_package(descr, output_path=path))
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            raise ModelError(f"the bioimage.io description does not validate: {error}") from None
