"""The argument parser: the subcommands, their options and their help texts."""

from __future__ import annotations

import argparse
import os

from et_denoise import DISTRIBUTION, __version__
from et_denoise.cli.errors import UserError
from et_denoise.cli.options import add_param_options, filter_owners, n2v_owners

PROGRAM = DISTRIBUTION
#: The subcommands; ``gui`` is also what runs without one.
COMMANDS = ("gui", "sample", "denoise", "batch", "train", "autocorr", "compare")


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports errors as one line and exit code 2."""

    def error(self, message):  # argparse's name
        raise UserError(message)


def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole(text, minimum=1)


def _seed(text: str) -> int:
    """An argparse type: a random seed, 0 to 2**32 - 1."""
    return _whole(text, minimum=0, maximum=2**32 - 1)


def _memory(text: str) -> int:
    """An argparse type: a memory size such as 4GB or 500MB, in bytes."""
    from et_denoise.engine.errors import ParameterError
    from et_denoise.engine.volume.budget import parse_memory

    try:
        return parse_memory(text)
    except ParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole(text: str, *, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise argparse.ArgumentTypeError(f"{value} is out of range: give a whole number {bound}")
    return value


def _add_part_options(parser: argparse.ArgumentParser) -> None:
    """``--region`` and ``--bin``: denoise only a part of the input, for a quick look."""
    group = parser.add_argument_group("a part of the input, for a quick look (the output holds only the part)")
    group.add_argument("--region", metavar="Z0:Z1,Y0:Y1,X0:X1",
                       help="denoise only this box: ranges from 0 with the end excluded, as Python slices "
                       "(10:74 is planes 10 to 73); an empty bound means the edge (:,0:512,: is the first 512 "
                       "rows of every plane); Y0:Y1,X0:X1 for a 2-D image or for every plane. Only the planes of "
                       "the box are read; the MRC origin moves to the box's start, as IMOD's trimvol sets it")
    group.add_argument("--bin", type=int, choices=(1, 2, 4), default=1, metavar="{2,4}",
                       help="average blocks of 2×2×2 or 4×4×4 voxels (2×2 or 4×4 pixels for a 2-D image or each "
                       "image of an MRC stack) before denoising, after --region: the output is float32 with the "
                       "voxel size multiplied by the bin; a remainder of fewer voxels at the end of an axis is "
                       "dropped (default 1: no binning)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``et-denoise`` and all its subcommands."""
    parser = _Parser(
        prog=PROGRAM,
        description="ET Denoise: denoise electron tomograms and electron micrographs. "
        "Without a subcommand the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation headless (filters, StructN2V, file formats), print a verdict and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_gui(commands)
    _add_sample(commands)
    _add_denoise(commands)
    _add_batch(commands)
    _add_train(commands)
    _add_autocorr(commands)
    _add_compare(commands)
    return parser


def _add_gui(commands) -> None:
    gui = commands.add_parser("gui", help="open the desktop app (the default when no subcommand is given)",
                              description="Open the desktop app.")
    gui.add_argument("path", nargs="?", help="image file (TIFF, MRC/REC/ST/MRCS) or folder of 2-D TIFF slices to open")
    gui.add_argument("--sample", action="store_true", help="open the built-in sample tomogram")
    gui.add_argument("--screenshot", metavar="FILE.png",
                     help="with --sample or an image file: show a finished filter result in split view, save a PNG "
                     "of the window and exit (exit code 1 if the window had to grow beyond --size)")
    gui.add_argument("--size", metavar="WxH", help="with --screenshot: the window size, such as 1024x700 (default 1440x900)")
    gui.add_argument("--tab", metavar="KEY",
                     help="with --screenshot: the tab shown: median, diffusion (default), nlm, structn2v, noise, compare")


def _add_sample(commands) -> None:
    from et_denoise.engine.sample import NOISE_MODELS

    sample = commands.add_parser("sample", help="write the built-in sample tomogram (noisy and clean) to a folder",
                                 description="Write the built-in synthetic tomogram: noisy.tif (or .mrc) and its "
                                 "noise-free ground truth clean.tif, with the voxel size in the header.")
    sample.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into (created if missing)")
    sample.add_argument("--format", choices=("tif", "mrc"), default="tif", help="file format (default tif)")
    sample.add_argument("--shape", type=_count, nargs=3, metavar=("Z", "Y", "X"),
                        help="volume size (default: the built-in size)")
    sample.add_argument("--2d", dest="two_d", action="store_true", help="write a single 2-D slice instead of a volume")
    sample.add_argument("--seed", type=_seed, default=0,
                        help="random seed, 0 or more; the same seed gives the same data (default 0)")
    sample.add_argument("--noise", choices=NOISE_MODELS, default="wbp",
                        help="noise model: " + "; ".join(f"{name}: {text}" for name, text in NOISE_MODELS.items())
                        + " (default wbp)")
    sample.add_argument("--overwrite", action="store_true", help="replace existing files")


def _add_denoise(commands) -> None:
    denoise = commands.add_parser("denoise", help="denoise an image file with one method",
                                  description="Denoise INPUT with one method and write OUTPUT as float32, "
                                  "keeping the voxel size. Formats follow the file extensions "
                                  "(.tif/.tiff, .mrc/.rec/.st/.mrcs). A volume is read, denoised and written "
                                  "in slabs of planes that fit the memory budget (--memory), so it may be "
                                  "larger than the memory.")
    denoise.add_argument("input", metavar="INPUT", help="image file or folder of 2-D TIFF slices")
    denoise.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="file to write")
    denoise.add_argument("--method", required=True, choices=(*filter_owners(), "n2v"),
                         help="denoising method; n2v predicts with a trained Noise2Void/StructN2V model (--model)")
    denoise.add_argument("--model", metavar="DIR", help="with --method n2v: the model folder to predict with")
    denoise.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    denoise.add_argument("--memory", type=_memory, metavar="SIZE",
                         help="memory budget, such as 4GB or 500MB: the volume is processed in slabs of planes that "
                         "fit in it (default: half the memory available when the run starts)")
    denoise.add_argument("--scheduler", metavar="ADDRESS",
                         help="a Dask scheduler, such as tcp://head-node:8786: its workers read their slabs from INPUT "
                         "and write them into OUTPUT (an MRC file) on storage they share (a --model folder too: each "
                         "worker loads it once); --memory is then per worker")
    denoise.add_argument("--auto", action="store_true",
                         help="choose the method's main parameters by the lowest estimated error (Stein's unbiased "
                         "risk estimate with the noise's measured covariance; no clean image needed); for dct on a "
                         "stack also its mode, unless --mode is given (3-D scores take minutes)")
    _add_part_options(denoise)
    add_param_options(denoise, filter_owners(), "method parameters (each applies to the methods named in brackets)")


def _add_batch(commands) -> None:
    batch = commands.add_parser(
        "batch", help="denoise many image files with one setting (options or a recipe)",
        description="Denoise every INPUT (files, folders of image files, or glob patterns) with one method and its "
        "options, or with a recipe, into OUTDIR under the input's name, as denoise does (in slabs within --memory). "
        "Run it again after an interruption: complete outputs are skipped, the one being written is redone. "
        "A summary CSV (file, output, shape, method, seconds, status) is rewritten after every file.")
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders holding image files, or globs")
    batch.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder to write into (created if missing)")
    batch.add_argument("--method", choices=(*filter_owners(), "n2v"), help="denoising method (or give --recipe)")
    batch.add_argument("--model", metavar="DIR", help="with --method n2v: the model folder to predict with")
    batch.add_argument("--recipe", metavar="FILE",
                       help="a recipe file (JSON: method and parameters) or a model folder, instead of --method")
    batch.add_argument("--memory", type=_memory, metavar="SIZE",
                       help="memory budget per file, such as 4GB (default: half the memory available)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="a Dask scheduler, such as tcp://head-node:8786, whose workers denoise each file by slabs "
                       "on shared storage (MRC inputs and outputs; a --recipe model folder is loaded once per worker); --memory is "
                       "then per worker")
    batch.add_argument("--summary", metavar="FILE", help="the summary CSV (default OUTDIR/batch-summary.csv)")
    batch.add_argument("--overwrite", action="store_true", help="redo outputs that are already complete")
    _add_part_options(batch)
    add_param_options(batch, filter_owners(), "method parameters (each applies to the methods named in brackets)")


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train", help="train Noise2Void / StructN2V on noisy images and save the model",
        description="Train Noise2Void (mask none) or structured Noise2Void (a blind-spot mask that covers the "
        "noise's correlation, e.g. horizontal:11 for tomogram noise correlated along X) on the noisy "
        "images themselves; no clean data is needed. Ctrl+C (or SIGTERM) stops early and keeps the best weights.")
    train.add_argument("inputs", nargs="+", metavar="INPUT", help="noisy image files or folders of TIFF slices")
    train.add_argument("--model", required=True, metavar="DIR", help="folder to save the model in")
    train.add_argument("--mask-file", metavar="FILE",
                       help="blind-spot mask as rows of 0/1 (a blank line starts the next Z plane)")
    train.add_argument("--overwrite", action="store_true", help="replace a model already in DIR")
    add_param_options(train, n2v_owners(), "training parameters", aliases={"steps_per_epoch": ("--steps",)})


def _add_autocorr(commands) -> None:
    autocorr = commands.add_parser(
        "autocorr", help="measure the noise's spatial autocorrelation and suggest a StructN2V mask",
        description="Measure the noise's spatial autocorrelation (of the high-passed raw data in a region, "
        "or of the residual INPUT - DENOISED) and suggest the StructN2V blind-spot mask that covers it.")
    autocorr.add_argument("input", metavar="INPUT", help="noisy image file or folder of TIFF slices")
    autocorr.add_argument("--residual", metavar="DENOISED",
                          help="a denoised version of INPUT: analyse the removed noise INPUT - DENOISED")
    autocorr.add_argument("--region", metavar="Y0:Y1,X0:X1",
                          help="analyse only this box (background with little signal is best); Z0:Z1,Y0:Y1,X0:X1 "
                          "for a volume; an empty bound means the edge")
    autocorr.add_argument("--radius", type=_count, default=12, help="largest shift shown, in pixels (default 12)")
    autocorr.add_argument("--threshold", type=float,
                          help="shifts whose correlation reaches this size join the mask, with the tails of "
                          "their lobes down to half of it (default 0.2)")
    autocorr.add_argument("--3d", dest="three_d", action="store_true",
                          help="allow a mask that spans planes (for 3-D training)")
    autocorr.add_argument("-o", "--save", metavar="FILE",
                          help="save the autocorrelation: .png as a heat map, .tif/.mrc as values")
    autocorr.add_argument("--mask-out", metavar="FILE",
                          help="write the suggested mask as 0/1 rows, the format train --mask-file reads")
    autocorr.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")


def _add_compare(commands) -> None:
    compare = commands.add_parser(
        "compare", help="compare results with their original: a labelled figure and a metrics table",
        description="Show ORIGINAL and its RESULTs side by side in a figure (PNG or PDF) with shared contrast, "
        "and measure each: noise sigma, SNR and CNR, residual autocorrelation, and PSNR/SSIM with --reference.")
    compare.add_argument("original", metavar="ORIGINAL", help="the noisy image the results were computed from")
    compare.add_argument("results", nargs="+", metavar="RESULT", help="denoised versions of ORIGINAL (same shape)")
    compare.add_argument("-o", "--output", required=True, metavar="FIGURE", help="figure to write (.png or .pdf)")
    compare.add_argument("--reference", metavar="CLEAN", help="noise-free image: adds PSNR and SSIM")
    compare.add_argument("--csv", metavar="FILE", help="also write the metrics table as CSV")
    compare.add_argument("--slice", type=int, metavar="N",
                         help="show and measure slice N (from 0) of a volume (default: show the middle slice, "
                         "measure the whole volume)")
    compare.add_argument("--data-range", type=float, metavar="RANGE",
                         help="with --reference: the span of possible values for PSNR and SSIM (default: the "
                         "reference's maximum - minimum; needed when the reference is constant)")
    compare.add_argument("--overwrite", action="store_true", help="replace existing output files")


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv`` (without the program name); no subcommand means ``gui``.

    A first word that is neither a subcommand, an option nor an existing file
    or folder is a mistyped subcommand, not an image to open.
    """
    argv = list(argv)
    top_level = {"-h", "--help", "--version", "--self-test"}
    if not argv or argv[0] not in {*COMMANDS, *top_level}:
        first = argv[0] if argv else None
        looks_like_path = first is not None and (os.path.exists(first) or "." in first or os.sep in first)
        if first is not None and not first.startswith("-") and not looks_like_path:
            raise UserError(f"unknown command {first!r}; the commands are {', '.join(COMMANDS)} "
                            f"(or give an image file to open)")
        argv = ["gui", *argv]
    return build_parser().parse_args(argv)
