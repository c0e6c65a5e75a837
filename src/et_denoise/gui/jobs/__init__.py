"""Running engine jobs off the GUI thread, with progress and cancel."""
