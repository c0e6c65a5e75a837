"""The Compare tab: the original and chosen results side by side, a line profile, metrics, figure export.

Users come to decide which method suits their data.  The tab shows the
original and every checked result in a grid of linked views (one zoom, one
pan, the document's slice), a line profile across all of them, and a
sortable table of metrics computed in the background.  "Export figure"
writes the grid (with the profile and the table) as PNG or PDF; each tile's
⧉ button copies the command line that computes its result again.
"""

from __future__ import annotations

import enum
import os

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QVBoxLayout)
from superqt import QEnumComboBox

from et_denoise.engine.compare.comparison import (ORIGINAL_NAME, ComparedImage, MetricsTable, compare, default_regions, line_profile,
                               unique_names)
from et_denoise.engine.errors import ImageError
from et_denoise.engine.compare.figure import Panel, result_colour, save_comparison_figure
from et_denoise.engine.io import read_image
from et_denoise.gui.slice_view import Orientation
from et_denoise.gui.tabs.compare.compare_grid import CompareGrid, ContrastMode, Tile
from et_denoise.gui.widgets.dialogs import show_error
from et_denoise.gui.widgets.status_label import status_label
from et_denoise.gui.tabs.compare.figure_dialog import FigureDialog, FigureOptions, load_options, save_options
from et_denoise.gui.jobs.job_runner import Job, LatestJob
from et_denoise.gui.tabs.compare.line_profile import LineProfilePlot, Profile
from et_denoise.gui.tabs.compare.metrics_table import MetricsTableView
from et_denoise.engine.describe import describe_params, format_seconds
from et_denoise.gui.model import Document, Result
from et_denoise.gui.files.reproduce_actions import copy_result_command, export_session_script
from et_denoise.gui.tabs.base import Tab, TabContext
from et_denoise.gui.theme import TEXT

_RESULT_ROLE = Qt.ItemDataRole.UserRole
#: Parameters shown in a tile's title: the first few numbers or texts, and any other one the user changed.
KEY_PARAMETERS = 3


class MetricsScope(enum.Enum):
    """Where the metrics are measured."""

    SLICE = "This slice"
    VOLUME = "Whole volume"

    def __str__(self) -> str:
        return self.value


class CompareTab(Tab):
    """Grid, line profile and metrics of the original and the checked results."""

    def __init__(self, context: TabContext) -> None:
        super().__init__(context)
        self.document: Document = context.document
        self.metrics: MetricsTable | None = None
        self._metrics_job = LatestJob(context.jobs)
        self._loaded_reference: np.ndarray | None = None
        self._loaded_reference_name = ""
        self._stale = True
        self._orientation = Orientation.XY
        self._build_widgets()
        self._build_layout()
        document = self.document
        document.image_opened.connect(self._on_document_image_opened)
        document.slice_changed.connect(self._on_document_slice_changed)
        document.view.changed.connect(self._on_document_view_changed)
        document.voxel_size_changed.connect(self._on_document_voxel_size_changed)
        document.results.added.connect(self._on_results_added)
        document.results.removed.connect(self._on_results_removed)
        document.results.changed.connect(self._on_results_changed)
        self._update_controls()

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        self.result_list = QListWidget()
        self.result_list.setMaximumHeight(180)
        self.result_list.setToolTip("Tick the results to compare with the original")
        self.result_list.itemChanged.connect(self._on_result_list_item_changed)
        self.contrast_box = QEnumComboBox(enum_class=ContrastMode)
        self.contrast_box.setToolTip("Shared: every tile has the original's black and white, so intensities "
                                     "compare directly. Per image: each tile stretched to its own range.")
        self.scope_box = QEnumComboBox(enum_class=MetricsScope)
        self.scope_box.setToolTip("Measure on the slice shown, or on every slice of the volume")
        self.scope_box.currentEnumChanged.connect(lambda _scope: self.request_metrics())
        self.regions_box = QCheckBox("Show regions")
        self.regions_box.setChecked(True)
        self.regions_box.setToolTip("The signal (solid) and background (dashed) boxes where SNR and CNR are "
                                    "measured; they count whether shown or not")
        self.regions_box.toggled.connect(lambda shown: self.grid.set_regions_visible(shown))
        self.reference_label = QLabel()
        self.reference_label.setObjectName("muted")
        self.reference_label.setWordWrap(True)
        self.reference_button = QPushButton("Load reference…")
        self.reference_button.setToolTip("A noise-free image of the same size, for PSNR and SSIM")
        self.reference_button.clicked.connect(self._on_reference_button_clicked)
        self.grid = CompareGrid()
        self.contrast_box.currentEnumChanged.connect(self.grid.set_contrast_mode)
        self.grid.tile_clicked.connect(self._on_grid_tile_clicked)
        self.grid.copy_requested.connect(lambda result: copy_result_command(self.window(), self.document, result))
        self.grid.line_moved.connect(self._update_profile)
        self.grid.regions_changed.connect(self.request_metrics)
        self.profile = LineProfilePlot()
        self.table = MetricsTableView()
        self.status = status_label()  # wrapped: a long text must not widen the panel
        self.figure_button = QPushButton("Export figure…")
        self.figure_button.setObjectName("primary")
        self.figure_button.setToolTip("The grid, line profile and metrics as PNG or PDF, at a chosen size and dpi")
        self.figure_button.clicked.connect(self._on_figure_button_clicked)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("The metrics table as a CSV file")
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.script_button = QPushButton("Export script…")
        self.script_button.setToolTip("A bash script with the command line of every result of this session")
        self.script_button.clicked.connect(
            lambda: export_session_script(self.window(), self.document, self.context.settings))

    def _build_layout(self) -> None:
        options = QFormLayout()
        options.setContentsMargins(0, 0, 0, 0)
        view_row = QHBoxLayout()
        view_row.addWidget(self.contrast_box, 1)
        view_row.addWidget(self.regions_box)
        options.addRow("View", view_row)
        options.addRow("Measure on", self.scope_box)
        reference_row = QHBoxLayout()
        reference_row.addWidget(self.reference_label, 1)
        reference_row.addWidget(self.reference_button)
        options.addRow("Reference", reference_row)
        # The grid, the profile and the table fill the window's central area while this tab is current.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.grid)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.setChildrenCollapsible(False)
        bottom.addWidget(self.profile)
        bottom.addWidget(self.table)
        splitter.addWidget(bottom)
        bottom.setStretchFactor(0, 2)
        bottom.setStretchFactor(1, 3)  # the table's columns need the room
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.central_view = splitter
        buttons = QHBoxLayout()
        for button in (self.script_button, self.csv_button, self.figure_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(QLabel("Compare the original with:"))
        layout.addWidget(self.result_list)
        layout.addLayout(options)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addStretch(1)

    # ------------------------------------------------------------ public
    def set_active(self, active: bool) -> None:
        """Bring everything up to date when shown (nothing is computed while hidden)."""
        super().set_active(active)
        if active and self._stale:
            self.refresh()

    def shutdown(self) -> None:
        """Stop measuring, and measure nothing more (the window is closing)."""
        super().set_active(False)
        self._metrics_job.cancel()

    def checked_results(self) -> list[Result]:
        """The results ticked for comparison, in the document's order."""
        checked = {self.result_list.item(row).data(_RESULT_ROLE) for row in range(self.result_list.count())
                   if self.result_list.item(row).checkState() == Qt.CheckState.Checked}
        return [result for result in self.document.results if result.id in checked]

    def set_checked(self, result: Result, checked: bool) -> None:
        """Tick or untick ``result``."""
        item = self._item_for(result)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def reference(self) -> np.ndarray | None:
        """The noise-free image PSNR and SSIM are measured against: a loaded file, else the sample's ground truth."""
        return self._loaded_reference if self._loaded_reference is not None else self.document.reference

    def load_reference(self, path: str) -> Job | None:
        """Read ``path`` in the background and use it as the reference (it must match the image's shape)."""
        if not self.document.has_image:
            return None
        image = self.document.image
        job = self.context.jobs.submit(f"Reading reference {os.path.basename(path)}", lambda _p, _c: read_image(path))
        job.succeeded.connect(lambda data: self._on_reference_read(image, path, data))
        job.failed.connect(lambda message: show_error(self.window(), "Could not read the reference", message))
        return job

    def refresh(self) -> None:
        """Rebuild the tiles, the profile and the metrics from the document (now if shown, else when shown)."""
        if not self.active:
            self._stale = True
            return
        self._stale = False
        self._update_controls()
        if not self.document.has_image:
            self.grid.set_tiles([])
            self.profile.set_profiles([])
            return
        self._show_tiles()
        self._update_profile()
        self.request_metrics()

    def request_metrics(self) -> None:
        """Measure the tiles' images in the background; the table updates when done."""
        if not self.active or not self.document.has_image or self.grid.regions() is None:
            self._stale = True
            return
        self.metrics = None
        self._metrics_job.submit("Measuring the results", self._metrics_function(),
                                 self._on_metrics_succeeded, self._on_metrics_failed)
        self.status.setText("Measuring…")

    def export_csv(self, path: str) -> bool:
        """Write the metrics table to ``path``; False (and a message) when it is not ready."""
        if self.metrics is None:
            show_error(self.window(), "Metrics not ready", "The metrics are still being computed; try again "
                       "in a moment.")
            return False
        try:
            self.metrics.write_csv(path, overwrite=True)
        except OSError as error:
            show_error(self.window(), "Could not write the table", f"{path}: {error.strerror or error}")
            return False
        self.status.setText(f"Metrics written to {os.path.basename(path)}.")
        return True

    def export_figure(self, path: str, options: FigureOptions) -> Job | None:
        """Write the grid as shown (same slice, contrast and line) to ``path`` (PNG or PDF) in the background."""
        if not self.document.has_image:
            return None
        tiles = self.grid.tiles
        panels = [Panel(tile.name, plane, subtitle=tile.subtitle, colour=None if tile.key is None else tile.colour,
                        levels=levels)
                  for tile, plane, levels in zip(tiles, self.grid.current_planes(), self.grid.levels())]
        line = self.grid.line() if options.profile else None
        measure = self._metrics_function() if options.metrics else None
        known = self.metrics
        where = f"{self.document.view.plane_label} shown" if self.document.is_volume else ""
        scope_of = self._scope_text
        voxel = self.document.voxel_size
        pixel_size = voxel[-1] if voxel else None  # the figure's scale bar

        def work(progress, cancel):
            table = (known or measure(progress, cancel)) if measure is not None else None
            caption = " · ".join(filter(None, (where, table and f"measured on {scope_of(table)}")))
            return save_comparison_figure(path, panels, line=line, metrics=table, size=options.size,
                                          caption=caption or None, overwrite=True, pixel_size=pixel_size)

        job = self.context.jobs.submit(f"Exporting figure {os.path.basename(path)}", work)
        job.succeeded.connect(lambda written: self.status.setText(f"Figure written to {written.name}."))
        job.failed.connect(lambda message: show_error(self.window(), "Could not export the figure", message))
        return job

    # ------------------------------------------------------------ helpers
    def _item_for(self, result: Result) -> QListWidgetItem | None:
        for row in range(self.result_list.count()):
            if self.result_list.item(row).data(_RESULT_ROLE) == result.id:
                return self.result_list.item(row)
        return None

    def _tiles(self) -> list[Tile]:
        document = self.document
        results = self.checked_results()
        names = unique_names([result.name for result in results])
        tiles = [Tile(None, ORIGINAL_NAME, document.name, f"{ORIGINAL_NAME}: {document.name}", TEXT,
                      document.planes())]
        for index, (result, name) in enumerate(zip(results, names)):
            planes = result.data if result.data.ndim == 3 else result.data[np.newaxis]
            tooltip = f"{result.summary()}\nClick to compare it with the original in the main view."
            subtitle = describe_params(result.params, key=KEY_PARAMETERS, shown=result.shown)
            tiles.append(Tile(result, name, subtitle, tooltip, result_colour(index), planes))
        return tiles

    def _metrics_function(self):
        """A job function measuring the current tiles (everything it needs captured now)."""
        document = self.document
        original = document.image.data
        images = [ComparedImage(tile.name, tile.key.data, tile.key.elapsed_s) for tile in self.grid.tiles[1:]]
        reference = self.reference()
        signal, background = self.grid.regions()
        by_slice = document.is_volume and self.scope_box.currentEnum() is MetricsScope.SLICE
        z = document.z if by_slice else None
        return lambda progress, cancel: compare(original, images, reference=reference, signal_region=signal,
                                                background_region=background, slice_index=z,
                                                progress=progress, cancel=cancel)

    def _update_profile(self) -> None:
        line = self.grid.line()
        if line is None or not self.grid.tiles:
            return
        profiles = []
        for tile, plane in zip(self.grid.tiles, self.grid.current_planes()):
            distance, values = line_profile(plane, *line)
            profiles.append(Profile(tile.name, tile.colour, distance, values))
        self.profile.set_profiles(profiles)

    def _show_tiles(self) -> None:
        """Build the tiles on the plane the document shows; the SNR regions only on XY slices (they are XY boxes)."""
        view = self.document.view
        self._orientation = view.orientation
        self.grid.set_tiles(self._tiles(), view.plane, regions=view.orientation is Orientation.XY,
                            row_scale=view.row_scale())

    def _scope_text(self, table: MetricsTable) -> str:
        """What ``table`` was measured on: its slice is an XY slice, which matters when XZ or YZ is shown."""
        off_xy = self.document.is_volume and self.document.view.orientation is not Orientation.XY
        return f"XY {table.scope}" if off_xy and table.scope.startswith("slice") else table.scope

    def _show_metrics_status(self, table: MetricsTable) -> None:
        times = [row.elapsed_s for row in table.rows if row.elapsed_s is not None]
        total = f" · methods took {format_seconds(sum(times))} in all" if times else ""
        view = self.document.view
        shown = "" if view.orientation is Orientation.XY or not self.document.is_volume else (
            f", not on the {view.orientation.label} plane shown (SNR and CNR use XY boxes)")
        self.status.setText(f"Measured on {self._scope_text(table)}{shown}{total}.")

    def _reset_line(self) -> None:
        """The profile line across the middle of the plane shown."""
        height, width = self.document.view.original().shape
        self.grid.set_line((0.1 * width, height / 2), (0.9 * width, height / 2))

    def _reset_geometry(self) -> None:
        """Default line (across the middle) and regions (chosen from the reference or the original)."""
        plane = self.document.current_slice()
        reference = self.reference()
        if reference is not None:
            plane = reference[self.document.z] if reference.ndim == 3 else reference
        self._reset_line()
        try:
            self.grid.set_regions(*default_regions(plane))
        except ImageError as error:
            self.status.setText(f"No SNR and CNR: {error}.")

    def _update_controls(self) -> None:
        has_image = self.document.has_image
        for widget in (self.reference_button, self.figure_button, self.contrast_box):
            widget.setEnabled(has_image)
        self.regions_box.setEnabled(has_image and self.document.view.orientation is Orientation.XY)
        self.scope_box.setEnabled(self.document.is_volume)
        self.script_button.setEnabled(has_image and len(self.document.results) > 0)
        self.csv_button.setEnabled(self.metrics is not None)
        if self._loaded_reference is not None:
            self.reference_label.setText(self._loaded_reference_name)
        elif self.document.reference is not None:
            self.reference_label.setText("the sample's ground truth")
        else:
            self.reference_label.setText("none: load a noise-free image for PSNR and SSIM")
        if not has_image:
            self.status.setText("Open an image, apply methods, then compare their results here.")
        elif len(self.document.results) == 0:
            self.status.setText("Apply a method: its result appears here next to the original.")

    # ------------------------------------------------------------ handlers
    def _on_document_image_opened(self, _document: Document) -> None:
        self._metrics_job.cancel()
        self._loaded_reference = None
        self.metrics = None
        self.result_list.clear()
        if self.document.has_image:
            self._show_tiles()
            self._reset_geometry()
        self._stale = True
        self.refresh()

    def _on_document_slice_changed(self, z: int) -> None:
        if not self.active:
            self._stale = True
            return
        self.grid.set_plane(self.document.view.plane)
        self._update_profile()
        if self.scope_box.currentEnum() is MetricsScope.SLICE:
            self.request_metrics()

    def _on_document_view_changed(self, view) -> None:
        if not self.active:
            self._stale = True
            return
        if view.orientation is not self._orientation:  # another plane, of another size
            self._show_tiles()
            self._reset_line()
            self._update_controls()
            if self.metrics is not None:
                self._show_metrics_status(self.metrics)
        else:
            self.grid.set_plane(view.plane)
        self._update_profile()

    def _on_document_voxel_size_changed(self, _voxel_size) -> None:
        if not self.active:
            self._stale = True
        elif self.document.has_image:
            self._show_tiles()  # the XZ and YZ aspect follows the voxel size

    def _on_results_added(self, result: Result) -> None:
        item = QListWidgetItem(result.name)
        item.setData(_RESULT_ROLE, result.id)
        item.setToolTip(result.summary())
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        with QSignalBlocker(self.result_list):
            self.result_list.addItem(item)
        self.refresh()

    def _on_results_removed(self, result: Result) -> None:
        item = self._item_for(result)
        if item is not None:
            with QSignalBlocker(self.result_list):
                self.result_list.takeItem(self.result_list.row(item))
        self.refresh()

    def _on_results_changed(self, result: Result) -> None:
        item = self._item_for(result)
        if item is not None and item.text() != result.name:
            with QSignalBlocker(self.result_list):
                item.setText(result.name)
            self.refresh()

    def _on_result_list_item_changed(self, _item: QListWidgetItem) -> None:
        self.refresh()

    def _on_grid_tile_clicked(self, result: Result | None) -> None:
        self.document.show(result)
        self.canvas_requested.emit()

    def _on_reference_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window(), "Load reference image",
                                              self.context.settings.last_folder("open"),
                                              "Images (*.tif *.tiff *.mrc *.rec *.st *.mrcs *.ali *.map);;"
                                              "All files (*)")
        if path:
            self.load_reference(path)

    def _on_reference_read(self, image, path: str, data) -> None:
        if image is not self.document.image:
            return
        if data.data.shape != image.data.shape:
            show_error(self.window(), "Reference does not match",
                       f"{os.path.basename(path)} has shape {data.data.shape}, the image {image.data.shape}: "
                       "the reference must be the same size.")
            return
        self._loaded_reference = data.data
        self._loaded_reference_name = os.path.basename(path)
        self._update_controls()
        self.request_metrics()

    def _on_metrics_succeeded(self, table: MetricsTable) -> None:
        self.metrics = table
        self.table.set_table(table, {tile.name: tile.colour for tile in self.grid.tiles})
        self._show_metrics_status(table)
        self._update_controls()

    def _on_metrics_failed(self, message: str) -> None:
        self.metrics = None
        self.status.setText(f"Metrics failed: {message}")
        self._update_controls()

    def _on_figure_button_clicked(self) -> None:
        dialog = FigureDialog(load_options(self.context.settings), self.window())
        if not dialog.exec():
            return
        options = dialog.options()
        save_options(self.context.settings, options)
        start = os.path.join(self.context.settings.last_folder("figure"),
                             f"{os.path.splitext(self.document.name)[0] or 'comparison'}_comparison.png")
        path, chosen = QFileDialog.getSaveFileName(self.window(), "Export figure", start,
                                                   "PNG image (*.png);;PDF document (*.pdf)")
        if not path:
            return
        if os.path.splitext(path)[1].lower() not in (".png", ".pdf"):
            path += ".pdf" if "pdf" in chosen.lower() else ".png"
        self.context.settings.set_last_folder("figure", os.path.dirname(path))
        self.export_figure(path, options)

    def _on_csv_button_clicked(self) -> None:
        start = os.path.join(self.context.settings.last_folder("figure"),
                             f"{os.path.splitext(self.document.name)[0] or 'comparison'}_metrics.csv")
        path, _ = QFileDialog.getSaveFileName(self.window(), "Export metrics", start, "CSV table (*.csv)")
        if path:
            self.context.settings.set_last_folder("figure", os.path.dirname(path))
            self.export_csv(path)

