"""Anisotropic diffusion (Perona & Malik 1990), in 2-D plane by plane or in 3-D.

Each iteration moves every pixel towards its 4 (2-D) or 6 (3-D) neighbours,
by an amount that shrinks where the difference to the neighbour is large
compared with κ: noise is smoothed away while edges stay sharp.

One compiled kernel (``numba``) computes an iteration.  It reads each pixel
difference once per row into a small buffer, turns the buffer into fluxes
with a vectorised loop, and sums the fluxes into the output, so the work runs
at SIMD speed; the exponential conduction uses its own vectorisable ``exp``
(Cephes' single-precision polynomial), since numba's calls ``expf`` one value
at a time.  In 2-D mode the planes of a stack run in parallel
(:func:`~engine.jobs.run_slicewise`), one thread each; in 3-D mode (and
for a single very large plane) the threads share each iteration, split into
blocks of planes and rows.  The
result equals the reference NumPy loop of the original method to float32
rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numba
import numpy as np
from numba import njit, prange

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn, default_workers, run_slicewise
from et_denoise.engine.methods import Method
from et_denoise.engine.analysis.noise import checked_image, estimate_noise_sigma
from et_denoise.engine.params import MethodParams, param

#: Largest stable step γ: 1/4 for the 4-neighbour 2-D scheme, 1/6 for 6 neighbours in 3-D.
GAMMA_LIMITS = {"2d": 0.25, "3d": 1.0 / 6.0}

_MAX_INV_KAPPA = float(np.finfo(np.float32).max)  # keeps 1/κ finite for a tiny absolute κ

#: Smallest array whose iterations are shared by several threads (see ``_Run``).
_PARALLEL_MIN_PIXELS = 1 << 21

#: Voxel updates (pixels × iterations) between two progress reports and cancel checks.
_UPDATES_PER_CHUNK = 1 << 22


@dataclass(frozen=True)
class DiffusionParams(MethodParams):
    """Parameters of :func:`anisotropic_diffusion`."""

    iterations: int = param(
        15, label="Iterations", minimum=1, maximum=10000, step=1,
        help="Number of diffusion steps. More steps smooth larger areas; edges "
             "stronger than κ are kept.")
    kappa: float = param(
        2.0, label="κ (edge threshold)", minimum=0.0, step=0.1,
        help="Differences between neighbours larger than κ count as edges and "
             "are preserved; smaller ones are smoothed. In units of the noise σ "
             "when 'κ relative to noise' is on, in grey levels otherwise.")
    kappa_relative: bool = param(
        True, label="κ relative to noise",
        help="Give κ as a multiple of the noise σ estimated from the image, so that "
             "the same value works for 8-bit, 16-bit and float data.")
    gamma: float = param(
        0.15, label="Step γ", minimum=0.001, maximum=0.25, step=0.01,
        help="Size of each step. Larger steps smooth faster; stable up to 0.25 in "
             "2-D and 1/6 ≈ 0.167 in 3-D.")
    conduction: str = param(
        "exponential", label="Conduction", choices=("exponential", "quadratic"),
        help="How fast smoothing stops across edges: exponential exp(-(Δ/κ)²) "
             "favours high-contrast edges; quadratic 1/(1+(Δ/κ)²) favours wide "
             "regions over small ones.")
    mode: str = param(
        "2d", label="Mode", choices=("2d", "3d"),
        help="2d diffuses each plane of a stack on its own; 3d also diffuses "
             "between neighbouring planes.")

    def validate(self) -> None:
        if not self.kappa > 0:
            raise ParameterError(f"κ must be greater than 0, got {self.kappa}")
        limit = GAMMA_LIMITS[self.mode]
        if self.gamma > limit + 1e-12:
            raise ParameterError(
                f"step γ {self.gamma:g} is unstable in {self.mode[0]}-D mode: use at most "
                f"{limit:.4g} (1/4 in 2-D, 1/6 in 3-D)")


def anisotropic_diffusion(
    image: np.ndarray,
    *,
    iterations: int = DiffusionParams.iterations,
    kappa: float = DiffusionParams.kappa,
    kappa_relative: bool = DiffusionParams.kappa_relative,
    gamma: float = DiffusionParams.gamma,
    conduction: str = DiffusionParams.conduction,
    mode: str = DiffusionParams.mode,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelToken] = None,
    workers: Optional[int] = None,
) -> np.ndarray:
    """Perona–Malik anisotropic diffusion of an image or a stack.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Data of any real dtype; computed in float32.
    iterations : int
        Number of explicit diffusion steps.
    kappa : float
        Edge threshold κ: neighbour differences well above κ are kept, those
        below are smoothed.  A multiple of the estimated noise σ (see
        :func:`engine.noise.estimate_noise_sigma`) when ``kappa_relative``,
        otherwise in the data's units.
    kappa_relative : bool
        Whether ``kappa`` is in units of the noise σ.
    gamma : float
        Step size; at most 1/4 in 2-D and 1/6 in 3-D, where the explicit scheme
        is stable.
    conduction : {"exponential", "quadratic"}
        Conduction function g(Δ): ``exp(-(Δ/κ)²)`` or ``1 / (1 + (Δ/κ)²)``.
    mode : {"2d", "3d"}
        ``"2d"`` diffuses each plane of a stack independently (4 neighbours);
        ``"3d"`` diffuses in the volume (6 neighbours).
    progress : callable, optional
        ``progress(fraction)`` every few iterations; 1.0 exactly once at the end.
    cancel : CancelToken, optional
        Checked every few iterations (and at least once per plane).
    workers : int, optional
        Threads: planes filtered at once in 2-D mode, threads sharing each
        iteration in 3-D mode; default one per core.

    Returns
    -------
    ndarray, float32
        The diffused image, same shape as ``image``.

    Raises
    ------
    ImageError
        If ``image`` is not a finite real 2-D image or 3-D stack.
    ParameterError
        For out-of-range parameters, including an unstable γ.
    Cancelled
        If ``cancel`` was set.

    Notes
    -----
    With ``I`` the image and ``∇_k I`` the difference to the next pixel along
    axis ``k``, one iteration is::

        I ← I + γ Σ_k [ g(∇_k I) ∇_k I  -  (the same flux from the previous pixel) ]

    with zero flux through the image border (the image's total intensity is
    conserved).  This is the discretisation of Perona & Malik (eq. 8) used by
    the reference notebook this application grows out of; the result equals
    that loop (and its 3-D extension) to float32 rounding.

    With ``kappa_relative`` the noise σ is estimated once for the whole stack,
    with an estimator that is correct for noise correlated along X or Y as in
    tomograms.  For a noise-free image (σ = 0) nothing is smoothed.

    References
    ----------
    Perona, P. & Malik, J. (1990). Scale-space and edge detection using
    anisotropic diffusion. IEEE Transactions on Pattern Analysis and Machine
    Intelligence, 12(7), 629–639. :DOI:`10.1109/34.56205`

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> step = np.where(np.arange(64) < 32, 0.0, 10.0) * np.ones((64, 1))
    >>> noisy = step + rng.normal(size=step.shape)
    >>> smooth = anisotropic_diffusion(noisy, iterations=30)
    >>> bool(np.std(smooth[:, :28]) < 0.5 * np.std(noisy[:, :28]))
    True
    >>> round(float(smooth[:, 36:].mean()), 0)   # the edge is kept
    10.0
    """
    params = DiffusionParams(iterations=iterations, kappa=kappa, kappa_relative=kappa_relative,
                             gamma=gamma, conduction=conduction, mode=mode)
    data = checked_image(image, task="anisotropic diffusion")
    kappa_value = params.kappa * estimate_noise_sigma(data) if params.kappa_relative else params.kappa
    stack = np.array(data[np.newaxis] if data.ndim == 2 else data, dtype=np.float32, order="C")
    threads = max(int(workers or default_workers()), 1)
    planes = 1 if params.mode == "3d" else len(stack)
    counter = ProgressCounter(planes * params.iterations, progress)
    if kappa_value > 0:  # κ = 0 (a noise-free image with relative κ) smooths nothing
        run = _Run(_Iteration(np.float32(min(1.0 / kappa_value, _MAX_INV_KAPPA)),
                              np.float32(params.gamma), params.conduction == "exponential"),
                   params.iterations, counter, cancel)
        if params.mode == "3d" or len(stack) == 1:
            run.in_volume(stack, threads)
        else:
            stack = run_slicewise(run.in_plane, stack, cancel=cancel, workers=threads)
    counter.finish()
    return stack[0] if data.ndim == 2 else stack


@dataclass(frozen=True)
class _Iteration:
    """The compiled iteration with its constants."""

    inv_kappa: np.float32
    gamma: np.float32
    exponential: bool

    def repeat(self, volume: np.ndarray, count: int, threads: int) -> None:
        """``count`` iterations on a (Z, Y, X) float32 array, in place, on ``threads`` threads."""
        use_z = volume.shape[0] > 1
        blocks = _blocks(volume.shape, threads, use_z)
        current, spare = volume, np.empty_like(volume)
        previous_threads = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # this thread only
        try:
            for _ in range(count):
                _diffusion_step(current, spare, blocks, self.inv_kappa, self.gamma,
                                self.exponential, use_z)
                current, spare = spare, current
        finally:
            numba.set_num_threads(previous_threads)
        if current is not volume:
            volume[...] = current


@dataclass(frozen=True)
class _Run:
    """All iterations over an image, in chunks between progress reports and cancel checks.

    Threads that share an iteration meet at its end.  That costs little on an
    idle machine, but when another program keeps a core busy each meeting
    waits for a time slice: a 750×750 plane (0.2 ms per iteration on two
    threads) became 20× slower.  So threads share iterations only of arrays
    of at least :data:`_PARALLEL_MIN_PIXELS` (volumes, very large planes), in
    :meth:`in_volume`; the planes of a 2-D stack run in parallel, one thread
    each (:meth:`in_plane`), and a smaller single image runs on one thread.
    """

    iteration: _Iteration
    iterations: int
    counter: ProgressCounter
    cancel: Optional[CancelToken]

    def chunks(self, size: int):
        """Iteration counts per chunk: about :data:`_UPDATES_PER_CHUNK` pixel updates each."""
        chunk = max(1, _UPDATES_PER_CHUNK // size)
        for start in range(0, self.iterations, chunk):
            if self.cancel is not None:
                self.cancel.check()
            count = min(chunk, self.iterations - start)
            yield count
            self.counter.step(count)

    def in_volume(self, volume: np.ndarray, threads: int) -> None:
        threads = threads if volume.size >= _PARALLEL_MIN_PIXELS else 1
        for count in self.chunks(volume.size):
            self.iteration.repeat(volume, count, threads)

    def in_plane(self, plane: np.ndarray) -> np.ndarray:
        volume = plane[np.newaxis].copy()
        for count in self.chunks(volume.size):
            self.iteration.repeat(volume, count, 1)
        return volume[0]

def _blocks(shape, threads: int, use_z: bool) -> np.ndarray:
    """Split a (Z, Y, X) array into blocks of planes × rows, a few per thread.

    Each block recomputes the fluxes on its first row (and plane) once, so
    blocks are kept large: up to 8 planes deep in 3-D, then as many rows as
    needed for about four blocks per thread.
    """
    n_z, n_y, _ = shape
    depth = max(1, min(8, n_z // (2 * threads))) if use_z else 1
    z_starts = range(0, n_z, depth)
    row_blocks = max(1, math.ceil(4 * threads / len(z_starts)))
    height = max(16, math.ceil(n_y / row_blocks))
    return np.array([(z, min(z + depth, n_z), y, min(y + height, n_y))
                     for z in z_starts for y in range(0, n_y, height)], dtype=np.int64)


# Cephes' single-precision exp: exp(x) = 2^k · p(r), x = k ln2 + r, |r| <= ln2 / 2.
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_MIN = np.float32(-87.0)  # 2^k stays a normal float; exp(-87) is negligible as a conductance
_EXP_POLY = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                         4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_P0, _P1, _P2, _P3, _P4, _P5 = _EXP_POLY
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_ZERO = np.float32(0.0)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _fluxes(deltas, out, exponents, n, inv_kappa, exponential):  # pragma: no cover - compiled
    """out[:n] = g(deltas) * deltas, for the conduction function g.

    The branch is outside the loops, and each loop does one kind of work
    (float, then integer, then float), so that every loop vectorises.  The
    exponential builds 2^k from its bits in ``exponents`` (an int32 buffer).
    """
    if exponential:
        for j in range(n):
            t = deltas[j] * inv_kappa
            x = -(t * t)
            x = x if x > _EXP_MIN else _EXP_MIN
            k = np.floor(x * _LOG2E + _HALF)
            r = x - k * _LN2_HI - k * _LN2_LO
            p = (((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5) * (r * r) + r + _ONE
            out[j] = p * deltas[j]
            exponents[j] = np.int32(k)
        for j in range(n):
            exponents[j] = (exponents[j] + 127) << 23  # the float32 bits of 2^k
        powers = exponents.view(np.float32)
        for j in range(n):
            out[j] *= powers[j]
    else:
        for j in range(n):
            t = deltas[j] * inv_kappa
            out[j] = deltas[j] / (_ONE + t * t)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _diffusion_step(u, v, blocks, inv_kappa, gamma, exponential, use_z):  # pragma: no cover - compiled
    """One iteration from ``u`` into ``v`` (both (Z, Y, X) float32).

    Per row, the differences to the next pixel along X, Y (and Z) go into one
    buffer and become fluxes in one call; the flux from the previous row
    (and plane) is kept from the row (plane) before, so each flux is computed
    once, except on a block's first row and plane.
    """
    n_z, n_y, n_x = u.shape
    for b in prange(blocks.shape[0]):
        z0, z1, r0, r1 = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]
        deltas = np.zeros(3 * n_x, np.float32)
        flux = np.empty(3 * n_x, np.float32)
        exponents = np.empty(3 * n_x, np.int32)
        flux_north = np.empty(n_x, np.float32)
        flux_up = np.zeros((r1 - r0 if use_z else 1, n_x), np.float32)
        if use_z and z0 > 0:
            for i in range(r0, r1):
                for j in range(n_x):
                    deltas[j] = u[z0, i, j] - u[z0 - 1, i, j]
                _fluxes(deltas, flux_up[i - r0], exponents, n_x, inv_kappa, exponential)
        n = 3 * n_x if use_z else 2 * n_x
        for z in range(z0, z1):
            if r0 > 0:
                for j in range(n_x):
                    deltas[j] = u[z, r0, j] - u[z, r0 - 1, j]
                _fluxes(deltas, flux_north, exponents, n_x, inv_kappa, exponential)
            else:
                flux_north[:] = _ZERO
            for i in range(r0, r1):
                # deltas: [0, n_x) along X, [n_x, 2 n_x) along Y, [2 n_x, 3 n_x) along Z.
                for j in range(n_x - 1):
                    deltas[j] = u[z, i, j + 1] - u[z, i, j]
                deltas[n_x - 1] = _ZERO
                if i < n_y - 1:
                    for j in range(n_x):
                        deltas[n_x + j] = u[z, i + 1, j] - u[z, i, j]
                else:
                    deltas[n_x:2 * n_x] = _ZERO
                if use_z:
                    if z < n_z - 1:
                        for j in range(n_x):
                            deltas[2 * n_x + j] = u[z + 1, i, j] - u[z, i, j]
                    else:
                        deltas[2 * n_x:] = _ZERO
                _fluxes(deltas, flux, exponents, n, inv_kappa, exponential)
                v[z, i, 0] = u[z, i, 0] + gamma * ((flux[n_x] - flux_north[0]) + flux[0])
                for j in range(1, n_x):
                    v[z, i, j] = u[z, i, j] + gamma * ((flux[n_x + j] - flux_north[j])
                                                       + (flux[j] - flux[j - 1]))
                if use_z:
                    up = flux_up[i - r0]
                    for j in range(n_x):
                        v[z, i, j] += gamma * (flux[2 * n_x + j] - up[j])
                        up[j] = flux[2 * n_x + j]
                for j in range(n_x):
                    flux_north[j] = flux[n_x + j]


DIFFUSION = Method(
    name="diffusion",
    label="Anisotropic diffusion",
    description="Perona–Malik diffusion: smooths noise inside regions while keeping "
                "edges stronger than κ; fast, good for membranes and large structures.",
    params_type=DiffusionParams,
    function=anisotropic_diffusion,
)
