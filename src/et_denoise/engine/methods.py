"""A denoising method as the GUI and the command line see it.

A :class:`Method` ties a name to its parameter dataclass and to the engine
function that computes it, so that tabs, command-line options and saved
results are all made from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

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
    params_type : type
        The :class:`~engine.params.MethodParams` subclass holding its parameters.
    function : callable
        ``function(image, **params, progress=None, cancel=None) -> float32 array``.
    """

    name: str
    label: str
    description: str
    params_type: type
    function: Callable[..., np.ndarray]

    def apply(
        self,
        image: np.ndarray,
        params: Optional[MethodParams] = None,
        *,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        """Run the method on ``image`` with ``params`` (defaults when omitted)."""
        params = params if params is not None else self.params_type()
        return self.function(image, **params.as_dict(), progress=progress, cancel=cancel)
