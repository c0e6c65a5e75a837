"""Open an image file, a folder of slices or the built-in sample, reading in the background."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from et_denoise.gui.widgets.dialogs import confirm_discard_results, show_error
from et_denoise.gui.jobs.job_runner import Job, JobRunner
from et_denoise.gui.model import Document
from et_denoise.gui.settings import AppSettings

#: Name shown for the built-in sample.
SAMPLE_NAME = "Sample tomogram"


class ImageOpener:
    """Reads images with the job runner and puts them in the document.

    Before replacing an image that has unsaved results it asks the user.  A
    file the engine cannot read shows the engine's message in a dialog.
    """

    def __init__(self, document: Document, jobs: JobRunner, settings: AppSettings,
                 parent: QWidget | None = None) -> None:
        self.document = document
        self.jobs = jobs
        self.settings = settings
        self.parent = parent

    def open_path(self, path: str) -> Job | None:
        """Read ``path`` (a file, or a folder of 2-D TIFF slices); returns the job."""
        if not self._may_replace():
            return None
        path = os.path.abspath(path)

        def read(progress, cancel):
            from et_denoise.engine.io import read_image

            return read_image(path, scan_mapped=False)  # a large file shows at once

        job = self.jobs.submit(f"Opening {os.path.basename(path)}", read)
        job.succeeded.connect(lambda image: self._on_path_read(path, image))
        job.failed.connect(lambda message: show_error(self.parent, "Could not open the image", message))
        return job

    def open_region(self, path: str) -> Job | None:
        """Ask for a region and a bin factor of ``path`` (File > Open region…) and read only that part; returns the job.

        The part is named after the file and the part (``tomo.rec [10:60,:,:] bin 2``).
        """
        from et_denoise.engine.errors import ImageError
        from et_denoise.engine.io import open_image_lazily
        from et_denoise.gui.files.region_dialog import RegionDialog

        path = os.path.abspath(path)
        try:
            volume = open_image_lazily(path)  # the header only
        except ImageError as error:
            show_error(self.parent, "Could not open the image", str(error))
            return None
        dialog = RegionDialog(volume, self.parent)
        if not dialog.exec() or not self._may_replace():
            return None
        region, binning = dialog.values()
        part = dialog.part()

        def read(progress, cancel):
            return part.load(progress=progress, cancel=cancel)

        name = os.path.basename(path.rstrip(os.sep))
        label = f"{name} [{region}]" + (f" bin {binning}" if binning > 1 else "")
        job = self.jobs.submit(f"Opening {label}", read)
        job.succeeded.connect(lambda image: self._on_part_read(path, label, image))
        job.failed.connect(lambda message: show_error(self.parent, "Could not open the region", message))
        return job

    def open_sample(self, shape: Sequence[int] | None = None, *, seed: int = 0) -> Job | None:
        """Make the synthetic sample tomogram (with its noise-free reference); returns the job."""
        if not self._may_replace():
            return None

        def make(progress, cancel):
            from et_denoise.engine.io import ImageData
            from et_denoise.engine.sample import make_sample

            sample = make_sample(shape, seed=seed) if shape is not None else make_sample(seed=seed)
            return ImageData(sample.noisy, voxel_size=sample.voxel_size), sample.clean

        job = self.jobs.submit("Making the sample tomogram", make)
        job.succeeded.connect(lambda made: self.document.open_image(made[0], SAMPLE_NAME, reference=made[1]))
        job.failed.connect(lambda message: show_error(self.parent, "Could not make the sample", message))
        return job

    def _may_replace(self) -> bool:
        return confirm_discard_results(self.parent, len(self.document.results.unsaved()), "Open another image")

    def _on_part_read(self, path: str, label: str, image) -> None:
        self.document.open_image(image, label)
        self.settings.set_last_folder("open", os.path.dirname(path))

    def _on_path_read(self, path: str, image) -> None:
        self.document.open_image(image, os.path.basename(path.rstrip(os.sep)))
        self.settings.add_recent_file(path)
        self.settings.set_last_folder("open", os.path.dirname(path))
