"""Anisotropic diffusion (Perona & Malik 1990), in 2-D plane by plane or in 3-D.

Each iteration moves every pixel towards its 4 (2-D) or 6 (3-D) neighbours,
by an amount that shrinks where the difference to the neighbour is large
compared with κ: noise is smoothed away while edges stay sharp.

One compiled kernel (``numba``) computes an iteration.  Per row it computes
the fluxes to the next pixel along X, Y (and Z) into row buffers with loops
that vectorise, and sums them into the output; the flux from the previous
row (plane) is the one kept from the row (plane) before, so each flux is
computed once.  The exponential conduction uses its own vectorisable ``exp``
(Cephes' single-precision polynomial, with the power of two built from its
bits; maximum relative error 4e-6, well below the 1e-4 allowed for a flux),
since numba's ``np.exp`` calls ``expf`` one value at a time.

Threads: in 2-D mode the planes of a stack run in parallel
(:func:`~engine.jobs.run_slicewise`), one thread each; a single plane is
split into bands of rows, each widened by the iterations of a chunk so that
the threads meet once per chunk instead of once per iteration; in 3-D mode
the threads share each iteration, split into blocks of planes and rows.
The result equals the reference NumPy loop of the original method to
float32 rounding, whatever the number of threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.filters._fastexp import exp_nonpositive
from et_denoise.engine.filters._numba_threads import numba_threads
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn, default_workers, run_slicewise
from et_denoise.engine.methods import Halo, Method
from et_denoise.engine.analysis.noise import estimate_noise_sigma, volume_noise_sigma
from et_denoise.engine.validation import check_image
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
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    noise_sigma: float | None = None,
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
        Threads: planes filtered at once in 2-D mode (a single plane of at
        least 256 rows is split into bands of rows, one per thread), threads
        sharing each iteration in 3-D mode; default one per core.  The result
        does not depend on it.
    noise_sigma : float, optional
        The noise σ that a relative κ multiplies, when ``image`` is a slab of
        a larger volume (:mod:`engine.volume` passes the volume's); by default
        estimated from ``image``.

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
    conserved).  This is the explicit discretisation of Perona & Malik (eq. 8);
    the result equals a plain numpy loop of it (and its 3-D extension) to
    float32 rounding (``tests/test_diffusion.py`` keeps that loop).

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
    data = check_image(image)
    if params.kappa_relative:
        kappa_value = params.kappa * (estimate_noise_sigma(data) if noise_sigma is None else noise_sigma)
    else:
        kappa_value = params.kappa
    stack = np.array(data[np.newaxis] if data.ndim == 2 else data, dtype=np.float32, order="C")
    threads = max(int(workers or default_workers()), 1)
    planes = 1 if params.mode == "3d" else len(stack)
    groups = _block_groups(stack.shape, threads) if params.mode == "3d" and len(stack) > 1 else []
    counter = ProgressCounter(planes * params.iterations * max(len(groups), 1), progress)
    if kappa_value > 0:  # κ = 0 (a noise-free image with relative κ) smooths nothing
        run = _Run(_Iteration(np.float32(min(1.0 / kappa_value, _MAX_INV_KAPPA)),
                              np.float32(params.gamma), params.conduction == "exponential"),
                   params.iterations, counter, cancel)
        if len(groups) > 1:
            run.in_groups(stack, groups, threads)
        elif params.mode == "3d" or len(stack) == 1:
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
        """``count`` iterations on a (Z, Y, X) float32 array, in place, on ``threads`` threads.

        A volume (Z > 1) is split into blocks of planes and rows that the
        threads share in every iteration.  A single plane on several threads
        is split into bands of rows that each thread iterates ``count`` times
        on its own, with ``count`` extra rows on each side (see
        :func:`_diffuse_bands`): the threads meet once per call, not once
        per iteration.
        """
        threads = min(threads, numba.config.NUMBA_NUM_THREADS)
        with numba_threads(threads):
            if volume.shape[0] == 1 and threads > 1:
                bands = _bands(volume.shape[1], threads, count)
                result = np.empty_like(volume)
                _diffuse_bands(volume, result, bands, count, self.inv_kappa, self.gamma,
                               self.exponential)
                volume[...] = result
                return
            use_z = volume.shape[0] > 1
            blocks = _blocks(volume.shape, threads, use_z)
            current, spare = volume, np.empty_like(volume)
            for _ in range(count):
                _diffusion_step(current, spare, blocks, self.inv_kappa, self.gamma,
                                self.exponential, use_z)
                current, spare = spare, current
            if current is not volume:
                volume[...] = current

    def step(self, u: np.ndarray, v: np.ndarray, blocks: np.ndarray, threads: int) -> None:
        """One iteration of the ``blocks`` of a volume, from ``u`` into ``v``, on ``threads`` threads."""
        with numba_threads(threads):
            _diffusion_step(u, v, blocks, self.inv_kappa, self.gamma, self.exponential, True)


@dataclass(frozen=True)
class _Run:
    """All iterations over an image, in chunks between progress reports and cancel checks.

    Threads that share every iteration meet at its end.  That costs little on
    an idle machine, but when another program keeps a core busy each meeting
    waits for a time slice: a plane that takes a fraction of a millisecond
    per iteration became 20× slower.  So the planes of a 2-D stack run in
    parallel, one thread each (:meth:`in_plane`); a single plane is split
    into bands of rows with halos whose threads meet once per chunk of
    iterations; only arrays of at least :data:`_PARALLEL_MIN_PIXELS`
    (volumes) share every iteration, in :meth:`in_volume`.
    """

    iteration: _Iteration
    iterations: int
    counter: ProgressCounter
    cancel: CancelToken | None

    def chunks(self, size: int, most: int = 1 << 62):
        """Iteration counts per chunk: about :data:`_UPDATES_PER_CHUNK` pixel updates, at most ``most``."""
        chunk = min(max(1, _UPDATES_PER_CHUNK // size), most)
        for start in range(0, self.iterations, chunk):
            if self.cancel is not None:
                self.cancel.check()
            count = min(chunk, self.iterations - start)
            yield count
            self.counter.step(count)

    def in_volume(self, volume: np.ndarray, threads: int) -> None:
        most = 1 << 62
        if volume.shape[0] > 1:
            threads = threads if volume.size >= _PARALLEL_MIN_PIXELS else 1
        else:  # bands of rows, widened by the chunk's iterations on each side
            threads = max(1, min(threads, volume.shape[1] // _MIN_BAND_ROWS))
            most = max(1, volume.shape[1] // (8 * threads))  # widened by at most 1/4
        for count in self.chunks(volume.size, most):
            self.iteration.repeat(volume, count, threads)

    def in_groups(self, volume: np.ndarray, groups: list[np.ndarray], threads: int) -> None:
        """A volume larger than a chunk: every iteration in groups of blocks, checks and reports between them.

        An iteration reads the volume and writes a second one, so its blocks
        may be computed group after group; the threads meet once per group
        instead of once per iteration (each group keeps them all busy).
        """
        current, spare = volume, np.empty_like(volume)
        for _ in range(self.iterations):
            for group in groups:
                if self.cancel is not None:
                    self.cancel.check()
                self.iteration.step(current, spare, group, threads)
                self.counter.step()
            current, spare = spare, current
        if current is not volume:
            volume[...] = current

    def in_plane(self, plane: np.ndarray) -> np.ndarray:
        volume = plane[np.newaxis].copy()
        for count in self.chunks(volume.size):
            self.iteration.repeat(volume, count, 1)
        return volume[0]


#: Fewest rows per band when the threads share a single plane.
_MIN_BAND_ROWS = 128


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
    if use_z:  # a block per thread within a chunk of updates, so that large volumes check the token within an iteration
        height = min(height, max(16, _UPDATES_PER_CHUNK // (threads * depth * shape[2])))
    return np.array([(z, min(z + depth, n_z), y, min(y + height, n_y))
                     for z in z_starts for y in range(0, n_y, height)], dtype=np.int64)


def _block_groups(shape, threads: int) -> list[np.ndarray]:
    """The blocks of a volume in groups of about :data:`_UPDATES_PER_CHUNK` voxels, at least a block per thread.

    One group (the whole volume) when it holds no more voxels than that.
    """
    blocks = _blocks(shape, threads, True)
    voxels = (blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2]) * shape[2]
    groups, first, size = [], 0, 0
    for index, count in enumerate(voxels):
        if index > first and (size + count > _UPDATES_PER_CHUNK and index - first >= threads):
            groups.append(blocks[first:index])
            first, size = index, 0
        size += count
    groups.append(blocks[first:])
    return groups


def _bands(n_y: int, threads: int, count: int) -> np.ndarray:
    """Rows (first, end) of one band per thread and of the same band widened by ``count`` rows."""
    edges = np.linspace(0, n_y, threads + 1).round().astype(np.int64)
    first, end = edges[:-1], edges[1:]
    return np.stack([first, end, np.maximum(first - count, 0), np.minimum(end + count, n_y)], axis=1)


_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


@njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath={"contract"})
def _exp_conductance(t):  # pragma: no cover - compiled
    """exp(-t²) in float32 with a vectorising exp, relative error < 4e-6 (see :mod:`._fastexp`)."""
    return exp_nonpositive(-(t * t))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _fluxes(ahead, here, out, inv_kappa, exponential):  # pragma: no cover - compiled
    """out[j] = g(Δ) Δ with Δ = ahead[j] - here[j], for j < len(out).

    The branch is outside the loops so that each loop vectorises.
    """
    if exponential:
        for j in range(out.shape[0]):
            delta = ahead[j] - here[j]
            out[j] = delta * _exp_conductance(delta * inv_kappa)
    else:
        for j in range(out.shape[0]):
            delta = ahead[j] - here[j]
            t = delta * inv_kappa
            out[j] = delta / (_ONE + t * t)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _step_block(u, v, z0, z1, r0, r1, inv_kappa, gamma, exponential, use_z):  # pragma: no cover
    """One iteration from ``u`` into ``v`` on planes [z0, z1) × rows [r0, r1).

    Per row, the fluxes to the next pixel along X, Y (and Z) are computed
    into row buffers; the flux from the previous row (plane) is the one kept
    from the row (plane) before, so each flux is computed once, except on the
    block's first row and plane.  Outside the array the flux is zero.
    """
    n_z, n_y, n_x = u.shape
    east = np.zeros(n_x, np.float32)  # east[n_x - 1] stays 0: no flux through the border
    south = np.zeros(n_x, np.float32)
    north = np.zeros(n_x, np.float32)
    down = np.zeros(n_x, np.float32)
    up_rows = np.zeros((r1 - r0 if use_z else 1, n_x), np.float32)
    if use_z and z0 > 0:
        for i in range(r0, r1):
            _fluxes(u[z0, i], u[z0 - 1, i], up_rows[i - r0], inv_kappa, exponential)
    for z in range(z0, z1):
        if r0 > 0:
            _fluxes(u[z, r0], u[z, r0 - 1], north, inv_kappa, exponential)
        else:
            north[:] = _ZERO
        for i in range(r0, r1):
            row, out = u[z, i], v[z, i]
            _fluxes(row[1:], row[:-1], east[:n_x - 1], inv_kappa, exponential)
            if i < n_y - 1:
                _fluxes(u[z, i + 1], row, south, inv_kappa, exponential)
            else:
                south[:] = _ZERO
            out[0] = row[0] + gamma * ((south[0] - north[0]) + east[0])
            for j in range(1, n_x):
                out[j] = row[j] + gamma * ((south[j] - north[j]) + (east[j] - east[j - 1]))
            if use_z:
                up = up_rows[i - r0]
                if z < n_z - 1:
                    _fluxes(u[z + 1, i], row, down, inv_kappa, exponential)
                else:
                    down[:] = _ZERO
                for j in range(n_x):
                    out[j] += gamma * (down[j] - up[j])
                    up[j] = down[j]
            north, south = south, north


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _diffusion_step(u, v, blocks, inv_kappa, gamma, exponential, use_z):  # pragma: no cover
    """One iteration from ``u`` into ``v`` (both (Z, Y, X) float32), the blocks in parallel."""
    for b in prange(blocks.shape[0]):
        _step_block(u, v, blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3],
                    inv_kappa, gamma, exponential, use_z)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _diffuse_bands(u, result, bands, count, inv_kappa, gamma, exponential):  # pragma: no cover
    """``count`` iterations of a single plane ``u`` (1, Y, X) into ``result``, a band per thread.

    Each band is iterated on its own with ``count`` extra rows on each side
    (fewer at the image border).  A pixel after ``count`` iterations depends
    only on pixels at most ``count`` rows away, so the band's own rows come
    out exactly as from the whole plane, while the wrong borders of the
    widened band spoil only the extra rows, which are dropped.
    """
    for b in prange(bands.shape[0]):
        first, end, lo, hi = bands[b, 0], bands[b, 1], bands[b, 2], bands[b, 3]
        current = u[:, lo:hi].copy()
        spare = np.empty_like(current)
        for _ in range(count):
            _step_block(current, spare, 0, 1, 0, hi - lo, inv_kappa, gamma, exponential, False)
            current, spare = spare, current
        result[:, first:end] = current[:, first - lo:end - lo]


DIFFUSION = Method(
    name="diffusion",
    label="Anisotropic diffusion",
    description="Perona–Malik diffusion: smooths noise inside regions while keeping "
                "edges stronger than κ; fast, good for membranes and large structures.",
    params_type=DiffusionParams,
    function=anisotropic_diffusion,
    # 3-D mode: each iteration moves information by one plane.
    halo=lambda params: Halo(params.iterations if params.mode == "3d" else 0),
    volume_inputs=lambda volume, params, cancel: (
        {"noise_sigma": volume_noise_sigma(volume)} if params.kappa_relative else {}),
)
