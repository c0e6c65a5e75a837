"""Volumes of any size: denoised slab by slab on Dask within a memory budget, streamed into their file.

:func:`denoise_to_file` runs a :class:`SlabJob` (a filter with its parameters,
:func:`method_job`, or a trained network, :func:`model_job`) over a
:class:`~engine.io.LazyImage` (:func:`engine.io.open_image_lazily`).  Dask is
imported when a volume is denoised, not when this package is.

Examples
--------
>>> from et_denoise.engine.filters import FILTERS
>>> from et_denoise.engine.io import open_image_lazily
>>> volume = open_image_lazily("tomogram.rec")                                  # doctest: +SKIP
>>> job = method_job(FILTERS["diffusion"], None, volume)                        # doctest: +SKIP
>>> denoise_to_file(volume, "denoised.rec", job, memory=parse_memory("4GB"))    # doctest: +SKIP
"""

from et_denoise.engine.volume.budget import MemoryBudgetError, default_budget, parse_memory, slab_planes
from et_denoise.engine.volume.jobs import SlabJob, method_job, model_job
from et_denoise.engine.volume.pipeline import collect, denoise_to_file, denoise_volume

__all__ = ["MemoryBudgetError", "SlabJob", "collect", "default_budget", "denoise_to_file", "denoise_volume",
           "method_job", "model_job", "parse_memory", "slab_planes"]
