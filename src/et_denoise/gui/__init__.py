"""ET Denoise desktop app (PySide6 + pyqtgraph).

The entry point is :func:`gui.app.run_gui`.  :mod:`gui.model` holds the open
document and its results without any Qt import, so it can be tested and reused
headless; every other module here is a Qt view or controller that receives the
objects it shows and subscribes to their signals.
"""
