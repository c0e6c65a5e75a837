"""Which device Noise2Void trains and predicts on, named for people.

Importing TensorFlow takes seconds, so call :func:`compute_device` in the
background (when training starts, or when the StructN2V tab is first shown),
never while an interface waits for it.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from et_denoise.engine.n2v.network_thread import runs_on_network_thread


def _cpu_name() -> str | None:
    """The processor's model name (Linux's /proc/cpuinfo, else the platform's), or None if unknown."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    name = platform.processor()
    return name or None


@runs_on_network_thread
def compute_device() -> str:
    """Name the device TensorFlow computes on.

    Returns
    -------
    str
        ``"GPU: <name>"`` (several GPUs joined with commas) when TensorFlow
        sees a GPU, otherwise ``"CPU: <model> (<n> cores)"`` or
        ``"CPU (<n> cores)"`` when the model name is unknown.

    Notes
    -----
    Imports TensorFlow (seconds on first call): call it off the GUI thread.
    Runs on the network thread (:mod:`engine.n2v.network_thread`).

    Examples
    --------
    >>> compute_device()  # doctest: +SKIP
    'CPU: AMD EPYC (2 cores)'
    """
    from et_denoise.engine.n2v.n2v_backend import tensorflow

    tf = tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
        return "GPU: " + ", ".join(names)
    cores = os.cpu_count() or 1
    name = _cpu_name()
    return f"CPU: {name} ({cores} cores)" if name else f"CPU ({cores} cores)"
