"""The main window: menus, toolbar, the comparison canvas, method tabs, results and status bar."""

from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QStackedWidget, QToolBar, QVBoxLayout,
                               QWidget)

from et_denoise.gui.about import APP_NAME, show_about
from et_denoise.gui.canvas.canvas import CompareCanvas, CompareMode
from et_denoise.gui.canvas.orientation_actions import OrientationActions
from et_denoise.engine.volume.storage import ResultStorage, ScratchFolder
from et_denoise.gui.files.preferences_dialog import PreferencesDialog
from et_denoise.gui.files.properties_dialog import PropertiesDialog
from et_denoise.gui.shortcuts_dialog import show_shortcuts
from et_denoise.gui.widgets.dialogs import confirm_discard_results
from et_denoise.gui.icons import icon
from et_denoise.gui.jobs.job_runner import JobRunner
from et_denoise.gui.widgets.job_status import JobStatus
from et_denoise.gui.widgets.memory_status import MemoryStatus
from et_denoise.gui.widgets.method_tabs import MethodTabs
from et_denoise.gui.model import Document
from et_denoise.gui.files.opening import ImageOpener
from et_denoise.gui.canvas.pixel_readout import PixelReadout
from et_denoise.gui.widgets.results_panel import ResultsPanel
from et_denoise.gui.files.saving import save_result
from et_denoise.gui.settings import AppSettings
from et_denoise.gui.canvas.slice_control import SliceControl
from et_denoise.gui.tabs.base import Tab, TabContext
from et_denoise.gui.tabs.registry import TABS

OPEN_FILTER = "Images (*.tif *.tiff *.mrc *.rec *.st *.mrcs *.ali *.map);;All files (*)"
_MODE_KEYS = {CompareMode.SPLIT: "Ctrl+1", CompareMode.SIDE_BY_SIDE: "Ctrl+2", CompareMode.DIFFERENCE: "Ctrl+3",
              CompareMode.ORIGINAL: "Ctrl+4", CompareMode.RESULT: "Ctrl+5"}
_MODE_ICONS = {CompareMode.SPLIT: "split", CompareMode.SIDE_BY_SIDE: "side_by_side",
               CompareMode.DIFFERENCE: "difference"}
_MODE_TIPS = {
    CompareMode.SPLIT: "Original on the left, result on the right of a line you drag across the image",
    CompareMode.SIDE_BY_SIDE: "Original and result next to each other, zoomed and panned together",
    CompareMode.DIFFERENCE: "Original minus result: what the method removed",
    CompareMode.ORIGINAL: "The original only",
    CompareMode.RESULT: "The result only",
}


class MainWindow(QMainWindow):
    """ET Denoise's window; ``document`` is the open image and its results."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self._ask_before_closing = True
        self.document = Document()
        self.jobs = JobRunner(self)
        self.storage = ResultStorage(ScratchFolder(self.settings.scratch_base()), self.settings.memory_budget(),
                                     self.settings.scheduler())
        self.storage.scratch.remove_stale()
        self.opener = ImageOpener(self.document, self.jobs, self.settings, self)
        self.setWindowIcon(icon("et-denoise"))
        self.setAcceptDrops(True)
        self._build_central()
        self._build_tabs()
        self._build_results()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._on_tabs_current_changed(self.tabs.currentIndex())
        self.document.image_opened.connect(self._on_document_image_opened)
        self.document.voxel_size_changed.connect(lambda _voxel: self._on_document_image_opened(self.document))
        self.document.comparison_changed.connect(self._on_document_comparison_changed)
        for signal in (self.document.results.added, self.document.results.removed, self.document.results.changed):
            signal.connect(self._on_results_changed)
        self.central_stack.currentChanged.connect(lambda _index: self._update_actions())
        self._restore_window()
        self._update_title()
        self._update_actions()

    # ------------------------------------------------------------ builders
    def _build_central(self) -> None:
        self.canvas = CompareCanvas(self.document)
        self.slice_control = SliceControl(self.document)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # The canvas, or the central view of the current tab (see Tab.central_view).
        self.central_stack = QStackedWidget()
        self.central_stack.addWidget(self.canvas)
        layout.addWidget(self.central_stack, 1)
        layout.addWidget(self.slice_control)
        self.setCentralWidget(central)
        self.canvas.mode_changed.connect(self._on_canvas_mode_changed)

    def _build_tabs(self) -> None:
        context = TabContext(self.document, self.jobs, self.settings, self.storage)
        self.tabs = MethodTabs()
        self.tab_keys = [spec.key for spec in TABS]
        self._tabs: list[Tab] = []
        for spec in TABS:
            tab = spec.factory(context)
            index = self.tabs.addTab(tab, spec.title)
            tab.canvas_requested.connect(self.show_canvas)
            self.tabs.setTabToolTip(index, spec.tooltip)
            self._tabs.append(tab)
        self._active_tab: Tab | None = None
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.methods_dock = self._dock("Methods", "methodsDock", self.tabs)

    def _build_results(self) -> None:
        self.results_panel = ResultsPanel(self.document, self.settings)
        self.results_panel.save_requested.connect(self.save_result)
        self.results_dock = self._dock("Results", "resultsDock", self.results_panel)
        self.splitDockWidget(self.methods_dock, self.results_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.methods_dock, self.results_dock], [660, 170], Qt.Orientation.Vertical)
        self.resizeDocks([self.methods_dock], [400], Qt.Orientation.Horizontal)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, icon_name: str = "", tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open…", self.choose_file, QKeySequence.StandardKey.Open, "open",
                                        "Open a TIFF or MRC image or stack")
        self.open_folder_action = self._action("Open &folder (slices, OME-Zarr)…", self.choose_folder,
                                               "Ctrl+Shift+O", tip="Open a folder of 2-D TIFF slices as a stack, "
                                               "or an OME-Zarr image (a .zarr folder)")
        self.open_region_action = self._action("Open re&gion…", self.choose_region, tip=(
            "Open a part of a large tomogram, binned if you like, reading only its planes"))
        self.sample_action = self._action("Open &sample", lambda: self.opener.open_sample(), "Ctrl+Shift+S",
                                          "sample", "Open a synthetic tomogram with realistic ET noise")
        self.save_action = self._action("&Save result as…", self._on_save_action_triggered,
                                        QKeySequence.StandardKey.Save, "save",
                                        "Save the result shown as TIFF, MRC or OME-Zarr")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.mode_actions: dict[CompareMode, QAction] = {}
        group = QActionGroup(self)
        for mode in CompareMode:
            action = self._action(mode.value, lambda _checked=False, mode=mode: self.show_canvas(mode),
                                  _MODE_KEYS[mode], _MODE_ICONS.get(mode, ""), _MODE_TIPS[mode])
            action.setCheckable(True)
            group.addAction(action)
            self.mode_actions[mode] = action
        self.mode_actions[self.canvas.mode].setChecked(True)
        self.grid_action = self._action("Grid", self.show_tab_view, "Ctrl+6", "grid",
                                        "The original and the chosen results in a grid of linked views, with "
                                        "line profile and metrics (Compare tab)")
        self.grid_action.setCheckable(True)
        group.addAction(self.grid_action)
        self.auto_contrast_action = self._action(
            "&Auto contrast", self.canvas.auto_contrast, "Ctrl+Shift+A", "contrast",
            "Set black and white at the 0.5 and 99.5 percentiles of the slice shown")
        self.fit_action = self._action("&Fit image in view", self.canvas.reset_view, "Ctrl+0", "fit",
                                       "Zoom to show the whole image")
        self.orientations = OrientationActions(self.document, self)
        self.preferences_action = self._action(
            "&Preferences…", lambda: PreferencesDialog(self.settings, self.storage, self).exec(),
            QKeySequence.StandardKey.Preferences, tip="The memory budget of whole-volume jobs and where results "
            "too large for it are kept")
        self.properties_action = self._action("&Properties…", lambda: PropertiesDialog(self.document, self).exec(),
                                              tip="The voxel size (for the scale bar and the files saved)")
        self.next_slice_action = self._action("Next slice", lambda: self.document.view.step(1),
                                              QKeySequence.StandardKey.MoveToPreviousPage)
        self.previous_slice_action = self._action("Previous slice", lambda: self.document.view.step(-1),
                                                  QKeySequence.StandardKey.MoveToNextPage)
        for action in (self.next_slice_action, self.previous_slice_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.about_action = self._action(f"&About {APP_NAME}", lambda: show_about(self))

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        menu.addActions([self.open_action, self.open_folder_action, self.open_region_action])
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        menu.addAction(self.sample_action)
        menu.addSeparator()
        menu.addAction(self.save_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)

        menu = self.menuBar().addMenu("&Edit")
        menu.addAction(self.preferences_action)

        menu = self.menuBar().addMenu("&View")
        menu.addActions([*self.mode_actions.values(), self.grid_action])
        menu.addSeparator()
        menu.addActions([self.auto_contrast_action, self.fit_action])
        menu.addSeparator()
        menu.addActions(self.orientations.list())
        menu.addActions([self.next_slice_action, self.previous_slice_action])
        menu.addSeparator()
        menu.addActions([self.methods_dock.toggleViewAction(), self.results_dock.toggleViewAction()])

        menu = self.menuBar().addMenu("&Image")
        menu.addAction(self.properties_action)

        menu = self.menuBar().addMenu("&Help")
        menu.addAction("&Keyboard shortcuts", lambda: show_shortcuts(self))
        menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions([self.open_action, self.sample_action, self.save_action])
        toolbar.addSeparator()
        toolbar.addActions([*(self.mode_actions[mode] for mode in _MODE_ICONS), self.grid_action])
        toolbar.addSeparator()
        toolbar.addActions([self.auto_contrast_action, self.fit_action])
        toolbar.addSeparator()
        toolbar.addActions(self.orientations.list())
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        self.readout = PixelReadout()
        self.image_info = QLabel()
        self.image_info.setObjectName("muted")
        self.image_info.setContentsMargins(0, 0, 10, 0)
        self.job_status = JobStatus(self.jobs)
        self.memory_status = MemoryStatus(self.storage)
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        bar.addWidget(self.readout, 1)
        bar.addPermanentWidget(self.job_status)
        bar.addPermanentWidget(self.image_info)
        bar.addPermanentWidget(self.memory_status)
        self.canvas.hovered.connect(self.readout.show_info)

    # ------------------------------------------------------------ public
    def open_path(self, path: str):
        """Open an image file or a folder of slices (in the background); returns the job."""
        return self.opener.open_path(path)

    def choose_file(self) -> None:
        """Ask for an image file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self.settings.last_folder("open"), OPEN_FILTER)
        if path:
            self.open_path(path)

    def choose_region(self) -> None:
        """Ask for an image file, then for the region and bin factor to read of it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open region of an image", self.settings.last_folder("open"),
                                              OPEN_FILTER)
        if path:
            self.opener.open_region(path)

    def choose_folder(self) -> None:
        """Ask for a folder of 2-D TIFF slices (opened as a stack) or an OME-Zarr store, and open it."""
        path = QFileDialog.getExistingDirectory(self, "Open a folder of slices or an OME-Zarr image",
                                                self.settings.last_folder("open"))
        if path:
            self.open_path(path)

    def save_result(self, result, path: str | None = None):
        """Save ``result`` (asking where when ``path`` is None); returns the job or None."""
        return save_result(self, self.document, result, self.jobs, self.settings, path)

    def tab(self, key: str) -> Tab:
        """The tab listed as ``key`` in :data:`~gui.tabs.registry.TABS` (a method's name for the filter tabs)."""
        return self._tabs[self.tab_keys.index(key)]

    def select_tab(self, key: str) -> Tab:
        """Show the tab registered as ``key`` and return it."""
        self.tabs.setCurrentIndex(self.tab_keys.index(key))
        return self.tab(key)

    # ------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    # ------------------------------------------------------------ closing
    def close_without_asking(self) -> None:
        """Close even with unsaved results (the system is ending the app: no dialog may wait)."""
        self._ask_before_closing = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        if self._ask_before_closing and not confirm_discard_results(
                self, len(self.document.results.unsaved()), "Quit"):
            event.ignore()
            return
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.set_value("view/mode", self.canvas.mode.name)
        self.settings.sync()
        for tab in self._tabs:
            tab.shutdown()
        # Every job must have ended before the thread pool is destroyed: its
        # destructor would otherwise wait for Python work while holding the GIL.
        self.hide()
        self.jobs.cancel_all()
        self.jobs.wait()
        # Deliver what the ended jobs posted while the widgets they update still exist.
        QCoreApplication.sendPostedEvents()
        self.storage.remove_files()
        event.accept()

    def _restore_window(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1440, 900)
        if state is not None:
            self.restoreState(state)
        mode = self.settings.value("view/mode", CompareMode.SPLIT.name)
        if mode in CompareMode.__members__:
            self.canvas.set_mode(CompareMode[mode])

    # ------------------------------------------------------------ helpers
    def _update_title(self) -> None:
        name = self.document.name
        self.setWindowTitle(f"{name}[*] — {APP_NAME}" if name else APP_NAME)
        self.setWindowModified(bool(self.document.results.unsaved()))

    def _update_actions(self) -> None:
        has_image = self.document.has_image
        canvas_shown = self.central_stack.currentWidget() is self.canvas
        for action in (*self.mode_actions.values(), self.next_slice_action, self.previous_slice_action,
                       self.properties_action):
            action.setEnabled(has_image)
        for action in (self.auto_contrast_action, self.fit_action):
            action.setEnabled(has_image and canvas_shown)
        self.grid_action.setEnabled(has_image and self._tab_with_view() is not None)
        self.save_action.setEnabled(self.results_panel.selected() is not None)

    # ------------------------------------------------------------ handlers
    def _on_document_image_opened(self, document: Document) -> None:
        self._update_title()
        self._update_actions()
        shape = " × ".join(str(n) for n in reversed(document.image.data.shape))
        voxel = document.voxel_size
        size = f" · {voxel[-1]:g} Å/px" if voxel else " · pixel size unknown (Image ▸ Properties)"
        self.image_info.setText(f"{shape} · {document.image.data.dtype}{size}")

    def _on_document_comparison_changed(self, _comparison) -> None:
        self._update_actions()

    def _on_results_changed(self, _result) -> None:
        self._update_title()
        self._update_actions()

    def show_canvas(self, mode: CompareMode | None = None) -> None:
        """Show the comparison canvas in the central area, in ``mode`` if given."""
        if mode is not None:
            self.canvas.set_mode(mode)
        self.central_stack.setCurrentWidget(self.canvas)
        self.mode_actions[self.canvas.mode].setChecked(True)

    def _tab_with_view(self) -> Tab | None:
        """The current tab if it has a central view, else the first tab that has one (Compare)."""
        tabs = [self._active_tab, *self._tabs] if self._active_tab is not None else self._tabs
        return next((tab for tab in tabs if tab.central_view is not None), None)

    def show_tab_view(self) -> None:
        """Show the central view (the Compare grid), switching to its tab if another one is current."""
        tab = self._tab_with_view()
        if tab is None:
            return
        if tab is not self._active_tab:
            self.tabs.setCurrentIndex(self._tabs.index(tab))  # its handler shows the view
            return
        view = tab.central_view
        if self.central_stack.indexOf(view) < 0:
            self.central_stack.addWidget(view)
        self.central_stack.setCurrentWidget(view)
        self.grid_action.setChecked(True)

    def _on_canvas_mode_changed(self, mode: CompareMode) -> None:
        if self.central_stack.currentWidget() is self.canvas:
            self.mode_actions[mode].setChecked(True)

    def _on_tabs_current_changed(self, index: int) -> None:
        if self._active_tab is not None:
            self._active_tab.set_active(False)
        self._active_tab = self._tabs[index] if 0 <= index < len(self._tabs) else None
        if self._active_tab is not None:
            self._active_tab.set_active(True)
        if self._active_tab is not None and self._active_tab.central_view is not None:
            self.show_tab_view()
        else:
            self.show_canvas()
        self._update_actions()

    def _on_save_action_triggered(self) -> None:
        result = self.results_panel.selected()
        if result is not None:
            self.save_result(result)

    def _on_recent_menu_about_to_show(self) -> None:
        self.recent_menu.clear()
        paths = self.settings.recent_files()
        for path in paths:
            self.recent_menu.addAction(os.path.basename(path.rstrip(os.sep)) + f"  —  {os.path.dirname(path)}",
                                       lambda path=path: self.open_path(path))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent_files)
        else:
            self.recent_menu.addAction("No recent files").setEnabled(False)
