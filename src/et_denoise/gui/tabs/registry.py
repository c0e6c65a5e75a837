"""The method tabs the main window shows, in the order shown: one explicit tuple, :data:`TABS`.

Adding a tab takes a :class:`~gui.tabs.base.Tab` subclass in its own
sub-package of :mod:`gui.tabs` and one :class:`TabSpec` in :data:`TABS`.
A tab module must stay cheap to import (no TensorFlow at import time: import
it inside the functions that train or predict).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from collections.abc import Callable

from et_denoise.engine.filters import FILTERS
from et_denoise.gui.tabs.base import Tab, TabContext
from et_denoise.gui.tabs.compare.compare_tab import CompareTab
from et_denoise.gui.tabs.filters.filter_tab import FilterTab
from et_denoise.gui.tabs.noise.noise_tab import NoiseTab
from et_denoise.gui.tabs.structn2v.structn2v_tab import StructN2VTab


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
        ``factory(context) -> Tab``.
    tooltip : str
        Shown when hovering the tab.
    """

    key: str
    title: str
    factory: Callable[[TabContext], Tab]
    tooltip: str = ""


#: Every tab, in order: one per classic filter (``engine.filters.FILTERS``), StructN2V, noise analysis, compare.
TABS: tuple[TabSpec, ...] = (
    *(TabSpec(method.name, method.label, partial(FilterTab, method), method.description)
      for method in FILTERS.values()),
    TabSpec("structn2v", "StructN2V", StructN2VTab,
            "Train a self-supervised denoising network (Noise2Void / StructN2V) on the open image"),
    TabSpec("noise", "Noise analysis", NoiseTab,
            "Measure the noise's correlation between neighbouring pixels and turn it into a "
            "StructN2V blind-spot mask"),
    TabSpec("compare", "Compare", CompareTab,
            "The original and your results side by side: line profile, metrics, figure export"),
)
