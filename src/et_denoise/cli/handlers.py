"""One function per subcommand: check the arguments and every output, compute, write, report.

Each handler takes the parsed arguments and the process's :class:`~cli.interrupts.Interrupts`
and returns the exit code.  Every output location is checked before anything
is read or computed (:mod:`cli.outputs`), so a run never fails at its end for
a reason known at its start.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from et_denoise.cli.errors import UserError
from et_denoise.cli.interrupts import Interrupts
from et_denoise.cli.options import n2v_owners, option_names, params_from_args
from et_denoise.cli.outputs import check_distinct, check_output_file, check_output_folder
from et_denoise.cli.recipes import job_maker, recipe_from_options, selected_part
from et_denoise.engine.io.memory import available_memory, format_bytes, process_private_memory

#: Seconds after a first Ctrl+C or SIGTERM by which a denoising run has ended, even if a write is blocked.
CANCEL_GRACE_S = 3.0


class TerminalProgress:
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


def run_sample(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.engine.io import write_image
    from et_denoise.engine.sample import make_sample, make_sample_2d

    out = check_output_folder(args.output, option="-o")
    suffix = ".mrc" if args.format == "mrc" else ".tif"
    names = ("noisy", "clean")
    if out.is_dir():
        for name in names:
            check_output_file(str(out / f"{name}{suffix}"), option="-o", overwrite=args.overwrite)
    if args.two_d:
        sample = make_sample_2d(seed=args.seed, noise=args.noise)
    else:
        shape = {"shape": tuple(args.shape)} if args.shape else {}
        sample = make_sample(**shape, seed=args.seed, noise=args.noise)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in zip(names, (sample.noisy, sample.clean)):
        path = write_image(out / f"{name}{suffix}", data, voxel_size=sample.voxel_size, overwrite=args.overwrite)
        print(f"wrote {path} {tuple(data.shape)} {data.dtype}")
    return 0


def run_denoise(args: argparse.Namespace, interrupts: Interrupts) -> int:
    """Denoise one file slab by slab within the memory budget (:mod:`engine.volume`), streaming the result."""
    from et_denoise.engine.io import open_image_lazily
    from et_denoise.engine.volume import MemoryBudgetError, denoise_to_file, method_job

    output = check_output_file(args.output, option="-o", overwrite=args.overwrite, inputs=[args.input])
    recipe = recipe_from_options(args)
    if args.auto and recipe.model is None:
        from et_denoise.engine.filters import FILTERS

        method = FILTERS[recipe.method]

        def make_job(volume, cancel):
            tuned = _autotuned(method, _tuning_data(args, volume), recipe.params, args, cancel)
            return method_job(method, tuned, volume, cancel=cancel)
    else:
        make_job, _label = job_maker(recipe, on_cluster=bool(args.scheduler))

    client = None
    if args.scheduler:
        check_cluster_run(output)
        client = connect(args.scheduler)
    volume = selected_part(open_image_lazily(args.input), args)
    start = time.perf_counter()
    # Computing and writing go together: a first signal stops both at the next plane, or after the grace.
    with interrupts.cancelling(grace_s=CANCEL_GRACE_S) as token:
        job = make_job(volume, token)
        try:
            # --memory bounds the whole process: the slabs get what it does not hold already.
            if client is not None:
                from et_denoise.engine.volume.cluster import denoise_on_cluster

                path = denoise_on_cluster(volume, output, job, client, memory=args.memory, overwrite=args.overwrite,
                                          progress=TerminalProgress(job.label), cancel=token)
            else:
                in_use = process_private_memory() if args.memory is not None else 0
                path = denoise_to_file(volume, output, job, memory=args.memory, in_use=in_use,
                                       overwrite=args.overwrite, progress=TerminalProgress(job.label), cancel=token)
        except MemoryBudgetError as error:
            raise UserError(budget_advice(error)) from None
        finally:
            if client is not None:
                client.close()
    shape = tuple(volume.shape)
    print(f"{job.label}: wrote {path} {shape} float32 in {time.perf_counter() - start:.1f} s")
    return 0


def check_cluster_run(output: Path) -> None:
    """UserError if ``output`` cannot be written by a cluster's workers (they write MRC by regions)."""
    from et_denoise.engine.io.mrc import MRC_EXTENSIONS

    if output.suffix.lower() not in MRC_EXTENSIONS:
        raise UserError(f"{output}: with --scheduler the workers write the result by regions into an MRC file; "
                        "name the output .mrc or .rec")


def connect(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``; UserError if it does not answer."""
    from et_denoise.engine.errors import ParameterError
    from et_denoise.engine.volume.cluster import connect as connect_to_scheduler

    try:
        return connect_to_scheduler(address)
    except ParameterError as error:
        raise UserError(str(error)) from None


def budget_advice(error) -> str:
    """The one line for a slab that does not fit: what budget it needs, and what else would help."""
    available = available_memory()
    if error.needed <= available:
        advice = f"give --memory {_rounded_up(error.needed)} or more"
    else:
        advice = f"this machine has {format_bytes(available)} available"
    if error.halo:
        advice += ", or use 2-D mode (no planes around each slab)"
    return f"{error}; {advice}"


def _rounded_up(nbytes: int) -> str:
    """``nbytes`` as :func:`format_bytes` writes it, rounded up (a budget of that size suffices)."""
    text = format_bytes(nbytes)
    number, unit = text.split()
    scale = {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
    if float(number) * scale < nbytes:
        number = f"{float(number) + (0.1 if unit != 'bytes' else 1):.{0 if unit == 'bytes' else 1}f}"
    return f"{number}{'' if unit == 'bytes' else unit}" if unit != "bytes" else f"{number}B"


def _tuning_data(args, volume):
    """The image ``--auto`` tunes on: the part denoised (``--region``, ``--bin``), or the whole input.

    The whole input is memory-mapped where the file allows it: the calibration
    reads its central region and the planes the noise σ is measured on.  A
    part is read into memory (binning changes the noise the parameters suit).
    """
    from et_denoise.engine.io import read_image

    if args.region is None and args.bin == 1:
        return read_image(args.input, mmap_threshold_bytes=0).data
    return volume.load().data


def _autotuned(method, data, params, args, cancel):
    """Parameters chosen by Stein's unbiased risk estimate on ``data``, noise correlated over its blind-spot mask (``--auto``)."""
    from et_denoise.engine.analysis.autotune import autotune, default_grid

    grid = default_grid(method, data)
    fixed = sorted(set(grid) & {k for k, v in vars(args).items() if v is not None})
    searched = {name: values for name, values in grid.items() if name not in fixed}
    if not searched:
        raise UserError(f"--auto chooses {option_names(fixed)} itself; leave it out")
    result = autotune(method, data, grid=searched, base=params, progress=TerminalProgress("Auto-tuning"),
                      cancel=cancel)
    chosen = ", ".join(f"{name} {getattr(result.params, name)}" for name in searched)
    print(f"auto-tuned {method.label}: {chosen} "
          f"(lowest estimated error, noise correlated over a {'×'.join(map(str, result.mask.shape))} px blind-spot mask)")
    return result.params


def run_train(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.engine.io import read_image
    from et_denoise.engine.n2v import EventKind, StopReason, train
    from et_denoise.engine.n2v.advice import training_advice
    from et_denoise.engine.n2v.speed import choose_width

    if args.mask is not None and args.mask_file is not None:
        raise UserError("give either --mask or --mask-file, not both")
    if args.mask_file is not None:
        args.mask = str(args.mask_file)
    model_dir = check_output_folder(args.model, option="--model")
    if model_dir.is_dir() and any(model_dir.iterdir()) and not args.overwrite:
        raise UserError(f"{model_dir} already holds files; add --overwrite to replace the model")
    params = params_from_args("n2v", n2v_owners(), args)
    images = [read_image(path).data for path in args.inputs]
    if not params.unet_filters:
        params = choose_width(params)
        print(f"network: {params.unet_filters} first-layer filters, the widest that fits "
              + (f"{params.minutes:g} min on a 2-core CPU" if params.minutes else "training by epochs"), flush=True)

    def report(event) -> None:
        interrupts.allow_cancel()  # from the first batch on, there are weights to keep
        if event.kind is EventKind.EPOCH:
            val = f" val_loss {event.val_loss:.4f}" if event.val_loss is not None else ""
            print(f"epoch {event.epoch}/{event.epochs} loss {event.loss:.4f}{val} "
                  f"lr {event.learning_rate:.2e} eta {event.eta_s:.0f} s", flush=True)

    start = time.perf_counter()
    with interrupts.cancelling(from_start=False) as token:  # preparing, a signal ends the run at once
        model = train(images, params, progress=report, cancel=token, model_dir=model_dir)
    if model.history.stopped is StopReason.CANCELLED:
        print("stopped early: the best weights so far are kept")
    elif model.history.stopped is StopReason.TIME_BUDGET:
        print(f"time budget of {params.minutes:g} min reached after {len(model.history.loss)} epochs")
    print(f"saved model to {model_dir} after {time.perf_counter() - start:.0f} s")
    advice = training_advice(model.history, model.params)
    if advice:
        print(advice)
    return 0


def run_autocorr(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.engine.analysis.mask_suggestion import DEFAULT_THRESHOLD, analyse_noise
    from et_denoise.engine.io import read_image, write_image

    inputs = [args.input] + ([args.residual] if args.residual else [])
    save = None if args.save is None else check_output_file(args.save, option="-o", overwrite=args.overwrite,
                                                             inputs=inputs)
    mask_out = None if args.mask_out is None else check_output_file(args.mask_out, option="--mask-out",
                                                                     overwrite=args.overwrite, inputs=inputs)
    if save is not None and mask_out is not None:
        check_distinct([save, mask_out])
    image = read_image(args.input)
    denoised = None
    if args.residual:
        denoised = read_image(args.residual).data
        if denoised.shape != image.data.shape:
            raise UserError(f"{args.residual} has shape {denoised.shape}, but {args.input} has {image.data.shape}")
    with interrupts.cancelling() as token:
        analysis = analyse_noise(image.data, denoised=denoised, region=args.region, radius=args.radius,
                                 threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold,
                                 three_d=args.three_d, progress=TerminalProgress("Autocorrelation"), cancel=token)
    from et_denoise.cli.reports import noise_report

    print(noise_report(analysis))
    if save is not None:
        if save.suffix.lower() == ".png":
            from et_denoise.engine.analysis.autocorr_figure import save_autocorrelation_heat_map

            save_autocorrelation_heat_map(save, analysis.autocorrelation, overwrite=args.overwrite)
        else:
            write_image(save, analysis.autocorrelation.values.astype("float32"), overwrite=args.overwrite)
        print(f"wrote {save}")
    if mask_out is not None:
        if analysis.suggestion.is_plain:
            print(f"no mask file written to {mask_out}: the suggestion is plain N2V, train with --mask none")
        else:
            mask_out.write_text(analysis.suggestion.mask_file_text)
            print(f"wrote {mask_out}: train with --mask-file {mask_out}")
    return 0


def run_compare(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.engine.compare.comparison import compare_files
    from et_denoise.engine.compare.figure import validate_figure_path

    if args.data_range is not None and args.reference is None:
        raise UserError("--data-range goes with --reference (it scales PSNR and SSIM)")
    inputs = [args.original, *args.results] + ([args.reference] if args.reference else [])
    outputs = [args.output] + ([args.csv] if args.csv is not None else [])
    for path, option in zip(outputs, ("-o", "--csv")):
        check_output_file(path, option=option, overwrite=args.overwrite, inputs=inputs)
    validate_figure_path(args.output)
    check_distinct(outputs)
    table = compare_files(args.original, args.results, args.output, reference_path=args.reference,
                          csv_path=args.csv, slice_index=args.slice, data_range=args.data_range,
                          overwrite=args.overwrite)
    print(table.to_text())
    print(f"wrote {args.output}" + (f" and {args.csv}" if args.csv else ""))
    return 0


def run_gui(args: argparse.Namespace, interrupts: Interrupts) -> int:
    if args.screenshot and not (args.sample or args.path):
        raise UserError("--screenshot needs --sample or an image file")
    if (args.size or args.tab) and not args.screenshot:
        raise UserError("--size and --tab go with --screenshot")
    size = None
    if args.size:
        from et_denoise.gui.screenshot import parse_size

        try:
            size = parse_size(args.size)
        except ValueError as error:
            raise UserError(str(error)) from None
    if args.screenshot:
        check_output_file(args.screenshot, option="--screenshot", overwrite=True)
    from et_denoise.gui.app import run_gui as open_app

    interrupts.uninstall()
    return open_app(args.path, sample=args.sample, screenshot=args.screenshot, size=size, tab=args.tab)


def run_self_test(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.engine.selftest import run_self_test as check_installation

    return 0 if check_installation(print) else 1


def run_batch(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from et_denoise.cli.batch import run_batch as denoise_all

    return denoise_all(args, interrupts)


HANDLERS = {"sample": run_sample, "denoise": run_denoise, "batch": run_batch, "train": run_train, "autocorr": run_autocorr,
            "compare": run_compare, "gui": run_gui}
