"""What every method tab receives, and what the main window calls on it (directly: every tab is a Tab)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from et_denoise.engine.volume.storage import ResultStorage
from et_denoise.gui.jobs.job_runner import JobRunner
from et_denoise.gui.model import Document
from et_denoise.gui.settings import AppSettings


@dataclass(frozen=True)
class TabContext:
    """The shared objects a tab may use.

    Attributes
    ----------
    document : Document
        The open image (``document.image``, ``document.current_slice()``,
        ``document.z``), its results (``document.results``) and what is shown;
        a tab adds a finished result with ``document.add_result(result)``.
    jobs : JobRunner
        Runs every computation off the GUI thread (``jobs.submit``).
    settings : AppSettings
        Remembers the tab's parameters between runs.
    storage : ResultStorage
        Makes whole-image results within the memory budget, in memory or in
        the scratch folder (``storage.denoise(image, make_job, ...)``).
    """

    document: Document
    jobs: JobRunner
    settings: AppSettings
    storage: ResultStorage


class Tab(QWidget):
    """Base class of method tabs: a widget told when it becomes the current tab.

    Tabs never reach into each other; they talk only through the document.

    Attributes
    ----------
    central_view : QWidget or None
        A view the main window shows in its central area, in place of the
        comparison canvas, when this tab becomes the current one (the Compare
        tab's grid; View > Grid shows it again); None keeps the canvas.

    Signals
    -------
    canvas_requested()
        The tab wants the comparison canvas shown in place of its central view
        (the user picked a result to look at in the split view).
    """

    canvas_requested = Signal()

    def __init__(self, context: TabContext) -> None:
        super().__init__()
        self.context = context
        self.active = False
        self.central_view: QWidget | None = None

    def set_active(self, active: bool) -> None:
        """Called by the main window when the tab is shown (True) or hidden (False).

        Subclasses that start work when shown (a live preview) extend it.
        """
        self.active = active

    def shutdown(self) -> None:
        """Called before the window closes: stop timers and jobs of this tab."""
