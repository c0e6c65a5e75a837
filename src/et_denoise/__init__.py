"""ET Denoise: denoise electron tomograms and electron micrographs.

Three sub-packages, each with one job:

- :mod:`et_denoise.engine`: the numerics (reading and writing images, filters, noise
  analysis, StructN2V); never imports Qt.
- :mod:`et_denoise.gui`: the desktop app (PySide6 + pyqtgraph); the only package that imports Qt.
- :mod:`et_denoise.cli`: the command line (``et-denoise``, ``python -m et_denoise``).
"""

from importlib.metadata import PackageNotFoundError, version

#: The distribution name (``pip install et-denoise``) and the program's name.
DISTRIBUTION = "et-denoise"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # a source tree that was never installed: `pip install -e .` fixes it
    __version__ = "unknown"
