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


def _run_main(tmp_path, *arguments):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *arguments], cwd=ROOT, env=_environment(tmp_path),
                          capture_output=True, text=True, timeout=300)


def test_screenshot_of_a_file_at_1024_by_700_shows_the_tab_asked_for(tmp_path):
    import numpy as np
    from PySide6.QtGui import QImage

    from et_denoise.engine.io import write_image

    stack = tmp_path / "stack.tif"
    write_image(stack, np.random.default_rng(0).normal(size=(6, 80, 96)).astype(np.float32))
    png = tmp_path / "median.png"
    completed = _run_main(tmp_path, str(stack), "--screenshot", str(png), "--size", "1024x700", "--tab", "median")
    assert completed.returncode == 0, completed.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1024, 700)


def test_screenshot_options_refuse_bad_values_in_one_line(tmp_path):
    png = tmp_path / "x.png"
    for arguments, expected in ((["--size", "big"], "--size takes WIDTHxHEIGHT"),
                                (["--tab", "nothing"], "unknown tab 'nothing'"),
                                ([], "needs --sample or an image file")):
        sample = ["--sample"] if arguments else []
        completed = _run_main(tmp_path, *sample, "--screenshot", str(png), *arguments)
        assert completed.returncode == 2, completed.stderr
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0], completed.stderr
    assert not png.exists()
