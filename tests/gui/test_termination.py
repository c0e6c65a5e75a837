"""SIGTERM and Ctrl+C reach the desktop app at once, even while its event loop sleeps, and leave no partial file."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The app with a save in progress: a partial file is open and being written when the signal comes.
_APP_SAVING = textwrap.dedent("""
    import pathlib, sys, threading
    from PySide6.QtCore import QTimer
    from et_denoise.engine.io.partial_files import atomic_file
    from et_denoise.gui.app import create_application, run_gui

    folder = pathlib.Path(sys.argv[1])
    (folder / "kept.mrc").write_bytes(b"an earlier result")
    writing = threading.Event()

    def save():
        with atomic_file(folder / "kept.mrc", overwrite=True) as stream:
            stream.write(bytes(100_000))
            writing.set()
            threading.Event().wait()  # a write that never ends by itself

    threading.Thread(target=save, daemon=True).start()
    writing.wait()
    create_application()
    QTimer.singleShot(0, lambda: print("running", flush=True))
    sys.exit(run_gui())
""")


def _start(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path))
    folder = tmp_path / "results"
    folder.mkdir()
    app = subprocess.Popen([sys.executable, "-c", _APP_SAVING, str(folder)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert app.stdout.readline().strip() == "running", app.stderr.read()
    return app, folder


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_app_at_once_and_leaves_no_partial_file(tmp_path, number):
    app, folder = _start(tmp_path)
    assert any(name.startswith(".kept") for name in os.listdir(folder)), "the save should be under way"
    app.send_signal(number)
    _, errors = app.communicate(timeout=20)  # the loop sleeps: before, the app ignored it until the mouse moved
    assert app.returncode == 128 + number and "Traceback" not in errors, errors
    assert os.listdir(folder) == ["kept.mrc"]
    assert (folder / "kept.mrc").read_bytes() == b"an earlier result"
