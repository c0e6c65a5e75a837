"""Save a result as TIFF, MRC or OME-Zarr: file dialog, overwrite question, write in the background."""

from __future__ import annotations

import os
import re

from PySide6.QtWidgets import QFileDialog, QWidget

from et_denoise.gui.widgets.dialogs import confirm, show_error
from et_denoise.gui.jobs.job_runner import Job, JobRunner
from et_denoise.gui.model import Document, Result
from et_denoise.gui.settings import AppSettings

#: File-dialog filters and the extension each one adds to a bare name.
SAVE_FORMATS = {"TIFF (*.tif *.tiff)": ".tif", "MRC (*.mrc *.rec)": ".mrc", "OME-Zarr (*.zarr)": ".ome.zarr"}
_KNOWN_SUFFIXES = (".tif", ".tiff", ".mrc", ".rec", ".zarr")


def suggested_file_name(document: Document, result: Result) -> str:
    """``"tomo_median.tif"``: the image's name and the result's, safe for a file name."""
    stem = os.path.splitext(document.name)[0] if document.name else "image"
    name = re.sub(r"[^\w.-]+", "_", f"{stem}_{result.name}").strip("_")
    return f"{name}.tif"


def start_folder(document: Document, settings: AppSettings) -> str:
    """Where a save dialog opens: the open image's folder (next to a folder of slices, not in it),
    else the last folder saved to."""
    path = getattr(document.image, "path", None)
    if path is not None:
        folder = os.path.dirname(os.path.abspath(str(path).rstrip(os.sep)))
        if os.path.isdir(folder):
            return folder
    return settings.last_folder("save")


def choose_save_path(parent: QWidget | None, settings: AppSettings, document: Document,
                     result: Result) -> str | None:
    """Ask where to save ``result``; None if the user gave up.

    A name without a known extension gets the one of the chosen format, and an
    existing file is only replaced after the user agreed.
    """
    start = os.path.join(start_folder(document, settings), suggested_file_name(document, result))
    path, chosen_filter = QFileDialog.getSaveFileName(
        parent, f"Save “{result.name}” as", start, ";;".join(SAVE_FORMATS),
        next(iter(SAVE_FORMATS)), QFileDialog.Option.DontConfirmOverwrite)
    if not path:
        return None
    if not path.lower().endswith(_KNOWN_SUFFIXES):
        path += SAVE_FORMATS.get(chosen_filter, ".tif")
    if os.path.exists(path) and not confirm(
            parent, "Replace file", f"{os.path.basename(path)} already exists.\n\nReplace it?"):
        return None
    return path


def save_result(parent: QWidget | None, document: Document, result: Result, jobs: JobRunner,
                settings: AppSettings, path: str | None = None) -> Job | None:
    """Write ``result`` (asking for ``path`` when not given) in the background; returns the job."""
    path = path or choose_save_path(parent, settings, document, result)
    if path is None:
        return None
    settings.set_last_folder("save", os.path.dirname(os.path.abspath(path)))
    image = document.image
    data = result.data
    # Replace only a file that is there now (the user agreed to replace it), never one created meanwhile.
    replace = os.path.exists(path)

    def write(progress, cancel):
        from et_denoise.engine.io import write_image

        return write_image(path, data, like=image, overwrite=replace)

    job = jobs.submit(f"Saving {os.path.basename(path)}", write)
    job.succeeded.connect(lambda _written: document.results.mark_saved(result, path)
                          if result in document.results else None)
    job.failed.connect(lambda message: show_error(parent, "Could not save the result", message))
    return job
