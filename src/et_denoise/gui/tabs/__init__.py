"""Method tabs, one sub-package each; :data:`gui.tabs.registry.TABS` lists them in the order shown."""
