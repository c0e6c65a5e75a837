"""Where the packaged app keeps numba's compiled kernels (``cache=True``).

numba caches a kernel next to its source file, in ``NUMBA_CACHE_DIR``, or in
the user's cache folder, in that order, and names the folder after the
absolute path of the source file.  In the packaged app the modules are not
files and their code objects carry paths relative to the working directory,
so numba's own choice makes a new cache, and compiles every kernel again, for
each folder the app is started from; and when the user's cache folder is not
writable no kernel can be declared at all and the app does not start.

:class:`FrozenAppCacheLocator` keeps one cache per installation under
``NUMBA_CACHE_DIR`` if it is set, else the user's cache folder
(``~/.cache/et-denoise/numba`` on Linux), else the temporary folder.  The
runtime hook selects it with ``NUMBA_CACHE_LOCATOR_CLASSES``.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sys
import tempfile

from numba.core.caching import _CacheLocator

APP_FOLDER = "et-denoise"


def user_cache_root() -> str:
    """The folder the app's numba cache goes to unless ``NUMBA_CACHE_DIR`` says otherwise."""
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return configured
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, APP_FOLDER, "numba")


def _fallback_root() -> str:
    return os.path.join(tempfile.gettempdir(), f"{APP_FOLDER}-numba-{getpass.getuser()}")


class FrozenAppCacheLocator(_CacheLocator):
    """One numba cache folder per installation, the same whatever the working directory."""

    def __init__(self, py_func, py_file: str, root: str) -> None:
        self._lineno = py_func.__code__.co_firstlineno
        installation = os.path.dirname(os.path.abspath(sys.executable))
        tag = hashlib.sha1(installation.encode()).hexdigest()[:16]
        bundle = getattr(sys, "_MEIPASS", installation)
        module_dir = os.path.dirname(os.path.relpath(py_file, bundle) if os.path.isabs(py_file) else py_file)
        self._cache_path = os.path.join(root, tag, module_dir.replace(os.sep, ".").strip(".") or "main")

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self):
        # The code lives in the executable: a new build or a new copy of the app invalidates the cache.
        stat = os.stat(sys.executable)
        return stat.st_mtime, stat.st_size

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        for root in (user_cache_root(), _fallback_root()):
            locator = cls(py_func, py_file, root)
            try:
                locator.ensure_cache_path()
            except OSError:
                continue
            return locator
        return None
