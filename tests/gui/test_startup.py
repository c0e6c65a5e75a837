"""The window appears without importing TensorFlow, so does the About box; the screenshot mode writes a PNG.

Each check runs in a fresh interpreter: in the test process an earlier test may have imported TensorFlow.
How fast the window appears is measured in tests/benchmarks/test_bench_startup.py.
"""

import os
import subprocess
import sys
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

_SHOW_ABOUT = """
import sys
from PySide6.QtWidgets import QMessageBox
from et_denoise.gui.app import create_application, create_window
shown = []
QMessageBox.about = staticmethod(lambda parent, title, text: shown.append(text))
app = create_application()
window = create_window()
window.about_action.trigger()
text = shown[0]
print("about", "CPU:" in text and "Python" in text and "pyqtgraph" in text, 'tensorflow' in sys.modules, flush=True)
"""


def _environment(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    env.pop("ET_DENOISE_DEBUG", None)
    return env


def _first_line(script, tmp_path):
    """The first line ``script`` prints, read as soon as it is printed (the background warm-up is not waited for)."""
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=_environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    process.kill()
    _, errors = process.communicate(timeout=60)
    return line.split(), errors


def test_window_appears_without_importing_tensorflow(tmp_path):
    line, errors = _first_line(_SHOW_WINDOW, tmp_path)
    assert line == ["shown", "False"], errors


def test_about_box_names_the_cpu_without_importing_tensorflow(tmp_path):
    line, errors = _first_line(_SHOW_ABOUT, tmp_path)
    assert line == ["about", "True", "False"], errors


def test_screenshot_mode_saves_the_window_with_a_diffusion_result(tmp_path):
    png = tmp_path / "window.png"
    code = f"from et_denoise.gui.app import run_gui; raise SystemExit(run_gui(sample=True, screenshot={str(png)!r}))"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_environment(tmp_path),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() >= 1000 and image.height() >= 700
