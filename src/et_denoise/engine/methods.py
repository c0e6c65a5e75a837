"""A denoising method as the GUI and the command line see it.

A :class:`Method` ties a name to its parameter dataclass and to the engine
function that computes it, so that tabs, command-line options and saved
results are all made from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.params import MethodParams


class Halo(NamedTuple):
    """Planes a slab of a volume needs on each side for its output to equal the whole volume's.

    Attributes
    ----------
    planes : int
        Planes read before and after the slab (clipped at the volume's ends).
    align : int
        The first plane read must be a multiple of this (a block grid or a
        network's pooling grid that must stay where the whole volume has it).
    """

    planes: int = 0
    align: int = 1


class PlaneReader(Protocol):
    """What :attr:`Method.volume_inputs` reads a volume through: its shape and runs of planes."""

    shape: tuple[int, ...]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Planes ``start:stop`` as a new array in the file's data type."""


def no_halo(params: MethodParams) -> Halo:
    """The halo of a method that works on each plane on its own."""
    return Halo()


@dataclass(frozen=True)
class Method:
    """One denoising method.

    Attributes
    ----------
    name : str
        Identifier used on the command line (``--method median``) and in saved results.
    label : str
        Human name shown in tabs and titles.
    description : str
        One sentence on what the method does and when it suits.
    params_type : type[MethodParams]
        The :class:`~engine.params.MethodParams` subclass holding its parameters.
    function : callable
        ``function(image, **params, progress=None, cancel=None) -> float32 array``.
    working_copies : float
        Working buffers the function allocates, in float32 copies of the image
        (besides the input as float32 and the result).
    halo : callable
        ``halo(params) -> Halo``: what a slab of planes needs around it in 3-D
        mode (:mod:`engine.volume` cuts volumes into slabs with it).
    volume_inputs : callable or None
        ``volume_inputs(volume, params, cancel) -> dict``: what the function
        would otherwise compute from the whole image (a noise σ, a noise
        covariance, a value range), computed once from a
        :class:`PlaneReader` and passed to each slab's call as keywords, so that
        a volume filtered slab by slab equals the volume filtered whole.
    preview_side : int or None
        A 3-D live preview of this method covers at most this many pixels
        square of the slice, around the cursor (:meth:`preview_window`): its
        3-D kernel is too slow for a whole block of slices within the 2 s a
        preview may take.  None: whole slices.
    """

    name: str
    label: str
    description: str
    params_type: type[MethodParams]
    function: Callable[..., np.ndarray]
    working_copies: float = 1.0
    halo: Callable[[MethodParams], Halo] = no_halo
    volume_inputs: Callable[[PlaneReader, MethodParams, CancelToken | None], dict[str, Any]] | None = None
    preview_side: int | None = None

    def preview_window(self, plane_shape: tuple[int, int], centre: tuple[int, int]) -> tuple[slice, slice] | None:
        """Rows and columns a 3-D preview computes: :attr:`preview_side` square around ``centre``, in the plane.

        The window is moved inwards at the plane's edges; None when the whole
        plane fits in it (or the method previews whole slices).

        Examples
        --------
        >>> method = Method("m", "M", "", MethodParams, lambda image: image, preview_side=96)
        >>> method.preview_window((256, 300), (10, 150))
        (slice(0, 96, None), slice(102, 198, None))
        >>> method.preview_window((96, 80), (10, 50)) is None
        True
        """
        if self.preview_side is None or max(plane_shape) <= self.preview_side:
            return None
        window = []
        for length, middle in zip(plane_shape, centre):
            side = min(length, self.preview_side)
            start = min(max(middle - side // 2, 0), length - side)
            window.append(slice(start, start + side))
        return tuple(window)

    def apply(
        self,
        image: np.ndarray,
        params: MethodParams | None = None,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Run the method on ``image`` with ``params`` (defaults when omitted).

        Raises ImageError, naming both sizes, before anything is allocated if
        the input as float32, the result and the working buffers would not fit
        in the memory available (a volume mapped from a file may be far larger).
        """
        params = params if params is not None else self.params_type()
        shape = np.shape(image)
        require_memory(int(np.prod(shape, dtype=np.float64) * 4 * (2 + self.working_copies)),
                       f"to denoise this {'×'.join(map(str, shape))} image with {self.label} "
                       "(input as float32, result and working buffers)")
        return self.function(image, **params.as_dict(), progress=progress, cancel=cancel)
