"""The project installs as one package: the wheel holds every sub-package, the icons and the command."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "et_denoise"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    [path] = folder.glob("et_denoise-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_wheel_holds_every_module_and_resource_of_the_source_tree(wheel):
    names = set(wheel.namelist())
    sources = {path.relative_to(PACKAGE.parent).as_posix() for path in PACKAGE.rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    missing = sorted(sources - names)
    assert not missing, f"not installed by `pip install .`: {missing}"


def test_the_wheel_installs_the_et_denoise_command(wheel):
    [entry_points] = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "et-denoise = et_denoise.cli:main" in text


def test_python_m_et_denoise_and_main_py_report_the_installed_version():
    from et_denoise import __version__

    for command in ([sys.executable, "-m", "et_denoise", "--version"], [sys.executable, str(ROOT / "main.py"), "--version"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT.parent)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"et-denoise {__version__}"
    assert __version__ != "unknown"
