"""Export a result's recipe: the JSON file that ``et-denoise batch --recipe FILE`` runs on many tomograms.

A filter's result becomes its method and parameters; a StructN2V / N2V
result becomes the folder its model was loaded from or saved to, which the
user picks when the model was saved elsewhere or not yet.  The engine's
:func:`~engine.recipe.recipe_of` makes the recipe and says why a result
cannot be one.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog, QWidget

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.recipe import N2V, recipe_of, recipe_refusal, save_recipe
from et_denoise.gui.files.saving import suggested_file_name
from et_denoise.gui.model import Document, Result
from et_denoise.gui.settings import AppSettings
from et_denoise.gui.widgets.dialogs import confirm, show_error

RECIPE_FILTER = "ET Denoise recipe (*.json);;All files (*)"
#: Where the user saves a model, said when a StructN2V result's model has no folder.
SAVE_MODEL_HINT = "save it first with “Save…” under the model in the StructN2V tab"


def recipe_tooltip(result: Result) -> str:
    """What "Export recipe…" does for ``result``, or why it cannot (then the action is disabled)."""
    refusal = recipe_refusal(result.method)
    if refusal is not None:
        return f"No recipe: {refusal}."
    if result.method == N2V:
        return ("Write a recipe naming the folder this result's model was saved in, for "
                f"'et-denoise batch --recipe' (if the model was never saved, {SAVE_MODEL_HINT}).")
    return "Write this result's method and parameters as a recipe, for 'et-denoise batch --recipe'."


def export_recipe(parent: QWidget | None, document: Document, settings: AppSettings, result: Result) -> str | None:
    """Ask for the model folder (N2V results) and the recipe file, and write the recipe; returns its path.

    Anything that keeps the result from being a recipe, or the file from being
    written, is told in one line; None then, and when the user gives up.
    """
    model = result.model_folder
    if result.method == N2V and model is None:
        model = QFileDialog.getExistingDirectory(parent, f"Export recipe: the folder the model of “{result.name}” "
                                                 "was saved in", settings.last_folder("model"))
        if not model:
            return None
    try:
        recipe = recipe_of(result.method, result.params, model)
    except ParameterError as error:
        hint = f" If its model was never saved, {SAVE_MODEL_HINT}." if result.method == N2V else ""
        show_error(parent, "No recipe for this result", f"“{result.name}” cannot be a recipe: {error}.{hint}")
        return None
    name = os.path.splitext(suggested_file_name(document, result))[0] + ".json"  # tomo_Median.json
    start = os.path.join(settings.last_folder("recipe"), name)
    path, _ = QFileDialog.getSaveFileName(parent, "Export recipe", start, RECIPE_FILTER, "",
                                          QFileDialog.Option.DontConfirmOverwrite)
    if not path:
        return None
    if not os.path.splitext(path)[1]:
        path += ".json"
    replace = os.path.exists(path)  # only a file there now, that the user agreed to replace
    if replace and not confirm(parent, "Replace file", f"{os.path.basename(path)} already exists.\n\nReplace it?"):
        return None
    try:
        save_recipe(path, recipe, overwrite=replace)
    except OSError as error:
        show_error(parent, "Could not write the recipe", f"{path}: {error.strerror or error}")
        return None
    except ImageError as error:  # the file appeared meanwhile: its message names it
        show_error(parent, "Could not write the recipe", str(error))
        return None
    settings.set_last_folder("recipe", os.path.dirname(os.path.abspath(path)))
    window = parent.window() if parent is not None else None
    if hasattr(window, "statusBar"):  # the feedback: nothing else shows that the file was written
        window.statusBar().showMessage(f"Exported the recipe of “{result.name}” to {path} "
                                       "(for et-denoise batch --recipe).", 8000)
    return path

