"""Check every output location before any computing, so a run never fails at its end."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from et_denoise.cli.errors import UserError
from et_denoise.engine.errors import OutputExistsError
from et_denoise.engine.io.zarr_store import is_zarr


def check_output_file(path: str, *, option: str, overwrite: bool, inputs=()) -> Path:
    """``path`` as a Path if a file can be written there; UserError (or OutputExistsError) saying why not.

    Checks, without writing anything: a name is given, it is not one of
    ``inputs``, not a folder, not an existing file (unless ``overwrite``),
    its name fits the file system, and its folder exists and takes new files.
    """
    if not path:
        raise UserError(f"{option}: no file name was given")
    output = Path(path).expanduser()
    _check_name_length(output)
    for source in inputs:
        if Path(source).expanduser().resolve() == output.resolve():
            raise UserError(f"{path}: the output would overwrite the input file; choose another output name")
    if output.is_dir() and not is_zarr(output):  # an OME-Zarr store is a folder
        raise UserError(f"{path}: this is a folder; {option} needs a file name")
    if output.exists() and not overwrite:
        raise OutputExistsError(path)
    check_folder_writable(output.parent, path)
    return output


def check_output_folder(path: str, *, option: str) -> Path:
    """``path`` as a Path if it is, or can be created as, a folder to write into; UserError if not."""
    if not path:
        raise UserError(f"{option}: no folder name was given")
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{path}: this is a file; {option} needs a folder")
    _check_name_length(folder)
    existing = folder
    while not existing.exists():  # the folder is created: its nearest existing parent must take it
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{path}: {existing} is a file, so the folder cannot be created")
    check_folder_writable(existing, path)
    return folder


def check_distinct(paths) -> None:
    """UserError if two outputs name the same file."""
    seen = {}
    for path in paths:
        key = Path(path).expanduser().resolve()
        if key in seen:
            raise UserError(f"{path}: given twice as an output")
        seen[key] = path


def check_folder_writable(folder: Path, path: str) -> None:
    """UserError naming ``path`` if ``folder`` is missing or new files cannot be created in it."""
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{path}: the folder {folder} does not exist")
    try:  # a real file tells what permissions, read-only mounts and quotas allow
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".et-denoise-check-"):
            pass
    except OSError as error:
        raise UserError(f"{path}: cannot write into the folder {folder} ({error.strerror or error})") from None


def _check_name_length(path: Path) -> None:
    folder = path.parent if path.parent.is_dir() else Path(".")
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise UserError(f"{str(path)[:60]}…: a name in this path is {len(os.fsencode(part))} bytes long; "
                            f"the limit is {limit}")
