"""Build the double-click app: dist/et-denoise/ (``make package``).

1. Check that the system libraries Qt's X11 platform plugin needs are
   installed: PyInstaller copies them from this machine into the app, and an
   app without them cannot open its window where they are missing.
2. Run PyInstaller on packaging/et-denoise.spec (one folder; the work folder
   build/pyinstaller is kept, so a second build reuses its analysis and the
   stripped libraries).
3. Put the desktop-integration files next to the executable:
   et-denoise.desktop and install-desktop-entry.sh.
4. With ``--archive``, pack the folder as dist/et-denoise-VERSION-linux-x86_64.tar.zst
   (tar.gz where zstd is missing), the file users download.

Prints the size of the folder (and of the archive), the build time, and the
oldest glibc the app runs with: system libraries are copied from the build
machine, so build on the oldest Linux the app must run on.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "et-denoise.spec"
DESKTOP_FILES = ("et-denoise.desktop", "install-desktop-entry.sh")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def missing_qt_libraries() -> list[str]:
    """System libraries that Qt's X11 platform plugin links to and this machine lacks (Linux only)."""
    if not sys.platform.startswith("linux"):
        return []
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    output = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
    return sorted(set(re.findall(r"^\s*(\S+) => not found", output, flags=re.MULTILINE)))


def debian_package(soname: str) -> str:
    """The usual Debian/Ubuntu package of a library: libxcb-icccm.so.4 -> libxcb-icccm4."""
    base, version = re.match(r"(.+)\.so\.(\d+)", soname).groups()
    return f"{base}{'-' if base[-1].isdigit() else ''}{version}"


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def required_glibc(app: Path) -> str:
    """The newest glibc symbol version a file of the app needs, i.e. the oldest glibc the app runs with."""
    newest = (0,)
    for path in app.rglob("*"):
        if path.is_file() and not path.is_symlink() and (".so" in path.name or path == app / app.name):
            symbols = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
            for version in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", symbols):
                newest = max(newest, tuple(map(int, version.split("."))))
    return ".".join(map(str, newest))


def archive(app: Path, name: str) -> Path:
    """Pack ``app`` into a .tar.zst (or .tar.gz) next to it."""
    if shutil.which("zstd"):
        target = app.parent / f"{name}.tar.zst"
        command = ["tar", "-I", "zstd -T0 -12 --long=27", "-cf", str(target)]
    else:
        target = app.parent / f"{name}.tar.gz"
        command = ["tar", "-czf", str(target)]
    subprocess.run([*command, "-C", str(app.parent), app.name], check=True)
    return target


def build(dist: Path, work: Path, make_archive: bool) -> int:
    if sys.platform.startswith("linux") and not shutil.which("strip"):
        print("error: the build strips TensorFlow's libraries with `strip`: install binutils", file=sys.stderr)
        return 1
    missing = missing_qt_libraries()
    if missing:
        print("error: Qt's X11 platform plugin needs libraries this machine lacks, and the app would be built "
              f"without them: {', '.join(missing)}\n"
              f"  on Debian/Ubuntu: sudo apt-get install {' '.join(debian_package(name) for name in missing)}",
              file=sys.stderr)
        return 1
    start = time.perf_counter()
    quiet = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}  # TensorFlow's logs
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(SPEC)], check=True, cwd=ROOT, env=quiet)
    meta = project()
    app = dist / meta["name"]
    for name in DESKTOP_FILES:
        shutil.copy2(PACKAGING / name, app / name)
    built = time.perf_counter() - start
    print(f"built {app} in {built:.0f} s: {folder_size(app) / 1e6:.0f} MB")
    if shutil.which("objdump"):
        print(f"it needs glibc {required_glibc(app)} or newer (Linux distributions at least as recent as this one)")
    if make_archive:
        start = time.perf_counter()
        target = archive(app, f"{meta['name']}-{meta['version']}-{platform.system().lower()}-{platform.machine()}")
        print(f"packed {target} in {time.perf_counter() - start:.0f} s: {target.stat().st_size / 1e6:.0f} MB")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the ET Denoise app folder with PyInstaller.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default build/pyinstaller/)")
    parser.add_argument("--archive", action="store_true", help="also pack the app as a .tar.zst for download")
    parser.add_argument("--missing-packages", action="store_true",
                        help="only print the Debian/Ubuntu packages of the system libraries the build needs and "
                        "this machine lacks (nothing when none is missing)")
    args = parser.parse_args(argv)
    if args.missing_packages:
        print(" ".join(debian_package(name) for name in missing_qt_libraries()))
        return 0
    return build(args.dist, args.work, args.archive)


if __name__ == "__main__":
    sys.exit(main())
