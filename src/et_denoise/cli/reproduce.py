"""Command lines that reproduce a result, and a session's results as a bash script.

A result made in the app is fully described by its input file and its
parameters dataclass; :func:`reproduce_commands` turns them into the
``denoise`` command that computes the same array again::

    et-denoise denoise tomo.mrc -o tomo_median.tif --method median --size 5 --footprint square --mode 2d

Every parameter is written out (:func:`~cli.options.params_options`), not only
those that differ from the defaults, so a command keeps meaning the same thing
when a later version changes a default.  Every word is quoted with
:func:`shlex.quote`, and the result names written as comments lose their
control characters (:func:`~engine.describe.plain_text`), so no name or path typed by a user is
ever run as code.  Noise2Void / StructN2V results need a model: their commands
train it first (same parameters and seed) and then predict with it.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path
from collections.abc import Sequence

from et_denoise.cli.options import params_options
from et_denoise.engine.describe import plain_text
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.params import MethodParams

#: Folder the session script writes the built-in sample into.
SAMPLE_FOLDER = "et-denoise-sample"
#: The sample file the commands read when the session's image is the built-in sample.
SAMPLE_INPUT = f"{SAMPLE_FOLDER}/noisy.tif"


def program() -> list[str]:
    """The words that start a command: this Python with ``-m et_denoise`` (the executable when frozen).

    Absolute paths, so that a command runs from any folder with the same
    installation that made the result.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "et_denoise"]


def _join(words: Sequence[str]) -> str:
    return " ".join(shlex.quote(str(word)) for word in words)


def _filter_name(params: MethodParams) -> str | None:
    from et_denoise.engine.filters import FILTERS

    return next((name for name, method in FILTERS.items() if type(params) is method.params_type), None)


def _is_n2v(params) -> bool:
    from et_denoise.engine.n2v import N2VParams

    return isinstance(params, N2VParams)


def model_folder(output_path: str) -> str:
    """Where the commands of an N2V result keep their model: ``tomo_n2v.tif`` → ``tomo_n2v_model``."""
    root, _ext = os.path.splitext(str(output_path))
    return root + "_model"


def reproduce_commands(input_path: str, output_path: str, params: MethodParams, *,
                       overwrite: bool = False) -> list[str]:
    """The command lines that compute a result again from its input file.

    Parameters
    ----------
    input_path : str
        The image the result was computed from (file or folder of slices).
    output_path : str
        Where the commands write the result.
    params : MethodParams
        The result's parameters: a filter's (one ``denoise`` command) or
        :class:`~engine.n2v.N2VParams` (a ``train`` command with the same
        parameters and seed, then ``denoise --method n2v --model``).
    overwrite : bool
        Let the commands replace an existing output (``--overwrite``).

    Returns
    -------
    list of str
        Shell command lines, to run in order.

    Raises
    ------
    ParameterError
        For parameters no command produces (another producer's, or ``None``).

    Notes
    -----
    A filter's command gives the identical array.  Training is seeded, but
    TensorFlow does not promise bit-identical training across runs and
    machines, so a retrained N2V model gives a close, not identical, result.

    Examples
    --------
    >>> from et_denoise.engine.filters import FILTERS
    >>> params = FILTERS["median"].params_type(size=5)
    >>> reproduce_commands("my tomo.mrc", "out.tif", params)[0].split(" ", 3)[3]  # after "python -m et_denoise"
    "denoise 'my tomo.mrc' -o out.tif --method median --size 5 --footprint square --mode 2d"
    """
    if params is None:
        raise ParameterError("this result has no parameters, so no command can reproduce it")
    replace = ["--overwrite"] if overwrite else []
    name = _filter_name(params)
    if name is not None:
        return [_join([*program(), "denoise", input_path, "-o", output_path, "--method", name,
                       *params_options(params), *replace])]
    if _is_n2v(params):
        model = model_folder(output_path)
        return [_join([*program(), "train", input_path, "--model", model, "--overwrite", *params_options(params)]),
                _join([*program(), "denoise", input_path, "-o", output_path, "--method", "n2v", "--model", model,
                       *replace])]
    raise ParameterError(f"results made with {type(params).__name__} cannot be reproduced from the command line")


def sample_command(shape: Sequence[int], *, seed: int = 0, folder: str = SAMPLE_FOLDER) -> str:
    """The command that writes the built-in sample (``noisy.tif``, ``clean.tif``) of ``shape`` into ``folder``."""
    return _join([*program(), "sample", "-o", folder, "--shape", *map(str, shape), "--seed", str(seed),
                  "--overwrite"])


@dataclasses.dataclass(frozen=True)
class ScriptEntry:
    """One result of a session: its name (a comment), its output file and its parameters."""

    name: str
    output_path: str
    params: MethodParams


def session_script(input_path: str | None, entries: Sequence[ScriptEntry], *,
                   sample_shape: Sequence[int] | None = None, sample_seed: int = 0) -> str:
    """A bash script that computes every result of a session again.

    Parameters
    ----------
    input_path : str or None
        The image the results were computed from; ``None`` for the built-in
        sample, which the script then writes first (``sample_shape`` needed).
    entries : sequence of ScriptEntry
        The results, one block of commands each, preceded by its name.
    sample_shape : sequence of int, optional
        (Z, Y, X) of the built-in sample, when ``input_path`` is None.
    sample_seed : int
        Its seed.

    Returns
    -------
    str
        The script: ``set -euo pipefail``, then the commands, which replace
        their outputs (written relative to the folder the script runs in), so
        the script can run again.  An entry no command reproduces (see
        :func:`reproduce_commands`) is a comment saying why.

    Raises
    ------
    ParameterError
        The input is the sample and no ``sample_shape`` was given.
    """
    lines = ["#!/usr/bin/env bash", "# ET Denoise session: every result computed again from its input.",
             "# Outputs are written to the folder this script runs in.", "set -euo pipefail", ""]
    if input_path is None:
        if sample_shape is None:
            raise ParameterError("the session's image has no file: give the sample's shape")
        lines += ["# The built-in sample tomogram", sample_command(sample_shape, seed=sample_seed), ""]
        input_path = SAMPLE_INPUT
    for entry in entries:
        try:
            lines += [f"# {plain_text(entry.name)}",
                      *reproduce_commands(input_path, entry.output_path, entry.params, overwrite=True), ""]
        except ParameterError as error:
            lines += [f"# {plain_text(entry.name)}: not reproduced: {plain_text(error)}", ""]
    return "\n".join(lines)


def write_script(path, text: str, *, overwrite: bool = False) -> Path:
    """Write a script made by :func:`session_script` and make it executable.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    with open(path, "w" if overwrite else "x", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(path.stat().st_mode | 0o111)
    return path
