"""ET Denoise engine: pure numerics for denoising electron tomograms.

Nothing in this package imports Qt, and TensorFlow is only imported inside the
N2V backend when a model is actually trained or loaded.  Submodules are
imported explicitly (``from et_denoise.engine.filters import median``) so that importing
``engine`` itself stays cheap.
"""

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError

__all__ = ["Cancelled", "ImageError", "ParameterError"]
