"""A recipe: one denoising setting saved as a small JSON file, to run unchanged on many tomograms.

A recipe names a classic filter and its parameters, or a trained StructN2V /
N2V model folder (and a model folder is itself a valid recipe).  It is what
``et-denoise batch --recipe FILE`` applies to every input.

File layout::

    {"format": "et-denoise-recipe", "format_version": 1,
     "method": "diffusion", "params": {"iterations": 20, "mode": "3d", ...}}

    {"format": "et-denoise-recipe", "format_version": 1, "method": "n2v", "model": "models/wbp"}

A relative model path is relative to the recipe file's folder.

:func:`recipe_of` makes the recipe that repeats a result (a filter's method and
parameters, or the folder its N2V model was saved in); :func:`save_recipe`
writes it.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from dataclasses import dataclass

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.params import MethodParams

FORMAT = "et-denoise-recipe"
FORMAT_VERSION = 1
N2V = "n2v"


@dataclass(frozen=True)
class Recipe:
    """One denoising setting.

    Attributes
    ----------
    method : str
        A name of :data:`engine.filters.FILTERS`, or ``"n2v"``.
    params : MethodParams or None
        The filter's parameters (None for ``"n2v"``).
    model : pathlib.Path or None
        The model folder (``"n2v"`` only).

    Examples
    --------
    >>> from et_denoise.engine.filters import FILTERS
    >>> recipe = Recipe("median", FILTERS["median"].params_type(size=7))
    >>> Recipe.from_json(recipe.to_json()) == recipe
    True
    """

    method: str
    params: MethodParams | None = None
    model: pathlib.Path | None = None

    def __post_init__(self) -> None:
        from et_denoise.engine.filters import FILTERS

        if self.method == N2V:
            if self.model is None or self.params is not None:
                raise ParameterError("an n2v recipe names a model folder and no filter parameters")
        elif self.method in FILTERS:
            if not isinstance(self.params, FILTERS[self.method].params_type) or self.model is not None:
                raise ParameterError(f"a {self.method} recipe needs {FILTERS[self.method].params_type.__name__}")
        else:
            raise ParameterError(f"unknown method {self.method!r} in the recipe; known: {', '.join([*FILTERS, N2V])}")

    def to_json(self, folder: pathlib.Path | None = None) -> str:
        """The recipe file's text; a model path is written relative to ``folder`` when inside it."""
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, "method": self.method}
        if self.params is not None:
            data["params"] = self.params.as_dict()
        if self.model is not None:
            model = pathlib.Path(self.model)
            if folder is not None and model.is_absolute() and model.is_relative_to(folder.resolve()):
                model = model.relative_to(folder.resolve())
            data["model"] = str(model)
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, folder: pathlib.Path | None = None) -> Recipe:
        """Read a recipe from its file's text; ParameterError saying what is wrong."""
        from et_denoise.engine.filters import FILTERS

        try:
            data = json.loads(text)
        except ValueError as error:
            raise ParameterError(f"the recipe is not JSON ({error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ParameterError(f"this is not an ET Denoise recipe (no \"format\": \"{FORMAT}\")")
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise ParameterError("the recipe was written by a newer ET Denoise; update the app")
        method = data.get("method")
        if method == N2V:
            model = pathlib.Path(str(data.get("model", "")))
            if folder is not None and not model.is_absolute():
                model = folder / model
            return cls(N2V, None, model)
        if method not in FILTERS:
            return cls(str(method))  # the constructor names the known methods
        params_type = FILTERS[method].params_type
        given = data.get("params", {})
        if not isinstance(given, dict):
            raise ParameterError("the recipe's \"params\" must be an object of parameter values")
        known = {field.name for field in dataclasses.fields(params_type)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ParameterError(f"the recipe gives {', '.join(unknown)}, which {method} does not have")
        return cls(method, params_type(**given))


def load_recipe(path) -> Recipe:
    """Read a recipe file, or take a model folder as an n2v recipe.

    Raises
    ------
    ParameterError
        The file is missing, unreadable or not a valid recipe.
    """
    path = pathlib.Path(path).expanduser()
    if path.is_dir():
        from et_denoise.engine.n2v.model import METADATA

        if (path / METADATA).is_file():
            return Recipe(N2V, None, path)
        raise ParameterError(f"{path}: a folder is a recipe only when it is a model folder ({METADATA} is missing)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ParameterError(f"{path}: cannot read the recipe ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: the recipe is not a text file") from None
    try:
        return Recipe.from_json(text, path.parent)
    except ParameterError as error:
        raise ParameterError(f"{path}: {error}") from None


def save_recipe(path, recipe: Recipe, *, overwrite: bool = False) -> pathlib.Path:
    """Write ``recipe`` to ``path`` (atomically; an existing file only with ``overwrite``)."""
    from et_denoise.engine.errors import OutputExistsError
    from et_denoise.engine.io.partial_files import atomic_file

    path = pathlib.Path(path).expanduser()
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    with atomic_file(path, overwrite=overwrite) as stream:
        stream.write(recipe.to_json(path.parent).encode("utf-8"))
    return path


def recipe_refusal(method: str) -> str | None:
    """Why no result of ``method`` can be a recipe, or None when one can.

    Parameters
    ----------
    method : str
        The result's method: a name of :data:`engine.filters.FILTERS`,
        ``"n2v"``, or another producer's name (an image loaded as a result).

    Returns
    -------
    str or None
        A sentence saying why not, for a method that no recipe names.

    Examples
    --------
    >>> recipe_refusal("median") is None, recipe_refusal("n2v") is None
    (True, True)
    >>> recipe_refusal("loaded")
    "it was not made by a denoising method ('loaded'), so no recipe repeats it"
    """
    from et_denoise.engine.filters import FILTERS

    if method == N2V or method in FILTERS:
        return None
    return f"it was not made by a denoising method ({method!r}), so no recipe repeats it"


def recipe_of(method: str, params: MethodParams | None, model: pathlib.Path | str | None = None) -> Recipe:
    """The recipe that repeats a result: its filter and parameters, or the folder its model was saved in.

    Parameters
    ----------
    method : str
        The result's method (see :func:`recipe_refusal`).
    params : MethodParams or None
        The result's parameters; for ``"n2v"``, the model's
        :class:`~engine.n2v.config.N2VParams`.
    model : path, optional
        For ``"n2v"``: the model folder, which must hold the model trained
        with ``params`` (see :func:`check_model_folder`).

    Returns
    -------
    Recipe

    Raises
    ------
    ParameterError
        The method is no recipe's, the parameters are not the method's, an
        ``"n2v"`` result has no saved model folder, or the folder holds
        another model.

    Examples
    --------
    >>> from et_denoise.engine.filters import FILTERS
    >>> recipe_of("median", FILTERS["median"].params_type(size=5)).params.size
    5
    """
    refusal = recipe_refusal(method)
    if refusal is not None:
        raise ParameterError(refusal)
    if method != N2V:
        return Recipe(method, params)
    if model is None:
        raise ParameterError("its model was never saved; a StructN2V recipe names the saved model folder, "
                             "so save the model first")
    model = pathlib.Path(model).expanduser().absolute()
    check_model_folder(model, params)
    return Recipe(N2V, None, model)


def check_model_folder(folder: pathlib.Path | str, params) -> None:
    """Check that ``folder`` holds the model trained with ``params``, reading only its description.

    The parameters saved in the folder's ``metadata.json`` must equal
    ``params`` (a mask by its cells: a mask file travels as the folder's own
    copy).  TensorFlow is not started.

    Parameters
    ----------
    folder : path
        A model folder saved by ET Denoise.
    params : N2VParams
        The parameters of the model a result was made with.

    Raises
    ------
    ParameterError
        The folder is no model folder, its description is unreadable, or it
        holds a model trained with other parameters (the first one named).
    """
    from et_denoise.engine.n2v.masks import is_preset, mask_for_dims, parse_mask, same_mask
    from et_denoise.engine.n2v.model import MASK, METADATA

    folder = pathlib.Path(folder)
    path = folder / METADATA
    if not path.is_file():
        raise ParameterError(f"{folder} is not a model folder ({METADATA} is missing)")
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["params"]
        spec = str(saved["mask"])
        saved_mask = mask_for_dims(parse_mask(spec if is_preset(spec) else str(folder / MASK)), params.ndim)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ParameterError(f"{folder}: the model description cannot be read ({type(error).__name__}: {error})"
                             ) from None
    given = json.loads(json.dumps(params.as_dict()))
    differing = [name for name, value in saved.items() if name != "mask" and given.get(name) != value]
    if not same_mask(saved_mask, params.blind_spot_mask):
        differing.insert(0, "mask")
    if differing:
        raise ParameterError(f"{folder} holds another model (its {differing[0]} differs from this result's); "
                             "choose the folder this result's model was saved in")
