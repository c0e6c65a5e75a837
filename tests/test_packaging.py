"""The packaged app's ingredients that can be checked without building it (that takes minutes: CI does it)."""

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "src" / "et_denoise" / "resources"


def load(name):
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contents = load("contents")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_app_imports_what_the_package_leaves_out():
    sources = [ROOT / "main.py", *sorted((ROOT / "src").rglob("*.py"))]
    offending = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources for name in imported_modules(path)
        for excluded in contents.EXCLUDED_MODULES if name == excluded or name.startswith(excluded + ".")
    )
    assert not offending, "remove these from packaging/contents.py's EXCLUDED_MODULES: " + "; ".join(offending)


def test_app_icon_exists_in_every_size_and_comes_from_the_drawing_script(tmp_path):
    icons = load("make_icons")
    for size in icons.PNG_SIZES:
        with Image.open(RESOURCES / f"app-icon-{size}.png") as image:
            assert image.size == (size, size) and image.mode == "RGBA"
    with Image.open(RESOURCES / "app-icon.ico") as ico:
        assert set(ico.info["sizes"]) == {(n, n) for n in icons.ICO_SIZES}
    with Image.open(RESOURCES / "app-icon.icns") as icns:
        assert {n for n, _, _ in icns.info["sizes"]} == {16, 32, 128, 256, 512}  # macOS's sizes in points
        assert {n * scale for n, _, scale in icns.info["sizes"]} == set(icons.ICNS_SIZES)
    for size in (16, 256):  # drawn again, the committed files are reproduced exactly
        icons.draw_icon(size).save(tmp_path / "again.png", optimize=True)
        with Image.open(tmp_path / "again.png") as again, \
                Image.open(RESOURCES / f"app-icon-{size}.png") as committed:
            assert again.tobytes() == committed.tobytes()


@pytest.fixture
def app_folder(tmp_path):
    """An unpacked app folder (in a path with a space and a dollar sign) holding what the installer needs."""
    folder = tmp_path / "Apps" / "ET Denoise $1"
    (folder / "_internal" / "et_denoise" / "resources").mkdir(parents=True)
    for png in (RESOURCES).glob("app-icon-*.png"):
        shutil.copy(png, folder / "_internal" / "et_denoise" / "resources")
    (folder / "et-denoise").write_text("#!/bin/sh\n")
    (folder / "et-denoise").chmod(0o755)
    for name in ("et-denoise.desktop", "install-desktop-entry.sh"):
        shutil.copy(PACKAGING / name, folder)
    return folder


def test_desktop_entry_installs_for_the_user_and_uninstalls(app_folder, tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(data)}
    installer = app_folder / "install-desktop-entry.sh"
    subprocess.run(["sh", str(installer)], env=env, check=True, capture_output=True)
    entry = data / "applications" / "et-denoise.desktop"
    lines = entry.read_text().splitlines()
    assert f'Exec="{app_folder}/et-denoise" %f'.replace("$", "\\\\$") in lines
    assert "Icon=et-denoise" in lines and "Name=ET Denoise" in lines
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "et-denoise.png").is_file()
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout, result.stdout

    subprocess.run(["sh", str(installer), "--uninstall"], env=env, check=True, capture_output=True)
    assert not entry.exists()
    assert not list((data / "icons").rglob("et-denoise.png"))


def test_frozen_numba_cache_is_one_folder_per_installation_whatever_the_working_directory(tmp_path, monkeypatch):
    locator_type = load("frozen_numba_cache").FrozenAppCacheLocator
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))

    def kernel():
        pass

    folders = set()
    for cwd in (tmp_path, ROOT):
        monkeypatch.chdir(cwd)
        folders.add(locator_type.from_function(kernel, os.path.join("et_denoise", "engine", "filters", "median.py")).get_cache_path())
    assert len(folders) == 1
    folder = Path(folders.pop())
    assert folder.parent.parent == tmp_path / "cache" and folder.name == "et_denoise.engine.filters" and folder.is_dir()


def test_frozen_numba_cache_falls_back_to_the_temporary_folder_when_the_cache_is_not_writable(tmp_path, monkeypatch):
    locator_type = load("frozen_numba_cache").FrozenAppCacheLocator
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # let tempfile read TMPDIR again

    locator = locator_type.from_function(lambda: None, "et_denoise/engine/selftest.py")
    assert Path(locator.get_cache_path()).is_relative_to(tmp_path / "tmp")


def test_numba_caches_kernels_through_the_frozen_app_locator(tmp_path):
    (tmp_path / "kernels.py").write_text(textwrap.dedent("""
        import numba

        @numba.njit(cache=True)
        def twice(x):
            return 2 * x
    """))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": os.pathsep.join([str(PACKAGING), str(tmp_path)]),
           "NUMBA_CACHE_LOCATOR_CLASSES": "frozen_numba_cache.FrozenAppCacheLocator"}
    subprocess.run([sys.executable, "-c", "import kernels; assert kernels.twice(21) == 42"],
                   env=env, cwd=tmp_path, check=True, timeout=120)
    assert list((tmp_path / "cache").rglob("kernels.twice-*.nbi"))


@pytest.mark.parametrize("soname, package", [("libxcb-icccm.so.4", "libxcb-icccm4"),
                                             ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0")])
def test_missing_qt_libraries_are_named_by_their_debian_package(soname, package):
    assert load("build").debian_package(soname) == package
