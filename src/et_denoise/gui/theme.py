"""The app's dark theme: Fusion with a dark palette, matching pyqtgraph colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

WINDOW = "#23272e"
BASE = "#1b1e23"
PANEL = "#2b3038"
TEXT = "#dde1e7"
MUTED = "#9aa3b0"
ACCENT = "#3d8fd6"
VIEW_BACKGROUND = "#121417"
ERROR = "#ff8a80"

STYLE_SHEET = f"""
QMainWindow::separator {{ background: {WINDOW}; width: 4px; height: 4px; }}
QDockWidget {{ titlebar-close-icon: none; font-weight: 600; }}
QDockWidget::title {{ background: {PANEL}; padding: 5px 8px; }}
QToolBar {{ background: {WINDOW}; border: none; border-bottom: 1px solid #15181c; spacing: 2px; padding: 2px; }}
QToolButton {{ padding: 3px 6px; border-radius: 4px; }}
QToolButton:hover {{ background: #343a44; }}
QToolButton:checked {{ background: #2f4b66; }}
QGroupBox {{ border: 1px solid #3a404a; border-radius: 6px; margin-top: 14px; padding: 8px 6px 6px 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {MUTED}; }}
QPushButton {{ padding: 5px 12px; border-radius: 4px; background: #353b45; border: 1px solid #444b57; }}
QPushButton:hover {{ background: #3e4551; }}
QPushButton:disabled {{ color: #6b7280; background: #2c3038; border-color: #363b44; }}
QPushButton#primary {{ background: {ACCENT}; border: 1px solid #4da0e8; color: white; font-weight: 600; }}
QPushButton#primary:hover {{ background: #4a9be2; }}
QPushButton#primary:disabled {{ background: #2f4b66; color: #9fb3c6; border-color: #2f4b66; }}
QLabel#description, QLabel#muted {{ color: {MUTED}; }}
QLabel#status {{ color: {MUTED}; }}
QLabel[error="true"] {{ color: {ERROR}; }}
QLabel#paneTitle {{ color: {TEXT}; font-weight: 600; }}
QWidget#paneHeader {{ background: {PANEL}; }}
QLabel#emptyHint {{ color: {MUTED}; background: {VIEW_BACKGROUND}; }}
QLabel#readout {{ font-family: monospace; }}
QTabWidget::pane {{ border: none; }}
QWidget#methodTabBar {{ padding: 2px 4px; }}
QToolButton#methodTab {{ padding: 5px 9px; color: {MUTED}; border: none; border-radius: 0;
                         border-bottom: 2px solid transparent; }}
QToolButton#methodTab:hover {{ color: {TEXT}; background: transparent; }}
QToolButton#methodTab:checked {{ color: {TEXT}; background: transparent; border-bottom: 2px solid {ACCENT}; }}
QFrame#methodTabRule {{ color: #3a404a; }}
QTabBar {{ qproperty-drawBase: 0; }}
QTabBar::tab {{ padding: 6px 10px; color: {MUTED}; background: {WINDOW}; border: none;
                border-bottom: 2px solid transparent; }}
QTabBar::tab:hover {{ color: {TEXT}; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QListWidget {{ background: {BASE}; border: 1px solid #353b45; border-radius: 4px; }}
QListWidget::item {{ padding: 5px 4px; }}
QListWidget::item:selected {{ background: #2f4b66; color: white; }}
QStatusBar {{ background: {PANEL}; }}
QStatusBar::item {{ border: none; }}
QProgressBar {{ border: 1px solid #444b57; border-radius: 3px; background: {BASE}; height: 12px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 2px; }}
"""


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: "#f3f4f6",
        QPalette.ColorRole.ToolTipText: "#111827",
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7cb8ff",
        QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Dark Fusion theme for widgets and pyqtgraph views."""
    pg.setConfigOptions(background=VIEW_BACKGROUND, foreground=TEXT, imageAxisOrder="row-major")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
