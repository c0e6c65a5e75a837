"""Small widgets shared by several parts of the window: parameter forms, status lines, dialogs, job status, results list."""
