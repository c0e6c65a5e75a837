"""Benchmark: tomograms of 1 to 20 GB denoised through the command line within ``--memory 4GB``.

Run with ``make bench`` (or ``pytest tests/benchmarks/test_bench_volume_memory.py -s -o addopts=""``).

Writes synthetic MRC tomograms (float32 of 1, 5 and 20 GB, the last only when
the disk has room for it and its result; uint8 of 5 GB, whose float32 result
is 20 GB), streamed slab by slab so that writing them needs no memory either,
and runs each classic method, and StructN2V prediction, on each with
``denoise --memory 4GB`` in its own process.  The StructN2V model is trained
once per session through the command line (``train --mask horizontal:3
--minutes 1 --unet-filters 8 --no-test-time-flips``: the synthetic noise is
correlated with the next pixel along X) on a 64 × 256 × 256 tomogram made the
same way; it predicts in one pass, without test-time flips, which would take 4
times as long (the memory the same).  Two methods run with cheaper settings
than their defaults, so that the table takes about an hour instead of a day on
2 cores: non-local means with ``--patch-distance 2`` (25 shifts per pixel
instead of 121: 39 instead of 153 CPU-s/GB) and DCT shrinkage with ``--step 8``
(16 times fewer blocks than the default step 2: 743 CPU-s/GB at the default).
The slabs, their halos and the memory they need do not depend on these
settings in 2-D mode, and the cost per GB scales with them.  Every 0.2 s the process's ``/proc/PID/smaps_rollup`` is read:
private memory is its ``Anonymous`` pages (arrays, heap, libraries' data),
file-backed its ``Rss`` less those (pages of the program's libraries and of
files it maps).  Prints one table row per run: size × method → seconds, peak
private GB, peak file-backed GB, s/GB; asserts peak private ≤ 4 GB in every
run, and that the CPU seconds per GB of the largest float32 size are within
20 % of the 1 GB one's (linear cost), once the start-up that every run costs
whatever its size (imports; for N2V, TensorFlow and the network) is
subtracted, measured on a 2-plane volume (CPU time, since other work on a shared
2-core machine stretches the wall clock: at load 4 the 1 GB median took 29 s
for 12.6 CPU s).  For the 1 GB volume it also runs the whole-volume
path of before (read whole, filter, write) for the speed ratio, unless
``ET_BENCH_WHOLE=0``.

Each file is deleted after its runs.  ``ET_BENCH_SIZES`` (e.g. ``1,5``) and
``ET_BENCH_METHODS`` (e.g. ``median,diffusion`` or ``n2v``) choose a subset: the
whole table takes hours on 2 cores (NLM, DCT and N2V dominate); the model is
trained only when ``n2v`` is chosen.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from et_denoise.cli.options import params_options
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import SlabStream, write_image

ROOT = Path(__file__).resolve().parents[2]
GB = 1e9
BUDGET_GB = 4.0
PLANE = (2048, 2048)
#: (name, dtype, planes): 1, 5 and 20 GB of float32 and 5 GB of uint8 in 2048 × 2048 planes.
VOLUMES = [("1 GB float32", np.float32, 60), ("5 GB float32", np.float32, 298),
           ("20 GB float32", np.float32, 1192), ("5 GB uint8", np.uint8, 1192)]
METHODS = ("median", "diffusion", "nlm", "dct", "n2v")
#: Parameters of a method that differ from its defaults (see the module's docstring).
METHOD_SETTINGS = {"nlm": {"patch_distance": 2}, "dct": {"step": 8}}
#: The StructN2V model's training volume (planes, rows, columns) and command-line options.
N2V_CROP = (64, 256, 256)
N2V_TRAIN = ("--mask", "horizontal:3", "--minutes", "1", "--unet-filters", "8", "--no-test-time-flips")
SAMPLE_S = 0.2

pytestmark = pytest.mark.timeout(12 * 3600)  # the whole table takes hours, beyond the suite's 10 minutes


def _chosen():
    sizes = os.environ.get("ET_BENCH_SIZES")
    methods = os.environ.get("ET_BENCH_METHODS")
    volumes = [v for v in VOLUMES if sizes is None or v[0].split()[0] in sizes.split(",")]
    return volumes, tuple(methods.split(",")) if methods else METHODS


def synthetic_tomogram(path: Path, dtype, planes: int, plane: tuple[int, int] = PLANE) -> Path:
    """A tomogram-like volume (smooth objects plus noise correlated along X), written slab by slab."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:plane[0], 0:plane[1]].astype(np.float32) / 64

    def blocks():
        for start in range(0, planes, 16):
            count = min(16, planes - start)
            z = (np.arange(start, start + count, dtype=np.float32) / 64)[:, None, None]
            clean = np.sin(x + z) * np.cos(y - z)
            noise = rng.standard_normal((count,) + plane, dtype=np.float32)
            noise[..., 1:] += 0.6 * noise[..., :-1]  # correlated along X, as back-projection makes it
            block = clean + 0.5 * noise
            if dtype == np.uint8:
                block = np.clip(block * 40 + 128, 0, 255).astype(np.uint8)
            yield block

    return write_image(path, SlabStream((planes,) + plane, dtype, blocks), voxel_size=(10.0, 10.0, 10.0))


def measure(command) -> dict:
    """Run ``command``; its wall time, CPU time and peak private and file-backed memory from /proc."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks = {"private": 0, "file": 0}

    def sample():
        path = f"/proc/{process.pid}/smaps_rollup"
        while process.poll() is None:
            try:
                fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in open(path) if line.endswith("kB\n")}
            except (OSError, ValueError, IndexError):
                break
            peaks["private"] = max(peaks["private"], fields.get("Anonymous", 0))
            peaks["file"] = max(peaks["file"], fields.get("Rss", 0) - fields.get("Anonymous", 0))
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    sampler.join()
    assert process.returncode == 0, err
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": time.perf_counter() - start, "cpu": cpu, **peaks}


WHOLE_VOLUME = """
import json, sys
from et_denoise.engine.io import read_image, write_image
image = read_image(sys.argv[1])
if sys.argv[3] == "n2v":
    from et_denoise.engine.n2v import TrainedModel
    result = TrainedModel.load(sys.argv[4]).predict(image.data)
else:
    from et_denoise.engine.filters import FILTERS
    method = FILTERS[sys.argv[3]]
    result = method.apply(image.data, method.params_type(**json.loads(sys.argv[4])))
write_image(sys.argv[2], result, like=image, overwrite=True)
"""


@pytest.fixture(scope="session")
def n2v_model(tmp_path_factory):
    """A small StructN2V model trained through the command line, or None when ``n2v`` is not chosen."""
    if "n2v" not in _chosen()[1]:
        yield None
        return
    folder = tmp_path_factory.mktemp("n2v")
    crop = synthetic_tomogram(folder / "crop.mrc", np.float32, N2V_CROP[0], N2V_CROP[1:])
    model = folder / "model"
    run = measure([sys.executable, "-m", "et_denoise", "train", str(crop), "--model", str(model), *N2V_TRAIN])
    crop.unlink()
    print(f"\nStructN2V model trained on {'x'.join(map(str, N2V_CROP))} float32 ({' '.join(N2V_TRAIN)}): "
          f"{run['seconds']:.1f} s, {run['cpu']:.1f} CPU s, {run['private'] / GB:.2f} GB private")
    yield model
    shutil.rmtree(folder, ignore_errors=True)


def _denoise(source: Path, output: Path, method: str, model) -> dict:
    """``denoise`` of ``source`` with ``method`` within the budget, measured; the output deleted."""
    if method == "n2v":
        options = ["--model", str(model)]
    else:
        options = params_options(FILTERS[method].params_type(**METHOD_SETTINGS.get(method, {})))
    run = measure([sys.executable, "-m", "et_denoise", "denoise", str(source), "-o", str(output),
                   "--method", method, *options, "--memory", f"{BUDGET_GB:g}GB", "--overwrite"])
    output.unlink()
    return run


def _start_up(folder: Path, methods, model) -> dict:
    """CPU seconds of each method's run on a 2-plane volume: the start-up (imports, a network loaded)
    that a run costs whatever the volume's size, subtracted before the cost per GB is compared."""
    tiny = synthetic_tomogram(folder / "tiny.mrc", np.float32, 2)
    try:
        return {method: _denoise(tiny, folder / "tiny-out.mrc", method, model)["cpu"] for method in methods}
    finally:
        tiny.unlink()


def test_every_method_stays_within_4_gb_of_private_memory_at_every_size(tmp_path, n2v_model):
    volumes, methods = _chosen()
    whole_volume = os.environ.get("ET_BENCH_WHOLE", "1") != "0"
    rows, per_gb = [], {}
    start_up = _start_up(tmp_path, methods, n2v_model)
    print("\nstart-up CPU s (2 planes): " + ", ".join(f"{m} {cpu:.1f}" for m, cpu in start_up.items()))
    for name, dtype, planes in volumes:
        nbytes = planes * PLANE[0] * PLANE[1] * np.dtype(dtype).itemsize
        needed = nbytes + planes * PLANE[0] * PLANE[1] * 4 + 2 * GB
        if shutil.disk_usage(tmp_path).free < needed:
            print(f"\nskipped {name}: the disk has {shutil.disk_usage(tmp_path).free / GB:.0f} GB free, "
                  f"{needed / GB:.0f} GB needed")
            continue
        source = synthetic_tomogram(tmp_path / "tomogram.mrc", dtype, planes)
        try:
            for method in methods:
                output = tmp_path / "denoised.mrc"
                run = _denoise(source, output, method, n2v_model)
                rows.append((name, method, "slabs", run, nbytes))
                per_gb[(name, method)] = (run["cpu"] - start_up[method]) / (nbytes / GB)
                print(f"{name} {method}: {run['seconds']:.1f} s, {run['cpu']:.1f} CPU s, "
                      f"{run['private'] / GB:.2f} GB private, {run['file'] / GB:.2f} GB file-backed", flush=True)
                if name.startswith("1 GB") and whole_volume:
                    setting = str(n2v_model) if method == "n2v" else json.dumps(METHOD_SETTINGS.get(method, {}))
                    whole = measure([sys.executable, "-c", WHOLE_VOLUME, str(source), str(output), method, setting])
                    output.unlink()
                    rows.append((name, method, "whole", whole, nbytes))
        finally:
            source.unlink()
    print(f"\n{'volume':<14} {'method':<10} {'path':<6} {'seconds':>8} {'CPU s':>7} {'private GB':>11} {'file GB':>8} "
          f"{'s/GB':>7} {'CPU s/GB':>9} {'beyond start-up':>16}")
    for name, method, path, run, nbytes in rows:
        beyond = (run['cpu'] - start_up[method]) / (nbytes / GB)
        print(f"{name:<14} {method:<10} {path:<6} {run['seconds']:8.1f} {run['cpu']:7.1f} {run['private'] / GB:11.2f} "
              f"{run['file'] / GB:8.2f} {run['seconds'] / (nbytes / GB):7.1f} {run['cpu'] / (nbytes / GB):9.1f} "
              f"{beyond:16.1f}")
    if not rows:
        pytest.skip("no volume fits on this disk")
    for name, method, path, run, _ in rows:
        if path == "slabs":
            assert run["private"] <= BUDGET_GB * GB, f"{name} {method}: {run['private'] / GB:.2f} GB private"
    largest = [v[0] for v in volumes if v[1] == np.float32 and (v[0], methods[0]) in per_gb][-1:]
    for method in methods:
        if largest and largest[0] != "1 GB float32" and ("1 GB float32", method) in per_gb:
            ratio = per_gb[(largest[0], method)] / per_gb[("1 GB float32", method)]
            assert 0.8 <= ratio <= 1.2, f"{method}: {largest[0]} costs {ratio:.2f}× the CPU s/GB of 1 GB (beyond start-up)"
