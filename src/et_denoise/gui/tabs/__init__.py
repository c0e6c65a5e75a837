"""Method tabs.  Every module in this package is imported by :func:`gui.tabs.registry.tab_specs`,
so a new tab is one new module here that calls :func:`~gui.tabs.registry.register_tab`."""
