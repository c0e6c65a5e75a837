"""The classic denoising filters, by the name the command line and saved results use.

Each entry is an :class:`engine.methods.Method`: median (size, square or disk
footprint), anisotropic diffusion (Perona-Malik 1990) and non-local means
(Buades et al. 2005) and DCT shrinkage with the measured noise spectrum
(Mäkinen et al. 2020), each in 2-D (plane by plane) or 3-D mode.
"""

from et_denoise.engine.filters.dct import DCT
from et_denoise.engine.filters.diffusion import DIFFUSION
from et_denoise.engine.filters.median import MEDIAN
from et_denoise.engine.filters.nlm import NLM

FILTERS = {method.name: method for method in (MEDIAN, DIFFUSION, NLM, DCT)}

__all__ = ["FILTERS"]
