"""The compute device is named for people, and finding it is the only thing that imports TensorFlow."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_device_module_does_not_load_tensorflow():
    code = "import sys, et_denoise.engine.n2v.device; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_compute_device_names_the_gpu_or_the_cpu_with_its_cores():
    from et_denoise.engine.n2v.device import compute_device
    from et_denoise.engine.n2v.n2v_backend import tensorflow

    name = compute_device()
    if tensorflow().config.list_physical_devices("GPU"):
        assert name.startswith("GPU: ") and len(name) > len("GPU: ")
    else:
        assert name.startswith("CPU") and name.endswith(f"({os.cpu_count()} cores)")
