"""Prepare the filters in the background right after startup.

The first call of a filter compiles its numba kernels and imports what it
needs lazily: seconds of pure-Python work, and tens of thousands of new
objects.  Doing it once, on a tiny image, in a background job right after the
window appears makes the first preview fast; when it is done, every object
alive is moved out of the garbage collector's generations (``gc.freeze``), so
that the collector's full passes stay short and never pause the event loop
while a filter runs (a full pass over them took 100–140 ms, measured).

The garbage collector is off while the kernels compile: a collection on the
main thread (any allocation in the event loop can start one) finalised
compiler objects while this thread was compiling with them, and the app
crashed (a segmentation fault in about one start in three of the window tests).
"""

from __future__ import annotations

import dataclasses
import gc
import logging

import numpy as np

from et_denoise.gui.jobs.job_runner import Job, JobRunner

log = logging.getLogger(__name__)

_WARM_UP_SHAPE = (3, 24, 24)


def _warm_up_filters(progress, cancel) -> None:
    from et_denoise.engine.filters import FILTERS

    image = np.random.default_rng(0).normal(size=_WARM_UP_SHAPE).astype(np.float32)
    gc.disable()
    try:
        for method in FILTERS.values():
            modes = [None]
            if "mode" in {item.name for item in dataclasses.fields(method.params_type)}:
                modes = ["2d", "3d"]
            for mode in modes:
                cancel.check()
                params = method.params_type() if mode is None else method.params_type().replace(mode=mode)
                method.apply(image, params, cancel=cancel)
    finally:
        gc.enable()


def _settle_heap() -> None:
    gc.collect()
    gc.freeze()


def start_warm_up(jobs: JobRunner) -> Job:
    """Run every filter once on a tiny stack in the background, then freeze the heap."""
    job = jobs.submit("Preparing the filters", _warm_up_filters, visible=False)
    job.failed.connect(lambda message: log.warning("warming up the filters failed: %s", message))
    job.finished.connect(_settle_heap)
    return job
