"""A denoising method as the GUI and the command line see it.

A :class:`Method` ties a name to its parameter dataclass and to the engine
function that computes it, so that tabs, command-line options and saved
results are all made from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from et_denoise.engine.io.memory import require_memory
from et_denoise.engine.jobs import CancelToken, ProgressFn
from et_denoise.engine.params import MethodParams


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
    """

    name: str
    label: str
    description: str
    params_type: type[MethodParams]
    function: Callable[..., np.ndarray]
    working_copies: float = 1.0

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
