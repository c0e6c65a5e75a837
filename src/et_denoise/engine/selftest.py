"""Check an installation headless: ``main.py --self-test`` (and the packaged app's ``--self-test``).

Each check exercises one part of the app the way a user's session would, on a
small synthetic tomogram: the sample generator, numba's thread-safe parallel
layer and its kernel cache, every classic filter (which must improve the PSNR),
a few StructN2V training steps with a saved, reloaded and applied model, its
export as a bioimage.io package, a TIFF and an MRC file and an OME-Zarr store written and read back,
an MRC volume denoised in slabs on Dask (as volumes larger than memory are),
and a comparison figure written as PNG and PDF.  A failing check is reported
by name with its error in one line; the others still run.
"""

from __future__ import annotations

import glob
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import numba
import numpy as np

OutputFn = Callable[[str], None]

#: Sample volume of the self-test: small enough to finish in seconds.
SAMPLE_SHAPE = (8, 96, 128)
#: A classic filter passes when it gains at least this much PSNR on the sample.
MIN_FILTER_GAIN_DB = 1.0
#: numba threading layers that allow parallel kernels to be called from several
#: threads at once (the filters do); numba's fallback, "workqueue", aborts the process.
THREAD_SAFE_LAYERS = ("omp", "tbb")


class CheckFailed(Exception):
    """A check ran but its result is wrong; the message says what was expected."""


@dataclass
class _Context:
    """What the checks share: the sample, a scratch folder, and the names of failed checks."""

    workdir: Path
    noisy: np.ndarray | None = None
    clean: np.ndarray | None = None
    voxel_size: tuple | None = None
    model: object = None
    failed: set = field(default_factory=set)


@dataclass(frozen=True)
class _Check:
    name: str
    run: Callable[[_Context], str]
    needs: tuple[str, ...] = ()


# ---------------------------------------------------------------- the checks

def _check_sample(context: _Context) -> str:
    from et_denoise.engine.compare.metrics import psnr
    from et_denoise.engine.sample import make_sample

    sample = make_sample(SAMPLE_SHAPE, seed=0)
    context.noisy, context.clean, context.voxel_size = sample.noisy, sample.clean, sample.voxel_size
    return f"{'×'.join(map(str, SAMPLE_SHAPE))} voxels, noisy PSNR {psnr(sample.clean, sample.noisy):.1f} dB"


def _check_result(out: np.ndarray, like: np.ndarray) -> None:
    if out.shape != like.shape or out.dtype != np.float32:
        raise CheckFailed(f"returned {out.dtype} {out.shape}, expected float32 {like.shape}")
    if not np.isfinite(out).all():
        raise CheckFailed("returned NaN or infinite values")


def _row_sums(values):
    out = np.empty(values.shape[0])
    for row in numba.prange(values.shape[0]):
        out[row] = values[row].sum()
    return out


def _check_numba(context: _Context) -> str:
    # Compiled here, not at import, so that a cache that cannot be written is
    # reported by this check instead of stopping the whole self-test.
    kernel = numba.njit(parallel=True, cache=True)(_row_sums)
    values = np.arange(12.0).reshape(4, 3)
    if not np.array_equal(kernel(values), values.sum(axis=1)):
        raise CheckFailed("a parallel kernel computed wrong sums")
    layer = numba.threading_layer()
    if layer not in THREAD_SAFE_LAYERS:
        raise CheckFailed(f"threading layer {layer!r} is not thread-safe (OpenMP's libgomp missing?); "
                          "the filters would abort the app")
    cache = Path(kernel._cache.cache_path)  # numba's own choice of folder for this kernel
    if not glob.glob(str(cache / f"*{_row_sums.__name__}*.nbi")):
        raise CheckFailed(f"compiled kernels are not cached in {cache}")
    return f"threading layer {layer}, kernel cache {cache}"


def _filter_check(method) -> Callable[[_Context], str]:
    def check(context: _Context) -> str:
        from et_denoise.engine.compare.metrics import psnr

        out = method.apply(context.noisy)
        _check_result(out, context.noisy)
        gain = psnr(context.clean, out) - psnr(context.clean, context.noisy)
        if gain < MIN_FILTER_GAIN_DB:
            raise CheckFailed(f"PSNR gain {gain:+.1f} dB, expected at least {MIN_FILTER_GAIN_DB:+.1f} dB")
        return f"PSNR {gain:+.1f} dB"

    return check


def _check_structn2v(context: _Context) -> str:
    from et_denoise.engine import n2v
    from et_denoise.engine.n2v.device import compute_device

    params = n2v.N2VParams(mask="horizontal:5", patch_size=32, epochs=1, steps_per_epoch=3, batch_size=4,
                           unet_depth=2, unet_filters=8)
    folder = context.workdir / "model"
    n2v.train([context.noisy], params, model_dir=folder)
    context.model = n2v.TrainedModel.load(folder)
    _check_result(context.model.predict(context.noisy), context.noisy)
    return f"trained {params.steps_per_epoch} steps, saved, reloaded, predicted ({compute_device()})"


def _check_export(context: _Context) -> str:
    from et_denoise.engine import n2v

    path = n2v.export_bioimageio(context.model, context.workdir / "selftest.bioimage.io.zip", context.noisy,
                                 name="ET Denoise self-test", authors=("ET Denoise self-test",))
    return f"wrote a {path.stat().st_size / 1e6:.1f} MB bioimage.io model package"


def _file_check(suffix: str) -> Callable[[_Context], str]:
    def check(context: _Context) -> str:
        from et_denoise.engine.io import read_image, write_image

        path = write_image(context.workdir / f"roundtrip{suffix}", context.noisy, voxel_size=context.voxel_size)
        image = read_image(path)
        if not np.array_equal(image.data, context.noisy):
            raise CheckFailed(f"{path.name} read back different values")
        if not np.allclose(image.voxel_size, context.voxel_size, rtol=1e-4):
            raise CheckFailed(f"{path.name} read back voxel size {image.voxel_size}, wrote {context.voxel_size}")
        files = [path] if path.is_file() else [part for part in path.rglob("*") if part.is_file()]  # a store: a folder
        return f"wrote and read back {sum(part.stat().st_size for part in files) / 1e6:.1f} MB"

    return check


def _check_slabs(context: _Context) -> str:
    """3-D diffusion of an MRC file in slabs of 2 planes (halo, volume-wide σ, streamed MRC) equals it in memory."""
    from et_denoise.engine.filters import FILTERS
    from et_denoise.engine.io import open_image_lazily, read_image, write_image
    from et_denoise.engine.volume import denoise_to_file, method_job
    from et_denoise.engine.volume.budget import slab_bytes

    method = FILTERS["diffusion"]
    params = method.params_type(mode="3d", iterations=3)
    path = write_image(context.workdir / "slabs-in.mrc", context.noisy, voxel_size=context.voxel_size)
    volume = open_image_lazily(path)
    job = method_job(method, params, volume)
    out = denoise_to_file(volume, context.workdir / "slabs-out.mrc", job,
                          memory=slab_bytes(volume.shape, volume.dtype.itemsize, job, 2))
    difference = float(np.abs(read_image(out).data - method.apply(context.noisy, params)).max())
    if difference > 1e-5 * float(np.ptp(context.noisy)):
        raise CheckFailed(f"the volume denoised in slabs differs from it denoised whole by {difference:.3g}")
    return f"{-(-volume.n_planes // 2)} slabs of 2 planes, streamed to MRC, equal to the volume denoised whole"


def _check_figure(context: _Context) -> str:
    from et_denoise.engine.compare.figure import FigureSize, Panel, save_comparison_figure

    middle = len(context.noisy) // 2
    panels = [Panel("noisy", context.noisy[middle]), Panel("clean", context.clean[middle], subtitle="ground truth")]
    height, width = context.noisy.shape[1:]
    line = ((0, height / 2), (width - 1, height / 2))
    sizes = []
    for suffix, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF")):
        path = save_comparison_figure(context.workdir / f"figure{suffix}", panels, line=line,
                                      size=FigureSize(width=12, dpi=72))
        if not path.read_bytes().startswith(magic):
            raise CheckFailed(f"{path.name} is not a {suffix[1:].upper()} file")
        sizes.append(f"{suffix[1:].upper()} {path.stat().st_size / 1e3:.0f} kB")
    return f"comparison figure with line profile as {' and '.join(sizes)}"


def _checks() -> list[_Check]:
    from et_denoise.engine.filters import FILTERS

    filters = [_Check(name, _filter_check(method), needs=("sample", "numba")) for name, method in FILTERS.items()]
    return [
        _Check("sample", _check_sample),
        _Check("numba", _check_numba),
        *filters,
        _Check("structn2v", _check_structn2v, needs=("sample",)),
        _Check("export", _check_export, needs=("structn2v",)),
        _Check("tiff", _file_check(".tif"), needs=("sample",)),
        _Check("mrc", _file_check(".mrc"), needs=("sample",)),
        _Check("ome-zarr", _file_check(".ome.zarr"), needs=("sample",)),
        _Check("slabs", _check_slabs, needs=("sample", "numba", "mrc")),
        _Check("figure", _check_figure, needs=("sample",)),
    ]


# ---------------------------------------------------------------- running them

def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if isinstance(error, CheckFailed) else f"{type(error).__name__}: {text}"


def run_self_test(output: OutputFn = print) -> bool:
    """Run every check, report each on its own line and end with a one-line verdict.

    Parameters
    ----------
    output : callable
        Receives each line of the report (``print`` on the command line).

    Returns
    -------
    bool
        True if every check passed.

    Notes
    -----
    A check that raises is reported as failed with its error message, never
    a traceback; checks that depend on it (``needs``) are reported as skipped
    instead of run.  Filters are skipped when numba's threading layer is not
    thread-safe, because calling them would abort the process.

    Examples
    --------
    >>> run_self_test(print)  # doctest: +SKIP
    ok      sample      8×96×128 voxels, noisy PSNR 11.4 dB (0.4 s)
    ...
    self-test passed: 11 checks in 7.7 s
    """
    start = time.perf_counter()
    failures = []
    with tempfile.TemporaryDirectory(prefix="et-denoise-selftest-") as workdir:
        context = _Context(Path(workdir))
        try:
            checks = _checks()
        except Exception as error:  # noqa: BLE001 - an engine that cannot load is a verdict too
            output(f"self-test FAILED: engine ({_one_line(error)})")
            return False
        for check in checks:
            missing = [name for name in check.needs if name in context.failed]
            began = time.perf_counter()
            if missing:
                context.failed.add(check.name)
                failures.append(f"{check.name} (skipped: {', '.join(missing)} failed)")
                output(f"SKIPPED {check.name:<11} needs {', '.join(missing)}")
                continue
            try:
                detail = check.run(context)
            except Exception as error:  # noqa: BLE001 - every failure becomes one line of the report
                context.failed.add(check.name)
                failures.append(f"{check.name} ({_one_line(error)})")
                output(f"FAILED  {check.name:<11} {_one_line(error)}")
            else:
                output(f"ok      {check.name:<11} {detail} ({time.perf_counter() - began:.1f} s)")
    elapsed = time.perf_counter() - start
    if failures:
        output(f"self-test FAILED: {'; '.join(failures)}; {len(checks) - len(failures)} of {len(checks)} passed "
               f"in {elapsed:.1f} s")
        return False
    output(f"self-test passed: {len(checks)} checks in {elapsed:.1f} s")
    return True
