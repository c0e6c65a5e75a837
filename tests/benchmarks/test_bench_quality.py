"""Benchmark: every method on every noise model of the sample, at the time budgets a user would give.

Run with ``pytest tests/benchmarks/test_bench_quality.py -s -o addopts=""`` (part of ``make bench``).
With the defaults (all five noise models, budgets of 5 and 10 minutes) about
4 hours on 2 cores; ``ET_BENCH_MODELS`` (e.g. ``wbp,fbp``) and ``ET_BENCH_BUDGETS``
(minutes, e.g. ``5``) choose a subset.

Issue #14, item 7.  For each noise model, using only the noisy volume until the
scores are computed:

1. the noise analysis suggests a mask (3-D when the noise is correlated along Z);
2. each classic filter (median, anisotropic diffusion, non-local means and the
   noise-aware DCT shrinkage) is auto-tuned and applied to the whole volume;
3. for each budget, plain N2V and StructN2V with the suggested in-plane mask
   train in 2-D with the app's defaults (``minutes`` = the budget, width chosen
   from it), and StructN2V trains in 3-D with the 3-D mask (patch 32) where the
   suggestion is 3-D.  Where the suggestion is plain N2V, StructN2V *is* plain
   N2V and is not trained twice.

Every result is scored by PSNR and SSIM against the noise-free sample.  Each
row is printed when it is measured, so an interrupted run still reports; the
table is the README's.  The only assertion is the issue's floor for StructN2V
against the best of the three original auto-tuned filters (median, diffusion,
non-local means) where a mask is suggested (+0.5 dB at 5 minutes, +1.5 dB at
10); the best method's lead over them (target +3 dB) is reported.
"""

import os
import time

import pytest

from et_denoise.engine.analysis.autotune import autotune
from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.compare.metrics import psnr, ssim
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.n2v import EventKind, N2VParams, train
from et_denoise.engine.n2v.masks import blind_spot_plane
from et_denoise.engine.sample import NOISE_MODELS, make_sample

MODELS = os.environ.get("ET_BENCH_MODELS", ",".join(NOISE_MODELS)).split(",")
BUDGETS = [float(m) for m in os.environ.get("ET_BENCH_BUDGETS", "5,10").split(",")]
#: The classic filters the issue's floors are measured against (the noise-aware DCT shrinkage came later).
TODAYS_CLASSIC = ("median", "diffusion", "nlm")
#: The floor StructN2V must clear over the best of them, by budget (issue #14).
FLOOR_DB = {5.0: 0.5, 10.0: 1.5}
#: The issue's target for the best method (StructN2V or the DCT shrinkage) over them; reported, not asserted.
BEST_OVER_CLASSIC_DB = 3.0


def _mask_name(in_plane, suggestion):
    """The 2-D mask trained, in words: its preset, or the shape of the suggested mask's blind-spot plane."""
    if not in_plane.endswith(".txt"):
        return f"`{in_plane}`"
    plane = blind_spot_plane(suggestion.mask)
    return f"({plane.shape[0]}×{plane.shape[1]} plane of the suggested mask)"


def _row(label, detail, clean, denoised, seconds, noisy_psnr):
    value = psnr(clean, denoised)
    print(f"| {label} | {detail} | {value:.2f} | {value - noisy_psnr:+.2f} | {ssim(clean, denoised):.3f} "
          f"| {seconds:.0f} |", flush=True)
    return value


def _trained(noisy, params):
    start, events = time.perf_counter(), []
    model = train([noisy], params, progress=events.append)
    denoised = model.predict(noisy)
    steps = sum(event.kind is EventKind.BATCH for event in events)
    return denoised, f"{steps} steps, {model.params.unet_filters} filters", time.perf_counter() - start


def _cube_mask(suggestion, folder, noise):
    """The suggested 3-D mask as a ``--mask`` file, or None when the suggestion is 2-D training."""
    if not suggestion.train_3d:
        return None
    cube = folder / f"{noise}_3d.txt"
    cube.write_text(suggestion.mask_file_text)
    return str(cube)


@pytest.mark.timeout(6 * 3600)
def test_every_method_on_every_noise_model(tmp_path, in_plane_mask):
    misses = []
    for noise in MODELS:
        sample = make_sample(seed=0, noise=noise)
        noisy, clean = sample.noisy, sample.clean
        noisy_psnr = psnr(clean, noisy)
        suggestion = analyse_noise(noisy, three_d=True).suggestion
        in_plane, cube = in_plane_mask(suggestion), _cube_mask(suggestion, tmp_path, noise)
        print(f"\n`{noise}`: suggested {suggestion.explanation}")
        print("| method | detail | PSNR (dB) | gain (dB) | SSIM | time (s) |\n|---|---|---|---|---|---|")
        _row("noisy input", "", clean, noisy, 0, noisy_psnr)
        classic = {}
        for name, method in FILTERS.items():
            start = time.perf_counter()
            tuned = autotune(method, noisy)
            denoised = method.apply(noisy, tuned.params)
            classic[name] = _row(f"{name} (auto-tuned)", "", clean, denoised, time.perf_counter() - start,
                                 noisy_psnr)
        best_classic = max(classic[name] for name in TODAYS_CLASSIC)
        best = max(classic.values())
        for minutes in BUDGETS:
            runs = [("plain N2V", N2VParams(mask="none", minutes=minutes))]
            if in_plane != "none":
                runs.append((f"StructN2V 2-D {_mask_name(in_plane, suggestion)}",
                             N2VParams(mask=in_plane, minutes=minutes)))
            if cube is not None:
                runs.append(("StructN2V 3-D (suggested 3-D mask)",
                             N2VParams(mode="3d", patch_size=32, mask=cube, minutes=minutes)))
            for label, params in runs:
                denoised, detail, seconds = _trained(noisy, params)
                value = _row(f"{label}, {minutes:g} min", detail, clean, denoised, seconds, noisy_psnr)
                best = max(best, value)
                if label.startswith("StructN2V") and value < best_classic + FLOOR_DB.get(minutes, 0.0):
                    misses.append((noise, label, minutes, round(value - best_classic, 2)))
        print(f"best method over the best of {'/'.join(TODAYS_CLASSIC)}: {best - best_classic:+.2f} dB "
              f"(target {BEST_OVER_CLASSIC_DB:+g})")
    print(f"\nStructN2V below its floor over the best of {'/'.join(TODAYS_CLASSIC)}: {misses}")
    assert not misses
