"""The list of finished results: select one to compare it, rename, delete or save it."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMenu, QPushButton, QVBoxLayout, QWidget)

from et_denoise.gui.widgets.dialogs import confirm
from et_denoise.engine.describe import format_seconds
from et_denoise.gui.model import Document, Result
from et_denoise.gui.files.recipe_export import export_recipe, recipe_tooltip
from et_denoise.gui.files.reproduce_actions import copy_result_command, export_session_script
from et_denoise.engine.recipe import recipe_refusal
from et_denoise.gui.settings import AppSettings

_RESULT_ROLE = Qt.ItemDataRole.UserRole


#: The list shows at least this many results without scrolling.
VISIBLE_ROWS = 4.5


class ResultsPanel(QWidget):
    """Shows ``document.results``; the selection is what the canvas compares with.

    ``settings`` gives the folder the session script is first offered in.

    Signals
    -------
    save_requested(result)
        The user asked to save ``result`` (the main window owns the file dialog).
    """

    save_requested = Signal(object)

    def __init__(self, document: Document, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.settings = settings
        self._build_widgets()
        self._build_actions()
        document.results.added.connect(self._on_results_added)
        document.results.removed.connect(self._on_results_removed)
        document.results.changed.connect(self._on_results_changed)
        document.comparison_changed.connect(self._on_document_comparison_changed)
        self._update_buttons()

    # ------------------------------------------------------------ builders
    def _build_widgets(self) -> None:
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        self.list.itemSelectionChanged.connect(self._on_list_selection_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.list.setToolTip("Every finished run. Select one to compare it with the original; "
                             "double-click to rename.")
        self.list.setMinimumHeight(int(VISIBLE_ROWS * (self.list.fontMetrics().height() + 8)))
        self.details = QLabel("Results of “Apply” appear here.")
        self.details.setObjectName("muted")
        self.save_button = QPushButton("Save as…")
        self.rename_button = QPushButton("Rename")
        self.delete_button = QPushButton("Delete")
        self.save_button.setToolTip("Write the selected result to a TIFF or MRC file, keeping the voxel size.")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.rename_button.clicked.connect(self._on_rename_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)

    def _build_actions(self) -> None:
        self.delete_action = QAction("Delete", self)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self._on_delete_clicked)
        self.list.addAction(self.delete_action)

    # ------------------------------------------------------------ public
    def selected(self) -> Result | None:
        """The selected result, if any."""
        items = self.list.selectedItems()
        return self._result(items[0]) if items else None

    def item_for(self, result: Result) -> QListWidgetItem | None:
        """The list row showing ``result``."""
        for row in range(self.list.count()):
            if self._result(self.list.item(row)) is result:
                return self.list.item(row)
        return None

    def delete(self, result: Result) -> None:
        """Remove ``result``, asking first if it was never saved."""
        if not result.saved and not confirm(self.window(), "Delete result",
                                            f"“{result.name}” is not saved. Delete it?"):
            return
        self.document.results.remove(result)

    # ------------------------------------------------------------ helpers
    def _result(self, item: QListWidgetItem) -> Result | None:
        wanted = item.data(_RESULT_ROLE)
        return next((result for result in self.document.results if result.id == wanted), None)

    def _decorate(self, item: QListWidgetItem, result: Result) -> None:
        with QSignalBlocker(self.list):
            item.setText(result.name)
            state = f"saved to {result.saved_path}" if result.saved else "not saved"
            item.setToolTip(f"{result.summary()}\n{state}")
            font = item.font()
            font.setItalic(not result.saved)
            item.setFont(font)

    def _update_buttons(self) -> None:
        result = self.selected()
        for button in (self.save_button, self.rename_button, self.delete_button):
            button.setEnabled(result is not None)
        if result is None:
            self.details.setText("Results of “Apply” appear here." if len(self.document.results) == 0
                                 else "Select a result to compare it with the original.")
            self.details.setToolTip("")
        else:
            state = "saved" if result.saved else "not saved"
            self.details.setText(f"{result.method_label} · {format_seconds(result.elapsed_s)} · {state}")
            where = f"Saved to {result.saved_path}" if result.saved else "Not saved"
            self.details.setToolTip(f"{result.summary()}\n{where}")

    # ------------------------------------------------------------ handlers
    def _on_results_added(self, result: Result) -> None:
        item = QListWidgetItem()
        item.setData(_RESULT_ROLE, result.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        with QSignalBlocker(self.list):
            self.list.addItem(item)
        self._decorate(item, result)
        self._update_buttons()

    def _on_results_removed(self, result: Result) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_RESULT_ROLE) == result.id:
                with QSignalBlocker(self.list):
                    self.list.takeItem(row)
                break
        self._update_buttons()

    def _on_results_changed(self, result: Result) -> None:
        item = self.item_for(result)
        if item is not None:
            self._decorate(item, result)
        self._update_buttons()

    def _on_document_comparison_changed(self, comparison) -> None:
        with QSignalBlocker(self.list):
            self.list.clearSelection()
            if isinstance(comparison, Result):
                item = self.item_for(comparison)
                if item is not None:
                    item.setSelected(True)
                    self.list.setCurrentItem(item)
        self._update_buttons()

    def _on_list_selection_changed(self) -> None:
        result = self.selected()
        if result is not None:
            self.document.show(result)
        self._update_buttons()

    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        result = self._result(item)
        if result is not None:
            self.document.results.rename(result, item.text())
            self._decorate(item, result)

    def _on_list_context_menu_requested(self, position) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        result = self._result(item)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.addAction("Save as…", lambda: self.save_requested.emit(result))
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Delete", lambda: self.delete(result))
        menu.addSeparator()
        menu.addAction("Copy command", lambda: copy_result_command(self.window(), self.document, result))
        recipe = menu.addAction("Export recipe…",
                                lambda: export_recipe(self.window(), self.document, self.settings, result))
        recipe.setEnabled(recipe_refusal(result.method) is None)
        recipe.setToolTip(recipe_tooltip(result))
        menu.addAction("Export session as script…",
                       lambda: export_session_script(self.window(), self.document, self.settings))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def _on_save_clicked(self) -> None:
        if self.selected() is not None:
            self.save_requested.emit(self.selected())

    def _on_rename_clicked(self) -> None:
        items = self.list.selectedItems()
        if items:
            self.list.editItem(items[0])

    def _on_delete_clicked(self) -> None:
        if self.selected() is not None:
            self.delete(self.selected())
