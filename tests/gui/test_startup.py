"""The window appears quickly, without importing TensorFlow; the screenshot mode writes a PNG."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SHOW_WINDOW = """
import sys
from et_denoise.gui.app import create_application, create_window
app = create_application()
window = create_window()
window.show()
app.processEvents()
print("shown", 'tensorflow' in sys.modules, flush=True)
"""


def _environment(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    env.pop("ET_DENOISE_DEBUG", None)
    return env


def test_window_appears_within_3_s_without_tensorflow(tmp_path):
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _SHOW_WINDOW], cwd=ROOT, env=_environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.kill()  # the window was shown: no need to wait for the background warm-up
    _, errors = process.communicate(timeout=60)
    assert line.split() == ["shown", "False"], errors
    assert elapsed < 3.0, f"the window took {elapsed:.2f} s to appear"


def test_screenshot_mode_saves_the_window_with_a_diffusion_result(tmp_path):
    png = tmp_path / "window.png"
    code = f"from et_denoise.gui.app import run_gui; raise SystemExit(run_gui(sample=True, screenshot={str(png)!r}))"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_environment(tmp_path),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() >= 1000 and image.height() >= 700
