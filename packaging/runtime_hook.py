"""Runs in the packaged app before main.py: settings that only the frozen app needs."""

import os

# numba's fallback threading layer ("workqueue") aborts the process when two
# threads call parallel kernels at once, as the filters do; "threadsafe" picks
# OpenMP (libgomp is bundled) or TBB and raises a clear error if neither loads.
os.environ.setdefault("NUMBA_THREADING_LAYER", "threadsafe")
# Compiled kernels: one cache per installation in the user's cache folder
# (NUMBA_CACHE_DIR if set), whatever folder the app is started from.
os.environ.setdefault("NUMBA_CACHE_LOCATOR_CLASSES", "frozen_numba_cache.FrozenAppCacheLocator")
