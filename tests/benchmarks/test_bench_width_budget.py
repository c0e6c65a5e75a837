"""Benchmark: the network width that the time budget chooses is as good as the best width for that budget.

Run with ``pytest tests/benchmarks/test_bench_width_budget.py -s -o addopts=""`` (part of ``make bench``).
About 25 minutes on 2 cores with the default budgets (1 and 3 minutes) and noise models (``wbp``, ``fbp``).

Issue #14: training is sized by time, and the app chooses the network's width
(first-layer filters) that fits the budget on this machine.  For each noise
model and budget, StructN2V with the suggested mask trains the sample (2-D, the
app's defaults) with 8, 16 and 32 filters for the same budget; PSNR is against
the noise-free sample after denoising the volume with test-time flips.  The
width ``unet_filters=0`` (auto) chooses from the speed measured in the 32-filter
run of the same noise model must score within 0.5 dB of the best of the three.
``ET_BENCH_BUDGETS`` (minutes, comma-separated) and ``ET_BENCH_MODELS`` choose the cases.
"""

import os

import pytest

from et_denoise.engine.analysis.mask_suggestion import analyse_noise
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.n2v import EventKind, N2VParams, train
from et_denoise.engine.n2v.speed import StepSpeed, choose_width
from et_denoise.engine.sample import make_sample

BUDGETS = [float(m) for m in os.environ.get("ET_BENCH_BUDGETS", "1,3").split(",")]
MODELS = os.environ.get("ET_BENCH_MODELS", "wbp,fbp").split(",")
WIDTHS = (32, 16, 8)


def _run(sample, params):
    events = []
    model = train([sample.noisy], params, progress=events.append)
    batches = [event for event in events if event.kind is EventKind.BATCH]
    speed = StepSpeed.from_events(batches[1], batches[-1], model.params)
    return psnr(sample.clean, model.predict(sample.noisy)), len(batches), speed


@pytest.mark.timeout(7200)
def test_the_width_chosen_for_a_budget_is_within_half_a_db_of_the_best(in_plane_mask):
    print("\n| noise model | mask | budget | " + " | ".join(f"{w} filters (steps)" for w in WIDTHS)
          + " | chosen |")
    print("|---|---|---|" + "---|" * len(WIDTHS) + "---|")
    misses = []
    for noise in MODELS:
        sample = make_sample(seed=0, noise=noise)
        mask = in_plane_mask(analyse_noise(sample.noisy).suggestion)
        for minutes in BUDGETS:
            scores, speed = {}, None
            for width in WIDTHS:
                params = N2VParams(mask=mask, minutes=minutes, unet_filters=width)
                scores[width] = _run(sample, params)
                speed = speed or scores[width][2]
            chosen = choose_width(N2VParams(mask=mask, minutes=minutes), speed).unet_filters
            best = max(score for score, _, _ in scores.values())
            print(f"| `{noise}` | {mask} | {minutes:g} min ({speed.seconds_per_step:.3f} s per 32-filter batch) | "
                  + " | ".join(f"{scores[w][0]:.2f} dB ({scores[w][1]})" for w in WIDTHS)
                  + f" | {chosen} ({scores[chosen][0] - best:+.2f} dB) |", flush=True)
            if scores[chosen][0] < best - 0.5:
                misses.append((noise, minutes, chosen))
    assert not misses
