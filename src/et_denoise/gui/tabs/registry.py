"""The tab registry: which method tabs the main window shows, and in which order.

Adding a tab takes one new module in :mod:`gui.tabs` that registers itself at
import time::

    # gui/tabs/noise_tab.py
    from et_denoise.gui.tabs.base import Tab, TabContext
    from et_denoise.gui.tabs.registry import register_tab

    class NoiseTab(Tab):
        def __init__(self, context: TabContext) -> None:
            super().__init__(context)
            ...

    register_tab("noise", "Noise analysis", NoiseTab, order=50,
                 tooltip="Measure the noise level and its correlation")

:func:`tab_specs` imports every module of the package, so nothing else has to
be edited.  Orders in use: 10–30 the classic filters, 40 StructN2V, 50 noise
analysis, 60 compare.  A tab module must stay cheap to import (no TensorFlow
at import time: import it inside the functions that train or predict).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from PySide6.QtWidgets import QWidget

from et_denoise.gui.tabs.base import TabContext

_specs: dict[str, "TabSpec"] = {}
_discovered = False


@dataclass(frozen=True)
class TabSpec:
    """How to make one tab.

    Attributes
    ----------
    key : str
        Unique identifier (a method's ``name`` for filter tabs).
    title : str
        Text on the tab.
    factory : callable
        ``factory(context) -> QWidget`` (usually a :class:`~gui.tabs.base.Tab` subclass).
    order : int
        Tabs are shown by increasing order.
    tooltip : str
        Shown when hovering the tab.
    """

    key: str
    title: str
    factory: Callable[[TabContext], QWidget]
    order: int = 100
    tooltip: str = ""


def register_tab(key: str, title: str, factory: Callable[[TabContext], QWidget], *,
                 order: int = 100, tooltip: str = "") -> None:
    """Add a tab; registering the same key again replaces it."""
    _specs[key] = TabSpec(key, title, factory, order, tooltip)


def tab_specs() -> list[TabSpec]:
    """Every registered tab, in order (importing the tab modules on first call)."""
    global _discovered
    if not _discovered:
        package = importlib.import_module("et_denoise.gui.tabs")
        for module in pkgutil.walk_packages(package.__path__, prefix="et_denoise.gui.tabs."):
            importlib.import_module(module.name)
        _discovered = True
    return sorted(_specs.values(), key=lambda spec: (spec.order, spec.key))
