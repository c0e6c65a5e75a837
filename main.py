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

PROGRAM = "et-denoise"
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
    from engine.filters import FILTERS

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
    from engine.jobs import CancelToken

    token = CancelToken()
    signal.signal(signal.SIGINT, lambda *_: token.cancel())
    return token


# ---------------------------------------------------------------- subcommands

def _cmd_sample(args) -> int:
    from engine.io import write_image
    from engine.sample import make_sample, make_sample_2d

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
    from engine.io import read_image, write_image

    output = Path(args.output)
    if args.method == "n2v":
        if not args.model:
            raise UserError("--method n2v needs --model DIR (a model folder saved by 'train' or the app)")
        from engine.n2v import TrainedModel

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
            return method.apply(data, params, **kwargs)

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


def _n2v_owners():
    from engine.n2v import N2VParams

    return {"n2v": N2VParams}


def _cmd_train(args) -> int:
    from engine.io import read_image
    from engine.n2v import EventKind, StopReason, train

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
        prog="main.py",
        description="ET Denoise: denoise electron tomograms and electron micrographs. "
        "Without a subcommand the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {_version()}")
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
    _add_param_options(denoise, _filter_owners(), "method parameters (each applies to the methods named in brackets)")

    train = commands.add_parser(
        "train", help="train Noise2Void / StructN2V on noisy images and save the model",
        description="Train Noise2Void (mask none) or structured Noise2Void (a blind-spot mask that covers the "
        "noise's correlation, e.g. horizontal:9 for tomogram noise correlated along X) on the noisy "
        "images themselves; no clean data is needed. Ctrl+C stops early and keeps the best weights.")
    train.add_argument("inputs", nargs="+", metavar="INPUT", help="noisy image files or folders of TIFF slices")
    train.add_argument("--model", required=True, metavar="DIR", help="folder to save the model in")
    train.add_argument("--mask-file", metavar="FILE",
                       help="blind-spot mask as rows of 0/1 (a blank line starts the next Z plane)")
    train.add_argument("--overwrite", action="store_true", help="replace a model already in DIR")
    _add_param_options(train, _n2v_owners(), "training parameters", aliases={"steps_per_epoch": ("--steps",)})
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PROGRAM)
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).with_name("pyproject.toml")
        if pyproject.exists():
            return tomllib.loads(pyproject.read_text())["project"]["version"]
        return "unknown"


_COMMANDS = {"sample": _cmd_sample, "denoise": _cmd_denoise, "train": _cmd_train}


def _parse(argv):
    parser = _build_parser()
    known = {"gui", *_COMMANDS, "-h", "--help", "--version", "--self-test"}
    if not argv or argv[0] not in known:
        argv = ["gui", *argv]
    return parser.parse_args(argv)


def _run_gui(args) -> int:
    if args.screenshot and not args.sample:
        raise UserError("--screenshot needs --sample")
    from gui.app import run_gui

    return run_gui(args.path, sample=args.sample, screenshot=args.screenshot)


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    from engine.errors import Cancelled, ImageError, ParameterError
    from engine.n2v.errors import ModelError

    _guard_missing_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parse(argv)
        if getattr(args, "self_test", False):
            from engine.selftest import run_self_test

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
