"""``batch``: one setting (options or a recipe) on many tomograms, resumable, with a summary CSV.

Each input is denoised slab by slab within the memory budget, exactly as
``denoise`` does it, into ``OUTDIR/NAME`` (the input's name and extension).
Outputs are written under a temporary name and renamed when complete, so an
output already in OUTDIR with the input's shape is complete: a run that was
killed is resumed by running the same command again (complete outputs are
skipped, the one that was being written is redone).  The summary CSV (file,
output, shape, method, seconds, status) is rewritten after every file; its
shape is the input's.

With ``--region`` and ``--bin`` each output holds that part of its input; a
region outside a file's shape fails that file (its status says why) and the
batch goes on with the next.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import time
from pathlib import Path

from et_denoise.cli.errors import UserError, user_message
from et_denoise.cli.interrupts import Interrupts
from et_denoise.cli.options import filter_owners, given_params
from et_denoise.cli.outputs import check_output_file, check_output_folder
from et_denoise.cli.recipes import job_maker, recipe_from_options, selected_part

SUMMARY_NAME = "batch-summary.csv"
SUMMARY_COLUMNS = ("file", "output", "shape", "method", "seconds", "status")


def run_batch(args: argparse.Namespace, interrupts: Interrupts) -> int:
    """Denoise every input with one recipe; exit code 0, or 2 if any input failed."""
    from et_denoise.cli.handlers import CANCEL_GRACE_S, TerminalProgress, budget_advice, check_cluster_run, connect
    from et_denoise.engine.errors import Cancelled, ImageError, ModelError, ParameterError
    from et_denoise.engine.io import SUPPORTED_EXTENSIONS, open_image_lazily
    from et_denoise.engine.io.memory import process_private_memory
    from et_denoise.engine.volume import MemoryBudgetError, denoise_to_file

    recipe = _recipe(args)
    inputs = expand_inputs(args.inputs, SUPPORTED_EXTENSIONS["read"])
    outdir = check_output_folder(args.output, option="-o")
    outputs = _outputs(inputs, outdir)
    if args.summary:
        summary = check_output_file(args.summary, option="--summary", overwrite=True, inputs=inputs)
    else:
        summary = outdir / SUMMARY_NAME  # the folder is checked above and created below
    client = None
    if args.scheduler:
        for output in outputs:
            check_cluster_run(output)
        client = connect(args.scheduler)
    outdir.mkdir(parents=True, exist_ok=True)
    make_job, label = job_maker(recipe, on_cluster=client is not None)

    rows, start = [], time.perf_counter()
    try:
        for number, (source, output) in enumerate(zip(inputs, outputs), start=1):
            tag = f"[{number}/{len(inputs)}] {source.name}"
            began = time.perf_counter()
            row = {"file": str(source), "output": str(output), "shape": "", "method": label, "seconds": ""}
            try:
                volume = open_image_lazily(source)
                row["shape"] = "×".join(map(str, volume.shape))
                volume = selected_part(volume, args)
                if not args.overwrite and _complete(output, volume):
                    row["status"] = "skipped: complete"
                    print(f"{tag}: {output} is complete, skipped")
                    continue
                with interrupts.cancelling(grace_s=CANCEL_GRACE_S) as token:
                    job = make_job(volume, token)
                    in_use = process_private_memory() if args.memory is not None else 0
                    try:
                        if client is not None:
                            from et_denoise.engine.volume.cluster import denoise_on_cluster

                            denoise_on_cluster(volume, output, job, client, memory=args.memory, overwrite=True,
                                               progress=TerminalProgress(tag), cancel=token)
                        else:
                            denoise_to_file(volume, output, job, memory=args.memory, in_use=in_use, overwrite=True,
                                            progress=TerminalProgress(tag), cancel=token)
                    except MemoryBudgetError as error:
                        raise UserError(budget_advice(error)) from None
                row["seconds"] = f"{time.perf_counter() - began:.1f}"
                row["status"] = "done"
                print(f"{tag}: wrote {output} {tuple(volume.shape)} float32 in {row['seconds']} s", flush=True)
            except (UserError, ImageError, ParameterError, ModelError) as error:
                row["status"] = f"failed: {user_message(error)}"
                print(f"{tag}: failed: {user_message(error)}", flush=True)
            except Cancelled:
                row["status"] = "cancelled"
                raise
            except Exception as error:
                row["status"] = f"failed: unexpected {type(error).__name__}: {user_message(error)}"
                raise
            finally:
                rows.append(row)
                _write_summary(summary, rows)
    finally:
        if client is not None:
            client.close()
    counts = {kind: sum(row["status"].startswith(kind) for row in rows) for kind in ("done", "skipped", "failed")}
    print(f"batch: {counts['done']} denoised, {counts['skipped']} skipped (complete), {counts['failed']} failed "
          f"in {time.perf_counter() - start:.1f} s; summary in {summary}")
    return 2 if counts["failed"] else 0


def is_image(path: Path) -> bool:
    """A file, or a folder that is one image (an OME-Zarr store, ``.zarr``)."""
    from et_denoise.engine.io.zarr_store import is_zarr

    return path.is_file() or (is_zarr(path) and path.is_dir())


def expand_inputs(words, extensions) -> list[Path]:
    """The input files: each word a file, a folder (the image files in it, in natural name order) or a glob.

    Raises
    ------
    UserError
        A word matches nothing, or no image file is found at all.
    """
    from et_denoise.engine.io.tiff import natural_key

    files: list[Path] = []
    for word in words:
        path = Path(word).expanduser()
        if path.is_dir() and path.suffix.lower() not in extensions:  # a .zarr folder is one image
            found = sorted((entry for entry in path.iterdir() if is_image(entry) and not entry.name.startswith(".")
                            and entry.suffix.lower() in extensions), key=lambda entry: natural_key(entry.name))
            if not found:
                raise UserError(f"{word}: the folder holds no image files ({' '.join(extensions)})")
            files += found
        elif path.exists():
            files.append(path)
        elif glob.has_magic(word):
            found = sorted((Path(name) for name in glob.glob(str(path)) if is_image(Path(name))),
                           key=lambda entry: natural_key(str(entry)))
            if not found:
                raise UserError(f"{word}: no file matches")
            files += found
        else:
            raise UserError(f"{word}: no such file or folder")
    unique = list(dict.fromkeys(path.resolve() for path in files))
    return [Path(path) for path in unique]


def _recipe(args):
    """The recipe of ``--recipe``, or the one the options describe."""
    from et_denoise.engine.errors import ParameterError
    from et_denoise.engine.recipe import load_recipe

    if args.recipe is not None:
        if args.method or args.model or given_params(filter_owners(), args):
            raise UserError("give either --recipe or --method with its options, not both")
        try:
            return load_recipe(args.recipe)
        except ParameterError as error:
            raise UserError(str(error)) from None
    if not args.method:
        raise UserError("give --method (with its options) or --recipe FILE")
    return recipe_from_options(args)


def _outputs(inputs: list[Path], outdir: Path) -> list[Path]:
    """``OUTDIR/NAME`` for each input; UserError if two inputs share a name or an output is an input."""
    outputs, seen = [], {}
    resolved_inputs = {path.resolve() for path in inputs}
    for path in inputs:
        output = outdir / path.name
        key = output.resolve()
        if key in seen:
            raise UserError(f"{path} and {seen[key]} would both be written to {output}; rename one of them")
        if key in resolved_inputs:
            raise UserError(f"{output}: the output would overwrite an input; choose another output folder")
        seen[key] = path
        outputs.append(output)
    return outputs


def _complete(output: Path, volume) -> bool:
    """Whether ``output`` is a finished result of ``volume`` (written files are renamed only when complete)."""
    import numpy as np

    from et_denoise.engine.errors import ImageError
    from et_denoise.engine.io import open_image_lazily

    if not output.exists():
        return False
    try:
        result = open_image_lazily(output)
    except ImageError:
        return False
    return result.shape == volume.shape and result.dtype == np.float32


def _write_summary(path: Path, rows: list[dict]) -> None:
    """The summary CSV, replaced atomically (a killed run leaves the one of its last finished file)."""
    from et_denoise.engine.io.partial_files import atomic_file

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_file(path, overwrite=True) as stream:
        stream.write(text.getvalue().encode("utf-8"))
