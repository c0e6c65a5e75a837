"""Training and validation patches for Noise2Void, cut from images or volumes.

Patches are cut on a grid that covers each image (the last row and column
are shifted inwards so nothing is left out), shuffled, split into training
and validation sets and normalised with one mean and standard deviation for
all images; the same two numbers normalise the images at prediction time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from collections.abc import Sequence

import numpy as np

from et_denoise.engine.errors import ImageError
from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.validation import check_image

# Validation runs over every validation patch at the end of each epoch; this
# bounds its cost (and the wait after a Stop) on large data sets.
MAX_VALIDATION_VOXELS = 2**20


@dataclass(frozen=True)
class TrainingData:
    """Normalised patches with a trailing channel axis, as n2v expects.

    Attributes
    ----------
    train, validation : ndarray, float32, shape (N, *patch, 1)
    mean, std : float
        Normalisation applied to the patches: ``(x - mean) / std``.
    """

    train: np.ndarray
    validation: np.ndarray
    mean: float
    std: float


def grid_starts(length: int, size: int) -> list[int]:
    """Start offsets of windows of ``size`` that cover ``length`` (the last one ends at the edge)."""
    starts = list(range(0, length - size + 1, size))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts


def patch_count(shape: tuple[int, ...], params: N2VParams) -> int:
    """Patches :func:`make_training_data` cuts from an image of ``shape`` (training and validation together).

    Raises
    ------
    ValueError
        ``shape`` has fewer axes than the mode needs, or is smaller than the patch.
    """
    if len(shape) < params.ndim or min(shape[-params.ndim:]) < params.patch_size:
        raise ValueError(f"an image of shape {tuple(shape)} gives no {params.patch_size}-pixel "
                         f"{params.ndim}-D patch")
    samples = math.prod(shape[:-params.ndim])
    return samples * math.prod(len(grid_starts(n, params.patch_size)) for n in shape[-params.ndim:])


def validation_count(n_patches: int, params: N2VParams) -> int:
    """Patches of ``n_patches`` held out for validation: the validation fraction, within bounds."""
    max_validation = max(1, MAX_VALIDATION_VOXELS // params.patch_size**params.ndim)
    return min(max(1, round(params.validation_fraction * n_patches)), max_validation, n_patches - 1)


def check_training_images(images: Sequence[np.ndarray], params: N2VParams) -> list[np.ndarray]:
    """Check that the images suit the training mode and patch size.

    Returns
    -------
    list of ndarray
        The images as arrays with the network's number of axes plus a leading
        axis of samples: (planes, Y, X) in 2-D mode, (1, Z, Y, X) in 3-D mode.

    Raises
    ------
    ImageError
        No image, wrong number of axes, NaN or infinite values, or an image
        smaller than the patch.
    """
    if len(images) == 0:
        raise ImageError("no image to train on")
    stacks = []
    for number, image in enumerate(images, start=1):
        image = check_image(image, name=f"training image {number}" if len(images) > 1 else "image")
        name = f"image {number}" if len(images) > 1 else "the image"
        if params.ndim == 3 and image.ndim != 3:
            raise ImageError(f"{name} has shape {image.shape}; 3d training needs a 3-D volume (Z, Y, X)")
        spatial = image.shape[-params.ndim:]
        if min(spatial) < params.patch_size:
            raise ImageError(f"{name} ({' x '.join(map(str, spatial))} pixels) is smaller than the training patch "
                             f"({params.patch_size} pixels): choose a smaller patch size")
        stacks.append(image.reshape((-1,) + spatial))
    return stacks


def normalisation(stacks: Sequence[np.ndarray]) -> tuple[float, float]:
    """Mean and standard deviation over all pixels of all images (float64 sums)."""
    count = sum(s.size for s in stacks)
    planes = [plane for s in stacks for plane in s.reshape((-1,) + s.shape[-2:])]
    mean = sum(float(np.sum(plane, dtype=np.float64)) for plane in planes) / count
    # Plane by plane: a float64 copy of a whole volume would need twice its float32 size.
    variance = sum(float(np.sum((plane.astype(np.float64) - mean) ** 2)) for plane in planes) / count
    std = variance**0.5
    if not std > 0:
        raise ImageError("the training images are constant: there is no noise to learn from")
    return mean, std


def cut_patches(stack: np.ndarray, size: int) -> np.ndarray:
    """All grid patches of side ``size`` of every sample of ``stack`` (samples first)."""
    spatial = stack.shape[1:]
    corners = list(product(*(grid_starts(n, size) for n in spatial)))
    patches = np.empty((len(stack) * len(corners),) + (size,) * len(spatial), dtype=np.float32)
    index = 0
    for sample in stack:
        for corner in corners:
            patches[index] = sample[tuple(slice(c, c + size) for c in corner)]
            index += 1
    return patches


def make_training_data(images: Sequence[np.ndarray], params: N2VParams,
                       cancel: CancelToken | None = None) -> TrainingData:
    """Cut, shuffle, split and normalise training patches.

    Parameters
    ----------
    images : sequence of ndarray
        2-D images or 3-D volumes (Z, Y, X) of any size at least the patch
        size; 3-D training needs volumes.  Several images are pooled.
    params : N2VParams
        Uses ``mode``, ``patch_size``, ``validation_fraction`` and ``seed``.
    cancel : CancelToken, optional
        Checked after each image.

    Returns
    -------
    TrainingData

    Raises
    ------
    ImageError
        See :func:`check_training_images`; also fewer than two patches in all,
        or too little memory for the patches (checked before any is cut).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> data = make_training_data([rng.normal(size=(64, 96))], N2VParams(patch_size=32))
    >>> data.train.shape, data.validation.shape
    ((5, 32, 32, 1), (1, 32, 32, 1))
    """
    stacks = check_training_images(images, params)
    voxels = sum(s.size for s in stacks)
    require_memory(8 * voxels, f"to train on {voxels:,} pixels (their patches as float32, twice while "
                   "they are gathered)")
    mean, std = normalisation(stacks)
    pieces = []
    for stack in stacks:
        pieces.append(cut_patches(stack, params.patch_size))
        if cancel is not None:
            cancel.check()
    patches = np.concatenate(pieces)
    if len(patches) < 2:
        raise ImageError(f"the images give only one {params.patch_size}-pixel patch; training needs one more "
                         "for validation: choose a smaller patch size")
    np.random.default_rng(params.seed).shuffle(patches)
    patches -= np.float32(mean)
    patches /= np.float32(std)
    n_validation = validation_count(len(patches), params)
    return TrainingData(train=patches[n_validation:, ..., np.newaxis],
                        validation=patches[:n_validation, ..., np.newaxis], mean=mean, std=std)
