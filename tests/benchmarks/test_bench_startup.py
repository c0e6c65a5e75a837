"""Benchmark: the main window appears within 3 s of starting the interpreter (without TensorFlow).

A wall-clock limit that a loaded machine can miss, so it is here rather than
in the default suite (which checks that TensorFlow is not imported).  Run with
``make bench``.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUDGET_S = 3.0

_SHOW_WINDOW = """
import sys
from et_denoise.gui.app import create_application, create_window
app = create_application()
window = create_window()
window.show()
app.processEvents()
print("shown", 'tensorflow' in sys.modules, flush=True)
"""


def test_window_appears_within_3_s(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _SHOW_WINDOW], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.kill()  # the window was shown: no need to wait for the background warm-up
    _, errors = process.communicate(timeout=60)
    assert line.split() == ["shown", "False"], errors
    print(f"\nwindow shown after {elapsed:.2f} s (budget {BUDGET_S:.0f} s)")
    assert elapsed < BUDGET_S, f"the window took {elapsed:.2f} s to appear"
