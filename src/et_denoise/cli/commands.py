"""ET Denoise: open the app, or denoise files from the command line.

Run ``python main.py --help`` for the subcommands.  Without a subcommand the
desktop app opens (optionally on a file, or on the built-in sample tomogram).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from et_denoise import DISTRIBUTION, __version__

PROGRAM = DISTRIBUTION
EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports errors as one line and exit code 2."""

    def error(self, message):  # argparse's name
        raise UserError(message)


def _guard_missing_streams() -> None:
    """A windowed frozen build has no stdout/stderr: give libraries somewhere to write."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))


# ---------------------------------------------------------------- parameter options

def _methods():
    from et_denoise.engine.filters import FILTERS

    return FILTERS


def _filter_owners():
    return {name: method.params_type for name, method in _methods().items()}


def _param_fields(owners):
    """Every command-line parameter of ``owners`` ({name: params type}), by field name."""
    fields = {}
    for owner, params_type in owners.items():
        for field in dataclasses.fields(params_type):
            if field.metadata.get("cli", True):
                fields.setdefault(field.name, []).append((owner, field))
    return fields


def _add_param_options(parser, owners, title, aliases=None) -> None:
    """One option per parameter field, with the field's help text; None when not given."""
    aliases = aliases or {}
    group = parser.add_argument_group(title)
    for name, fields in _param_fields(owners).items():
        field = fields[0][1]
        meta = field.metadata
        defaults = {str(f.default) for _, f in fields}
        default_text = f"default {defaults.pop()}" if len(defaults) == 1 else "default depends on the method"
        which = f"[{', '.join(owner for owner, _ in fields)}] " if len(owners) > 1 else ""
        help_text = f"{which}{meta['help']} ({default_text})"
        options = ["--" + name.replace("_", "-"), *aliases.get(name, ())]
        kind = type(field.default)
        if kind is bool:
            group.add_argument(*options, dest=name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        elif meta.get("choices"):
            group.add_argument(*options, dest=name, choices=meta["choices"], default=None, help=help_text)
        else:
            group.add_argument(*options, dest=name, type=kind, default=None, metavar=name.upper(), help=help_text)


def _params_from_args(owner, owners, args):
    """Build ``owner``'s parameters from the options given; options of other owners are an error."""
    given = {name for name in _param_fields(owners) if getattr(args, name, None) is not None}
    params_type = owners[owner]
    own = {f.name for f in dataclasses.fields(params_type)}
    foreign = sorted(given - own)
    if foreign:
        options = ", ".join("--" + n.replace("_", "-") for n in foreign)
        raise UserError(f"{options} does not apply to --method {owner}")
    return params_type(**{name: getattr(args, name) for name in given})


# ---------------------------------------------------------------- progress on the terminal

class _TerminalProgress:
    """Draws a one-line progress bar on stderr when it is a terminal."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._enabled = sys.stderr.isatty()
        self._start = time.perf_counter()

    def __call__(self, fraction: float) -> None:
        if self._enabled:
            width = 30
            filled = int(round(fraction * width))
            elapsed = time.perf_counter() - self._start
            sys.stderr.write(f"\r{self._label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {elapsed:5.1f} s")
            if fraction >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _cancel_on_interrupt():
    """A cancel token that Ctrl+C sets, so a long run stops cleanly."""
    from et_denoise.engine.jobs import CancelToken

    token = CancelToken()
    signal.signal(signal.SIGINT, lambda *_: token.cancel())
    return token


# ---------------------------------------------------------------- subcommands

def _cmd_sample(args) -> int:
    from et_denoise.engine.io import write_image
    from et_denoise.engine.sample import make_sample, make_sample_2d

    if args.two_d:
        sample = make_sample_2d(seed=args.seed)
    else:
        sample = make_sample(shape=tuple(args.shape), seed=args.seed) if args.shape else make_sample(seed=args.seed)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".mrc" if args.format == "mrc" else ".tif"
    for name, data in (("noisy", sample.noisy), ("clean", sample.clean)):
        path = write_image(out / f"{name}{suffix}", data, voxel_size=sample.voxel_size, overwrite=args.overwrite)
        print(f"wrote {path} {tuple(data.shape)} {data.dtype}")
    return 0


def _cmd_denoise(args) -> int:
    from et_denoise.engine.io import read_image, write_image

    output = Path(args.output)
    if args.method == "n2v":
        if not args.model:
            raise UserError("--method n2v needs --model DIR (a model folder saved by 'train' or the app)")
        from et_denoise.engine.n2v import TrainedModel

        if _param_fields(_filter_owners()).keys() & {k for k, v in vars(args).items() if v is not None}:
            raise UserError("filter options do not apply to --method n2v (the model holds its parameters)")
        model = TrainedModel.load(args.model)
        label = "StructN2V" if model.mask is not None else "N2V"
        apply = model.predict
    else:
        if args.model:
            raise UserError(f"--model applies only to --method n2v, not {args.method}")
        method = _methods()[args.method]
        params = _params_from_args(args.method, _filter_owners(), args)
        label = method.label

        def apply(data, **kwargs):
            tuned = _autotuned(method, data, params, args) if args.auto else params
            return method.apply(data, tuned, **kwargs)

    if output.exists() and not args.overwrite:
        raise UserError(f"{output} already exists; add --overwrite to replace it")
    image = read_image(args.input)
    if Path(args.input).resolve() == output.resolve():
        raise UserError("the output would overwrite the input file; choose another output name")
    start = time.perf_counter()
    result = apply(image.data, progress=_TerminalProgress(label), cancel=_cancel_on_interrupt())
    path = write_image(output, result, like=image, overwrite=args.overwrite)
    print(f"{label}: wrote {path} {tuple(result.shape)} float32 in {time.perf_counter() - start:.1f} s")
    return 0


def _autotuned(method, data, params, args):
    """Parameters chosen by J-invariance with the noise's own blind-spot mask (``--auto``)."""
    from et_denoise.engine.analysis.autotune import DEFAULT_GRIDS, autotune

    fixed = sorted(set(DEFAULT_GRIDS[method.name]) & {k for k, v in vars(args).items() if v is not None})
    if fixed:
        raise UserError(f"--auto chooses {', '.join('--' + n.replace('_', '-') for n in fixed)} itself; leave it out")
    result = autotune(method, data, base=params, progress=_TerminalProgress("Auto-tuning"), cancel=_cancel_on_interrupt())
    chosen = ", ".join(f"{name} {getattr(result.params, name):g}" for name in DEFAULT_GRIDS[method.name])
    print(f"auto-tuned {method.label}: {chosen} "
          f"(J-invariance, blind-spot mask {'×'.join(map(str, result.mask.shape))} px)")
    return result.params


def _cmd_autocorr(args) -> int:
    from et_denoise.engine.io import read_image, write_image
    from et_denoise.engine.analysis.mask_suggestion import DEFAULT_THRESHOLD, analyse_noise

    image = read_image(args.input)
    denoised = None
    if args.residual:
        denoised = read_image(args.residual).data
        if denoised.shape != image.data.shape:
            raise UserError(f"{args.residual} has shape {denoised.shape}, but {args.input} has {image.data.shape}")
    analysis = analyse_noise(image.data, denoised=denoised, region=args.region, radius=args.radius,
                             threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold,
                             three_d=args.three_d,
                             progress=_TerminalProgress("Autocorrelation"), cancel=_cancel_on_interrupt())
    print(analysis.report())
    if args.save:
        values = analysis.autocorrelation.values
        if Path(args.save).suffix.lower() == ".png":
            _save_heat_map(args.save, analysis.autocorrelation, args.overwrite)
        else:
            write_image(args.save, values.astype("float32"), overwrite=args.overwrite)
        print(f"wrote {args.save}")
    return 0


def _save_heat_map(path, acf, overwrite) -> None:
    """The in-plane autocorrelation as a labelled PNG heat map."""
    if Path(path).exists() and not overwrite:
        raise UserError(f"{path} already exists; add --overwrite to replace it")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    radius = acf.radius
    figure, axes = pyplot.subplots(figsize=(4.5, 4), dpi=150)
    shown = axes.imshow(acf.plane, cmap="RdBu_r", vmin=-1, vmax=1,
                        extent=(-radius - 0.5, radius + 0.5, radius + 0.5, -radius - 0.5))
    axes.set_xlabel("shift along X (px)")
    axes.set_ylabel("shift along Y (px)")
    axes.set_title(f"Noise autocorrelation\n{acf.source}", fontsize=8)
    figure.colorbar(shown, ax=axes, label="correlation")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def _cmd_compare(args) -> int:
    from et_denoise.engine.compare.comparison import compare_files

    table = compare_files(args.original, args.results, args.output, reference_path=args.reference,
                          csv_path=args.csv, slice_index=args.slice, overwrite=args.overwrite)
    print(table.to_text())
    print(f"wrote {args.output}" + (f" and {args.csv}" if args.csv else ""))
    return 0


def _n2v_owners():
    from et_denoise.engine.n2v import N2VParams

    return {"n2v": N2VParams}


def _cmd_train(args) -> int:
    from et_denoise.engine.io import read_image
    from et_denoise.engine.n2v import EventKind, StopReason, train

    if args.mask is not None and args.mask_file is not None:
        raise UserError("give either --mask or --mask-file, not both")
    if args.mask_file is not None:
        args.mask = str(args.mask_file)
    model_dir = Path(args.model)
    if model_dir.exists() and any(model_dir.iterdir()) and not args.overwrite:
        raise UserError(f"{model_dir} already holds files; add --overwrite to replace the model")
    params = _params_from_args("n2v", _n2v_owners(), args)
    images = [read_image(path).data for path in args.inputs]

    def report(event) -> None:
        if event.kind is EventKind.EPOCH:
            val = f" val_loss {event.val_loss:.4f}" if event.val_loss is not None else ""
            print(f"epoch {event.epoch}/{event.epochs} loss {event.loss:.4f}{val} "
                  f"lr {event.learning_rate:.2e} eta {event.eta_s:.0f} s", flush=True)

    start = time.perf_counter()
    model = train(images, params, progress=report, cancel=_cancel_on_interrupt(), model_dir=model_dir)
    if model.history.stopped is StopReason.CANCELLED:
        print("stopped early: the best weights so far are kept")
    print(f"saved model to {model_dir} after {time.perf_counter() - start:.0f} s")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROGRAM,
        description="ET Denoise: denoise electron tomograms and electron micrographs. "
        "Without a subcommand the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation headless (filters, StructN2V, file formats), print a verdict and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = commands.add_parser("gui", help="open the desktop app (the default when no subcommand is given)",
                              description="Open the desktop app.")
    gui.add_argument("path", nargs="?", help="image file (TIFF, MRC/REC/ST/MRCS) or folder of 2-D TIFF slices to open")
    gui.add_argument("--sample", action="store_true", help="open the built-in sample tomogram")
    gui.add_argument("--screenshot", metavar="FILE.png",
                     help="with --sample: show a finished diffusion result in split view, save a PNG of the window and exit")

    sample = commands.add_parser("sample", help="write the built-in sample tomogram (noisy and clean) to a folder",
                                 description="Write the built-in synthetic tomogram: noisy.tif (or .mrc) and its "
                                 "noise-free ground truth clean.tif, with the voxel size in the header.")
    sample.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into (created if missing)")
    sample.add_argument("--format", choices=("tif", "mrc"), default="tif", help="file format (default tif)")
    sample.add_argument("--shape", type=int, nargs=3, metavar=("Z", "Y", "X"), help="volume size (default: the built-in size)")
    sample.add_argument("--2d", dest="two_d", action="store_true", help="write a single 2-D slice instead of a volume")
    sample.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same data (default 0)")
    sample.add_argument("--overwrite", action="store_true", help="replace existing files")

    denoise = commands.add_parser("denoise", help="denoise an image file with one method",
                                  description="Denoise INPUT with one method and write OUTPUT as float32, "
                                  "keeping the voxel size. Formats follow the file extensions "
                                  "(.tif/.tiff, .mrc/.rec/.st/.mrcs).")
    denoise.add_argument("input", metavar="INPUT", help="image file or folder of 2-D TIFF slices")
    denoise.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="file to write")
    denoise.add_argument("--method", required=True, choices=(*_methods(), "n2v"),
                         help="denoising method; n2v predicts with a trained Noise2Void/StructN2V model (--model)")
    denoise.add_argument("--model", metavar="DIR", help="with --method n2v: the model folder to predict with")
    denoise.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    denoise.add_argument("--auto", action="store_true",
                         help="choose the method's main parameters by self-supervised J-invariance with a blind-spot "
                         "mask fitted to the noise's correlation (no clean image needed)")
    _add_param_options(denoise, _filter_owners(), "method parameters (each applies to the methods named in brackets)")

    train = commands.add_parser(
        "train", help="train Noise2Void / StructN2V on noisy images and save the model",
        description="Train Noise2Void (mask none) or structured Noise2Void (a blind-spot mask that covers the "
        "noise's correlation, e.g. horizontal:11 for tomogram noise correlated along X) on the noisy "
        "images themselves; no clean data is needed. Ctrl+C stops early and keeps the best weights.")
    train.add_argument("inputs", nargs="+", metavar="INPUT", help="noisy image files or folders of TIFF slices")
    train.add_argument("--model", required=True, metavar="DIR", help="folder to save the model in")
    train.add_argument("--mask-file", metavar="FILE",
                       help="blind-spot mask as rows of 0/1 (a blank line starts the next Z plane)")
    train.add_argument("--overwrite", action="store_true", help="replace a model already in DIR")
    _add_param_options(train, _n2v_owners(), "training parameters", aliases={"steps_per_epoch": ("--steps",)})

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
    autocorr.add_argument("--radius", type=int, default=12, help="largest shift shown, in pixels (default 12)")
    autocorr.add_argument("--threshold", type=float,
                          help="shifts whose correlation reaches this size join the mask, with the tails of "
                          "their lobes down to half of it (default 0.2)")
    autocorr.add_argument("--3d", dest="three_d", action="store_true",
                          help="allow a mask that spans planes (for 3-D training)")
    autocorr.add_argument("-o", "--save", metavar="FILE",
                          help="save the autocorrelation: .png as a heat map, .tif/.mrc as values")
    autocorr.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")

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
    compare.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return parser



_COMMANDS = {"sample": _cmd_sample, "denoise": _cmd_denoise, "train": _cmd_train, "autocorr": _cmd_autocorr,
             "compare": _cmd_compare}


def _parse(argv):
    parser = _build_parser()
    known = {"gui", *_COMMANDS, "-h", "--help", "--version", "--self-test"}
    if not argv or argv[0] not in known:
        argv = ["gui", *argv]
    return parser.parse_args(argv)


def _run_gui(args) -> int:
    if args.screenshot and not args.sample:
        raise UserError("--screenshot needs --sample")
    from et_denoise.gui.app import run_gui

    return run_gui(args.path, sample=args.sample, screenshot=args.screenshot)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
    from et_denoise.engine.n2v.errors import ModelError

    _guard_missing_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parse(argv)
        if getattr(args, "self_test", False):
            from et_denoise.engine.selftest import run_self_test

            return 0 if run_self_test(print) else 1
        if args.command == "gui":
            return _run_gui(args)
        return _COMMANDS[args.command](args)
    except (UserError, ImageError, ParameterError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this image; try 2-D mode or a smaller region", file=sys.stderr)
        return 1
    except Exception as error:  # a bug, not bad input: still one line for the user
        if os.environ.get("ET_DENOISE_DEBUG"):
            raise
        print(f"error: unexpected {type(error).__name__}: {error} (set ET_DENOISE_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
