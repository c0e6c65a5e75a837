"""The engine stays pure numerics: importing it loads neither Qt nor TensorFlow."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SOURCE = ROOT / "src"
ENGINE_MODULES = sorted(
    ".".join(path.relative_to(SOURCE).with_suffix("").parts).removesuffix(".__init__")
    for path in (SOURCE / "et_denoise" / "engine").rglob("*.py")
)


def test_importing_every_engine_module_loads_no_qt_no_tensorflow_and_no_dask():
    code = (
        "import sys, importlib\n"
        f"for name in {ENGINE_MODULES!r}: importlib.import_module(name)\n"
        "heavy = sorted(m for m in ('PySide6', 'pyqtgraph', 'tensorflow', 'keras', 'n2v', 'dask', 'distributed')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"engine imported {result.stdout.strip()}"
