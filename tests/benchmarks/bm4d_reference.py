"""Run BM4D (Mäkinen, Azzari & Foi 2020) on volumes written by ``test_bench_bm4d.py``.

BM4D is licensed for non-commercial use only, so it is never a dependency of
ET Denoise: this script runs in a separate Python environment that has it
(``python -m venv /tmp/bm4d && /tmp/bm4d/bin/pip install bm4d``) and imports
nothing of ours.  Usage: ``python bm4d_reference.py IN.npz OUT.npy``, where
IN.npz holds ``noisy`` (Z, Y, X) and ``psd``, the noise power spectrum of the
same shape in bm4d's convention (the squared magnitude of the FFT of the
noise's kernel times the number of voxels).
"""

import sys

import numpy as np
from bm4d import bm4d

if __name__ == "__main__":
    source, target = sys.argv[1:3]
    data = np.load(source)
    np.save(target, bm4d(data["noisy"].astype(np.float64), data["psd"]).astype(np.float32))
