"""Registers one :class:`~gui.tabs.filter_tab.FilterTab` per classic filter in ``engine.filters.FILTERS``."""

from functools import partial

from et_denoise.engine.filters import FILTERS
from et_denoise.gui.tabs.filters.filter_tab import FilterTab
from et_denoise.gui.tabs.registry import register_tab

for _order, _method in enumerate(FILTERS.values()):
    register_tab(_method.name, _method.label, partial(FilterTab, _method), order=10 + _order,
                 tooltip=_method.description)
