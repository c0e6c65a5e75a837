"""Anisotropic diffusion: equal to the reference notebook's loop, stable, scale-free, cancellable."""

import numba
import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters.diffusion import (DIFFUSION, _LOG2_E, DiffusionParams, _exponential_flux,
                                                 anisotropic_diffusion)
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.sample import make_sample_2d

CONDUCTIONS = [("exponential", 1), ("quadratic", 2)]


def notebook_anisodiff(img, niter=1, kappa=50, gamma=0.1, step=(1., 1.), option=1):
    """The reference notebook's 2-D loop, verbatim (option 1 exponential, 2 quadratic)."""
    img = img.astype('float32'); imgout = img.copy()
    deltaS = np.zeros_like(imgout); deltaE = deltaS.copy(); NS = deltaS.copy(); EW = deltaS.copy()
    gS = np.ones_like(imgout); gE = gS.copy()
    for ii in range(niter):
        deltaS[:-1, :] = np.diff(imgout, axis=0)
        deltaE[:, :-1] = np.diff(imgout, axis=1)
        if option == 1:
            gS = np.exp(-(deltaS/kappa)**2.)/step[0]
            gE = np.exp(-(deltaE/kappa)**2.)/step[1]
        elif option == 2:
            gS = 1./(1.+(deltaS/kappa)**2.)/step[0]
            gE = 1./(1.+(deltaE/kappa)**2.)/step[1]
        E = gE*deltaE; S = gS*deltaS
        NS[:] = S; EW[:] = E
        NS[1:, :] -= S[:-1, :]
        EW[:, 1:] -= E[:, :-1]
        imgout += gamma*(NS+EW)
    return imgout


def notebook_anisodiff_3d(stack, niter=1, kappa=50, gamma=0.1, step=(1., 1., 1.), option=1):
    """The same loop extended with a third axis (planes)."""
    stack = stack.astype('float32'); stackout = stack.copy()
    deltaS = np.zeros_like(stackout); deltaE = deltaS.copy(); deltaD = deltaS.copy()
    NS = deltaS.copy(); EW = deltaS.copy(); UD = deltaS.copy()
    for ii in range(niter):
        deltaD[:-1, :, :] = np.diff(stackout, axis=0)
        deltaS[:, :-1, :] = np.diff(stackout, axis=1)
        deltaE[:, :, :-1] = np.diff(stackout, axis=2)
        if option == 1:
            gD = np.exp(-(deltaD/kappa)**2.)/step[0]
            gS = np.exp(-(deltaS/kappa)**2.)/step[1]
            gE = np.exp(-(deltaE/kappa)**2.)/step[2]
        elif option == 2:
            gD = 1./(1.+(deltaD/kappa)**2.)/step[0]
            gS = 1./(1.+(deltaS/kappa)**2.)/step[1]
            gE = 1./(1.+(deltaE/kappa)**2.)/step[2]
        D = gD*deltaD; S = gS*deltaS; E = gE*deltaE
        UD[:] = D; NS[:] = S; EW[:] = E
        UD[1:, :, :] -= D[:-1, :, :]
        NS[:, 1:, :] -= S[:, :-1, :]
        EW[:, :, 1:] -= E[:, :, :-1]
        stackout += gamma*(UD+NS+EW)
    return stackout


@pytest.fixture(scope="module")
def noisy_volume():
    rng = np.random.default_rng(0)
    clean = np.zeros((7, 37, 53), np.float32)
    clean[:, 10:30, 15:40] = 200
    clean[2:5, :, 30:] += 100
    return clean + rng.normal(scale=30, size=clean.shape).astype(np.float32)


@pytest.fixture(scope="module")
def sample():
    return make_sample_2d((128, 128), seed=3)


@pytest.mark.parametrize("conduction, option", CONDUCTIONS)
def test_2d_equals_the_reference_loop(noisy_volume, conduction, option):
    image = noisy_volume[3]
    ours = anisotropic_diffusion(image, iterations=40, kappa=50.0, kappa_relative=False,
                                 gamma=0.2, conduction=conduction)
    reference = notebook_anisodiff(image, niter=40, kappa=50, gamma=0.2, option=option)
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(image)


@pytest.mark.parametrize("conduction, option", CONDUCTIONS)
def test_2d_mode_diffuses_each_plane_of_a_stack(noisy_volume, conduction, option):
    ours = anisotropic_diffusion(noisy_volume, iterations=25, kappa=40.0, kappa_relative=False,
                                 gamma=0.25, conduction=conduction, mode="2d")
    reference = np.stack([notebook_anisodiff(plane, niter=25, kappa=40, gamma=0.25, option=option)
                          for plane in noisy_volume])
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(noisy_volume)


@pytest.mark.parametrize("conduction, option", CONDUCTIONS)
def test_3d_equals_the_reference_loop(noisy_volume, conduction, option):
    ours = anisotropic_diffusion(noisy_volume, iterations=30, kappa=50.0, kappa_relative=False,
                                 gamma=0.15, conduction=conduction, mode="3d")
    reference = notebook_anisodiff_3d(noisy_volume, niter=30, kappa=50, gamma=0.15, option=option)
    assert np.abs(ours - reference).max() <= 1e-4 * np.ptp(noisy_volume)


def test_result_does_not_depend_on_the_number_of_threads():
    volume = np.random.default_rng(2).normal(100, 30, (8, 512, 512)).astype(np.float32)
    one = anisotropic_diffusion(volume, iterations=6, mode="3d", workers=1)
    two = anisotropic_diffusion(volume, iterations=6, mode="3d", workers=2)  # threads share iterations
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("conduction", ["exponential", "quadratic"])
def test_a_single_plane_in_bands_gives_the_one_thread_result(conduction):
    """Two threads iterate widened bands of rows on their own: the kept rows are exact."""
    image = np.random.default_rng(3).normal(100, 30, (601, 300)).astype(np.float32)
    one = anisotropic_diffusion(image, iterations=23, kappa=40.0, kappa_relative=False,
                                conduction=conduction, workers=1)
    two = anisotropic_diffusion(image, iterations=23, kappa=40.0, kappa_relative=False,
                                conduction=conduction, workers=2)
    np.testing.assert_array_equal(one, two)
    reference = notebook_anisodiff(image, niter=23, kappa=40, gamma=0.15,
                                   option=1 if conduction == "exponential" else 2)
    assert np.abs(two - reference).max() <= 1e-4 * np.ptp(image)


@pytest.mark.parametrize("kappa", [50.0, 7.3, 1.0, 3e-3])
def test_fast_exponential_flux_is_within_its_stated_error(kappa):
    """Δ exp(-(Δ/κ)²) to 1e-4 relative error (issue #16's bound) while exp(-(Δ/κ)²) >= 2^-124, 8e-5 for |Δ| <= 3κ."""
    delta = np.linspace(-9.5 * kappa, 9.5 * kappa, 400_001).astype(np.float32)
    ours = _exponential_fluxes(delta, np.float32(_LOG2_E / kappa**2)).astype(np.float64)
    conductance = np.exp(-np.square(delta / kappa, dtype=np.float64))
    exact = delta * conductance
    kept = (conductance >= 2.0**-124) & (delta != 0)
    error = np.abs(ours[kept] - exact[kept]) / np.abs(exact[kept])
    assert error.max() <= 1e-4
    assert error[np.abs(delta[kept]) <= 3 * kappa].max() <= 8e-5
    np.testing.assert_allclose(ours[~kept], delta[~kept] * 2.0**-124, rtol=1e-4)  # beyond: the floor; 0 for Δ = 0


@numba.njit(error_model="numpy", fastmath={"contract"})
def _exponential_fluxes(delta, scale):
    out = np.empty_like(delta)
    for i in range(delta.size):
        out[i] = _exponential_flux(delta[i], scale)
    return out


@pytest.mark.parametrize("mode, limit", [("2d", 0.25), ("3d", 1 / 6)])
def test_unstable_step_is_refused(noisy_volume, mode, limit):
    DiffusionParams(gamma=limit, mode=mode)  # the limit itself is allowed
    message = f"at most {limit:.4g}"  # the message says how far γ may go
    with pytest.raises(ParameterError, match=message):
        DiffusionParams(gamma=limit + 0.01, mode=mode)
    with pytest.raises(ParameterError, match=message):
        anisotropic_diffusion(noisy_volume, gamma=limit + 0.01, mode=mode)


@pytest.mark.parametrize("changes", [{"kappa": 0.0}, {"kappa": -1.0}, {"iterations": 0},
                                     {"conduction": "linear"}, {"mode": "4d"}, {"iterations": 2.5}])
def test_bad_parameters_are_refused(changes):
    with pytest.raises(ParameterError):
        anisotropic_diffusion(np.zeros((16, 16)), **changes)


@pytest.mark.parametrize("bad", [np.zeros(16), np.zeros((16, 16), complex),
                                 np.full((16, 16), np.inf), np.zeros((2, 2, 16, 16))])
def test_unusable_images_are_refused(bad):
    with pytest.raises(ImageError):
        anisotropic_diffusion(bad)


def test_relative_kappa_is_independent_of_the_intensity_scale(sample):
    small = anisotropic_diffusion(sample.noisy)
    large = anisotropic_diffusion(255 * sample.noisy)
    np.testing.assert_allclose(large, 255 * small, atol=1e-4 * np.ptp(large))
    absolute = anisotropic_diffusion(255 * sample.noisy, kappa_relative=False)
    assert np.abs(absolute - large).max() > 0.01 * np.ptp(large)  # κ = 2 grey levels: other result


def test_defaults_denoise_the_sample(sample):
    before = psnr(sample.clean, sample.noisy)
    after = psnr(sample.clean, DIFFUSION.apply(sample.noisy))
    assert after > before + 6.0


def test_returns_a_new_float32_array_and_keeps_the_input():
    image = np.arange(24 * 24, dtype=np.uint16).reshape(24, 24) % 7
    copy = image.copy()
    result = anisotropic_diffusion(image, kappa=5.0, kappa_relative=False)
    assert result.dtype == np.float32 and result.shape == image.shape
    np.testing.assert_array_equal(image, copy)
    assert result.sum() == pytest.approx(image.sum(), rel=1e-5)  # no flux through the border


def test_noise_free_image_is_left_unchanged():
    image = np.zeros((32, 32), np.float32)
    image[8:24, 8:24] = 1.0
    np.testing.assert_array_equal(anisotropic_diffusion(image), image)


@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_progress_rises_to_one_exactly_once(noisy_volume, mode):
    reports = []
    anisotropic_diffusion(noisy_volume, mode=mode, progress=reports.append)
    assert reports.count(1.0) == 1 and reports[-1] == 1.0
    assert all(0 <= fraction < 1 for fraction in reports[:-1])  # threads may report out of order


@pytest.mark.parametrize("shape, mode", [((6, 64, 64), "2d"), ((64, 64, 64), "3d")])
def test_cancel_from_progress_stops_early(shape, mode, cancel_at_first_report):
    volume = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    cancelling, reports = cancel_at_first_report, cancel_at_first_report.reports
    with pytest.raises(Cancelled):
        anisotropic_diffusion(volume, iterations=60, mode=mode, progress=cancelling, cancel=cancelling.token,
                              workers=2)
    # Work already running when the token was set may finish: one plane per thread in 2-D.
    assert len(reports) <= (2 if mode == "2d" else 1) and max(reports) < 0.5
