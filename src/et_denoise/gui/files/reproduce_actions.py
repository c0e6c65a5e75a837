"""Copy the command that reproduces a result; export a session's results as a bash script.

The commands read the document's image file; for the built-in sample (which
has no file) they first write the sample with the same shape and seed.
Outputs are named as the save dialog suggests (``tomo_Median.tif``).
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from et_denoise.engine.errors import ParameterError
from et_denoise.cli.reproduce import (SAMPLE_INPUT, ScriptEntry, reproduce_commands, sample_command, session_script,
                           write_script)
from et_denoise.gui.widgets.dialogs import show_error
from et_denoise.gui.model import Document, Result
from et_denoise.gui.files.saving import suggested_file_name
from et_denoise.gui.settings import AppSettings

#: The opener makes the sample with this seed.
SAMPLE_SEED = 0


def _input(document: Document) -> str | None:
    """The image's file, or ``None`` for the built-in sample."""
    path = document.image.path
    return None if path is None else str(path)


def result_commands_text(document: Document, result: Result) -> str:
    """The command lines (one per line) that compute ``result`` again.

    Raises
    ------
    ParameterError
        No command reproduces it (see :func:`cli.reproduce.reproduce_commands`).
    """
    input_path = _input(document)
    lines = [] if input_path is not None else [sample_command(document.planes().shape, seed=SAMPLE_SEED)]
    lines += reproduce_commands(input_path or SAMPLE_INPUT, suggested_file_name(document, result), result.params)
    return "\n".join(lines)


def copy_result_command(parent: QWidget | None, document: Document, result: Result) -> bool:
    """Put the commands of ``result`` on the clipboard; tell the user why when there are none."""
    try:
        text = result_commands_text(document, result)
    except ParameterError as error:
        show_error(parent, "No command for this result", f"“{result.name}” cannot be reproduced "
                   f"from the command line: {error}.")
        return False
    QApplication.clipboard().setText(text)
    window = parent.window() if parent is not None else None
    if hasattr(window, "statusBar"):  # the feedback: nothing else shows that the copy happened
        lines = text.count("\n") + 1
        window.statusBar().showMessage(f"Copied the command{'s' if lines > 1 else ''} of “{result.name}” "
                                       f"to the clipboard ({lines} line{'s' if lines > 1 else ''}).", 5000)
    return True


def session_script_text(document: Document) -> str:
    """A bash script with the commands of every result of the document."""
    entries = [ScriptEntry(result.name, suggested_file_name(document, result), result.params)
               for result in document.results]
    return session_script(_input(document), entries, sample_shape=document.planes().shape, sample_seed=SAMPLE_SEED)


def export_session_script(parent: QWidget | None, document: Document, settings: AppSettings,
                          path: str | None = None) -> str | None:
    """Ask where (unless ``path`` is given) and write :func:`session_script_text`; returns the path written."""
    if not document.has_image or len(document.results) == 0:
        return None
    if path is None:
        start = os.path.join(settings.last_folder("script"), "et-denoise-session.sh")
        path, _ = QFileDialog.getSaveFileName(parent, "Export session as script", start,
                                              "Bash script (*.sh);;All files (*)")
        if not path:
            return None
    try:
        write_script(path, session_script_text(document), overwrite=True)
    except OSError as error:
        show_error(parent, "Could not write the script", f"{path}: {error.strerror or error}")
        return None
    settings.set_last_folder("script", os.path.dirname(path))
    return path
