"""Speed of anisotropic diffusion against the reference notebook's loop, and of non-local means.

* Diffusion, 2-D: 100 iterations on a 750×750 slice, both conductions; target ≥ 20×
  (issue #16).  A single plane runs on all threads in bands of rows; a stack
  of 8 such planes runs one plane per thread.
* Diffusion, 3-D: 20 iterations on 64×512×512, both conductions; target ≥ 20×.
* Non-local means, 2-D mode over 8 planes of 256×256: 2 workers against 1; target ≥ 1.8×.
* Non-local means, 3-D mode on 64×512×512 (defaults): at most 10× the time of
  2-D mode on the same volume (issue #16); and against scikit-image's own
  3-D call (what 3-D mode ran before) on 16×128×128, with equal output.

Other work shares the machine's cores, so each case is timed in rounds that
run the reference and ours back to back; the best round's ratio is kept.
The outputs are checked to be equal (within 1e-4 of the data range) as well.
Run with ``make bench``.
"""

import glob
import time

import numpy as np
import pytest
import tifffile

from et_denoise.engine.filters.diffusion import anisotropic_diffusion
from et_denoise.engine.filters.nlm import non_local_means
from test_diffusion import notebook_anisodiff, notebook_anisodiff_3d  # tests/ is on sys.path

ET_SLICES = sorted(glob.glob("/work/shared/data/et_slices/*.tif"))
ROUNDS = 5
RESULTS = []
CPU = {}


def _slice_750():
    if ET_SLICES:
        return tifffile.imread(ET_SLICES[0]).astype(np.float32)
    return np.random.default_rng(0).normal(136, 50, (750, 750)).astype(np.float32)


def _timed(func):
    start, cpu_start = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - start, time.process_time() - cpu_start, result


def _race(reference, ours, rounds=ROUNDS):
    """Best (ratio, reference time, our time) over rounds that run both back to back.

    The CPU seconds (all threads) of the best round go to ``CPU`` under the
    same key: a ratio of work that busy cores distort less than wall time.
    """
    best = None
    for _ in range(rounds):
        t_ref, cpu_ref, out_ref = _timed(reference)
        t_ours, cpu_ours, out_ours = _timed(ours)
        if best is None or t_ref / t_ours > best[0]:
            best = (t_ref / t_ours, t_ref, t_ours)
            CPU[best] = (cpu_ref, cpu_ours)
    return best, out_ref, out_ours


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    print(f"\n\n{'case':<40} reference      ours     ratio  target      CPU-s ref / ours")
    for name, best, target in RESULTS:
        ratio, t_ref, t_ours = best
        cpu_ref, cpu_ours = CPU.get(best, (float("nan"), float("nan")))
        print(f"{name:<40} {t_ref:8.3f} s {t_ours:8.3f} s {ratio:7.2f}×  ≥ {target}×"
              f"  {cpu_ref:8.2f} / {cpu_ours:8.2f}")


@pytest.mark.parametrize("conduction, option", [("exponential", 1), ("quadratic", 2)])
def test_diffusion_2d(conduction, option):
    image = _slice_750()
    anisotropic_diffusion(image[:64, :64], iterations=2, kappa=50.0, kappa_relative=False,
                          conduction=conduction)  # compile (or load the cache) outside the timing
    best, reference, ours = _race(
        lambda: notebook_anisodiff(image, niter=100, kappa=50, gamma=0.1, option=option),
        lambda: anisotropic_diffusion(image, iterations=100, kappa=50.0, kappa_relative=False,
                                      gamma=0.1, conduction=conduction))
    RESULTS.append((f"diffusion 2-D 750² ×100, {conduction}", best, 20))
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(image)
    assert best[0] >= 20


@pytest.mark.parametrize("conduction, option", [("exponential", 1), ("quadratic", 2)])
def test_diffusion_2d_stack(conduction, option):
    stack = np.stack([_slice_750()] * 8)
    best, reference, ours = _race(
        lambda: np.stack([notebook_anisodiff(plane, niter=100, kappa=50, gamma=0.1, option=option)
                          for plane in stack]),
        lambda: anisotropic_diffusion(stack, iterations=100, kappa=50.0, kappa_relative=False,
                                      gamma=0.1, conduction=conduction),
        rounds=3)
    RESULTS.append((f"diffusion 2-D 8×750² ×100, {conduction}", best, 20))
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(stack)
    assert best[0] >= 20


@pytest.mark.parametrize("conduction, option", [("exponential", 1), ("quadratic", 2)])
def test_diffusion_3d(conduction, option):
    volume = np.random.default_rng(1).normal(100, 30, (64, 512, 512)).astype(np.float32)
    best, reference, ours = _race(
        lambda: notebook_anisodiff_3d(volume, niter=20, kappa=50, gamma=0.15, option=option),
        lambda: anisotropic_diffusion(volume, iterations=20, kappa=50.0, kappa_relative=False,
                                      gamma=0.15, conduction=conduction, mode="3d"),
        rounds=3)
    RESULTS.append((f"diffusion 3-D 64×512² ×20, {conduction}", best, 20))
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(volume)
    assert best[0] >= 20


def test_nlm_thread_pool():
    stack = np.stack([_slice_750()[:256, :256]] * 4 + [_slice_750()[256:512, :256]] * 4)
    best, one, two = _race(lambda: non_local_means(stack, workers=1),
                           lambda: non_local_means(stack, workers=2))
    RESULTS.append(("NLM 8×256², 2 workers vs 1", best, 1.8))
    np.testing.assert_array_equal(one, two)
    assert best[0] >= 1.8


def _tomogram_like(shape, seed):
    """Blobs and a membrane-like slab with noise correlated along X, as in tomograms."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape, dtype=np.float32)
    clean = 40.0 * np.sin(x / 9.0) * np.cos(y / 13.0) + 60.0 * (np.abs(z - shape[0] / 2) < 3)
    noise = rng.normal(0, 25, shape).astype(np.float32)
    noise = (noise + np.roll(noise, 1, axis=2) + np.roll(noise, 2, axis=2)) / np.sqrt(3)
    return (100 + clean + noise).astype(np.float32)


@pytest.mark.timeout(3600)  # minutes when other jobs share the 2 cores
def test_nlm_3d_against_2d_mode():
    """3-D mode (compiled kernel) against 2-D mode (scikit-image per plane, 2 threads), 64×512²."""
    volume = _tomogram_like((64, 512, 512), seed=2)
    non_local_means(volume[:4, :40, :40], mode="3d")  # compile (or load the cache) outside the timing
    best, _, _ = _race(lambda: non_local_means(volume, mode="2d"),
                       lambda: non_local_means(volume, mode="3d"), rounds=1)
    ratio, t_2d, t_3d = best
    RESULTS.append(("NLM 64×512², 2-D mode time / 3-D time", best, "1/10 (3-D ≤ 10× 2-D)"))
    assert t_3d <= 10 * t_2d


def test_nlm_3d_against_scikit_image_3d():
    """What 3-D mode ran before (scikit-image's 3-D fast mode, one thread) against the kernel."""
    from skimage.restoration import denoise_nl_means
    from et_denoise.engine.analysis.noise import estimate_noise_sigma

    volume = _tomogram_like((16, 128, 128), seed=3)
    sigma = estimate_noise_sigma(volume)
    best, reference, ours = _race(
        lambda: denoise_nl_means(volume, 7, 5, 0.9 * sigma, True, sigma, preserve_range=True),
        lambda: non_local_means(volume, mode="3d"), rounds=1)
    RESULTS.append(("NLM 3-D 16×128², scikit-image vs ours", best, 10))
    assert np.abs(ours - reference).max() <= 1e-3 * np.ptp(volume)
    assert best[0] >= 10
