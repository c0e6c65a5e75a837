"""The About box: versions and the compute device, without importing TensorFlow."""

from __future__ import annotations

import glob
import html
import os
import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from et_denoise import __version__

APP_NAME = "ET Denoise"


def app_version() -> str:
    """The installed package's version."""
    return __version__


def package_version(*names: str) -> str | None:
    """The installed version of the first of ``names`` found (read from metadata: nothing is imported)."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def cpu_name() -> str:
    """The processor's model name and core count."""
    name = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    name = name or platform.processor() or platform.machine() or "unknown processor"
    return f"{name} ({os.cpu_count() or 1} cores)"


def gpu_name() -> str:
    """The GPU TensorFlow uses if it is already loaded, else what the NVIDIA driver reports.

    TensorFlow is never imported here: at startup it would cost seconds.
    """
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None:
        try:
            devices = tensorflow.config.list_physical_devices("GPU")
            names = [tensorflow.config.experimental.get_device_details(device).get("device_name", device.name)
                     for device in devices]
        except Exception as error:  # a broken GPU setup must not break the About box
            return f"unknown ({error})"
        return ", ".join(names) if names else "none found by TensorFlow (StructN2V runs on the CPU)"
    models = []
    for path in sorted(glob.glob("/proc/driver/nvidia/gpus/*/information")):
        with open(path, encoding="utf-8", errors="replace") as info:
            models += [line.split(":", 1)[1].strip() for line in info if line.startswith("Model:")]
    if models:
        return ", ".join(models)
    return "not checked yet (known once StructN2V has loaded TensorFlow)"


def about_html() -> str:
    """The About box's text."""
    numpy_version = package_version("numpy")
    versions = [
        ("Python", platform.python_version()),
        ("NumPy", numpy_version),
        ("SciPy", package_version("scipy")),
        ("scikit-image", package_version("scikit-image")),
        ("Qt / PySide6", f"{qVersion()} / {pyside_version}"),
        ("pyqtgraph", package_version("pyqtgraph")),
        ("TensorFlow", (package_version("tensorflow-cpu", "tensorflow") or "not installed")
         + ("" if "tensorflow" in sys.modules else " (not loaded)")),
        ("n2v", package_version("n2v")),
    ]
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value or 'not installed')}</td></tr>"
                   for name, value in versions)
    return (
        f"<h3>{APP_NAME} {html.escape(app_version())}</h3>"
        "<p>Denoising for electron tomography and electron microscopy images: median, anisotropic "
        "diffusion and non-local means filters, and self-supervised StructN2V.</p>"
        f"<p><b>CPU:</b> {html.escape(cpu_name())}<br><b>GPU:</b> {html.escape(gpu_name())}</p>"
        f"<table cellspacing='2'>{rows}</table>"
        f"<p>{html.escape(platform.platform())}</p>"
        "<p>Open source under the BSD 3-Clause licence.</p>"
    )


def show_about(parent: QWidget | None) -> None:
    """Show the About box."""
    QMessageBox.about(parent, f"About {APP_NAME}", about_html())
