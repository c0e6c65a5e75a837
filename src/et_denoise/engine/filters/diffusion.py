"""Anisotropic diffusion (Perona & Malik 1990), in 2-D plane by plane or in 3-D.

Each iteration moves every pixel towards its 4 (2-D) or 6 (3-D) neighbours,
by an amount that shrinks where the difference to the neighbour is large
compared with κ: noise is smoothed away while edges stay sharp.

Compiled kernels (``numba``) compute the iterations.  Per row, one loop
computes the fluxes to the next pixel along X into a row buffer, and another
computes those to the next row (and plane) as it sums the fluxes into the
output; the flux from the previous row (plane) is the one kept from the row
(plane) before, so each flux is computed once.  All loops run in SIMD lanes: the
exponential conduction uses its own ``exp`` (:mod:`._fastexp`: a power of
two from a degree-3 polynomial and the exponent bits; relative error of the
flux below 1e-4, as allowed), since numba's ``np.exp``
calls ``expf`` one value at a time.  An image is iterated between two
arrays allocated once, with no Python between the iterations of a chunk.

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
from et_denoise.engine.filters._fastexp import exp2_negative_product
from et_denoise.engine.filters._numba_threads import numba_threads
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn, default_workers, run_slicewise
from et_denoise.engine.methods import Halo, Method
from et_denoise.engine.analysis.noise import estimate_noise_sigma, volume_noise_sigma
from et_denoise.engine.validation import check_image
from et_denoise.engine.params import MethodParams, param

#: Largest stable step γ: 1/4 for the 4-neighbour 2-D scheme, 1/6 for 6 neighbours in 3-D.
GAMMA_LIMITS = {"2d": 0.25, "3d": 1.0 / 6.0}

_MAX_INV_KAPPA = float(np.finfo(np.float32).max)  # keeps 1/κ (and log₂(e)/κ²) finite for a tiny absolute κ
_MIN_EXP_SCALE = 124.0 / _MAX_INV_KAPPA  # keeps κ²/log₂(e) finite for a huge absolute κ (see exp2_negative_product)
_LOG2_E = 1.0 / math.log(2.0)

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
    shared = params.mode == "3d" and len(stack) > 1 and threads > 1 and stack.size >= _PARALLEL_MIN_PIXELS
    groups = _block_groups(stack.shape, threads) if shared else []
    planes = 1 if params.mode == "3d" else len(stack)
    counter = ProgressCounter(planes * params.iterations * max(len(groups), 1), progress)
    if kappa_value > 0:  # κ = 0 (a noise-free image with relative κ) smooths nothing
        exponential = params.conduction == "exponential"
        inv_kappa = min(1.0 / kappa_value, _MAX_INV_KAPPA)
        scale = np.clip(_LOG2_E * inv_kappa**2, _MIN_EXP_SCALE, _MAX_INV_KAPPA) if exponential else inv_kappa
        run = _Run(_Iteration(np.float32(scale), np.float32(params.gamma), exponential),
                   params.iterations, counter, cancel)
        if groups:
            run.in_groups(stack, groups, threads)
        elif params.mode == "3d" or len(stack) == 1:
            run.in_volume(stack, threads)
        else:
            stack = run_slicewise(run.in_plane, stack, cancel=cancel, workers=threads)
    counter.finish()
    return stack[0] if data.ndim == 2 else stack


@dataclass(frozen=True)
class _Iteration:
    """The compiled iteration with its constants.

    ``scale`` turns a difference Δ into the argument of the conduction: Δ
    times 1/κ for the quadratic one, Δ² times log₂(e)/κ² for the exponential
    one, computed as a power of two (exp(-(Δ/κ)²) = 2^-(Δ² log₂(e)/κ²)).
    """

    scale: np.float32
    gamma: np.float32
    exponential: bool

    def iterate(self, current: np.ndarray, spare: np.ndarray, count: int) -> np.ndarray:
        """``count`` iterations of a (Z, Y, X) float32 array on this thread, from ``current`` and ``spare``.

        Returns the one of the two that holds the result.
        """
        up = np.empty((current.shape[1] if current.shape[0] > 1 else 1, current.shape[2]), np.float32)
        odd = _iterate(current, spare, up, count, self.scale, self.gamma, self.exponential)
        return spare if odd else current

    def bands(self, current: np.ndarray, result: np.ndarray, work: np.ndarray, count: int) -> None:
        """``count`` iterations of a single plane (1, Y, X) into ``result``, one band of rows per thread of ``work``.

        ``work`` holds two buffers per band, each of the band's rows with
        ``count`` more on each side (see :func:`_diffuse_bands`); the threads
        meet once per call, not once per iteration.
        """
        bands = _bands(current.shape[1], len(work), count)
        with numba_threads(len(work)):
            _diffuse_bands(current, result, bands, work, count, self.scale, self.gamma, self.exponential)

    def step(self, u: np.ndarray, v: np.ndarray, blocks: np.ndarray, work: np.ndarray, threads: int) -> None:
        """One iteration of the ``blocks`` of a volume, from ``u`` into ``v``, on ``threads`` threads."""
        with numba_threads(threads):
            _diffusion_step(u, v, blocks, work, self.scale, self.gamma, self.exponential)


@dataclass(frozen=True)
class _Run:
    """All iterations over an image, in chunks between progress reports and cancel checks.

    Threads that share every iteration meet at its end.  That costs little on
    an idle machine, but when another program keeps a core busy each meeting
    waits for a time slice: a plane that takes a fraction of a millisecond
    per iteration became 20× slower.  So the planes of a 2-D stack run in
    parallel, one thread each (:meth:`in_plane`); a single plane is split
    into bands of rows with halos whose threads meet once per chunk of
    iterations; only volumes of at least :data:`_PARALLEL_MIN_PIXELS`
    share every iteration, in :meth:`in_groups`.  The two arrays that an
    iteration reads and writes, and every buffer of the threads, are
    allocated once per call.
    """

    iteration: _Iteration
    iterations: int
    counter: ProgressCounter
    cancel: CancelToken | None

    def chunks(self, per_chunk: int):
        """Iteration counts per chunk: ``per_chunk`` (at least 1), fewer in the last."""
        chunk = max(1, per_chunk)
        for start in range(0, self.iterations, chunk):
            if self.cancel is not None:
                self.cancel.check()
            count = min(chunk, self.iterations - start)
            yield count
            self.counter.step(count)

    def in_volume(self, volume: np.ndarray, threads: int) -> None:
        """A single plane, on ``threads`` threads in bands of rows, or a volume on this thread, in place."""
        n_z, n_y, n_x = volume.shape
        threads = max(1, min(threads, n_y // _MIN_BAND_ROWS, numba.config.NUMBA_NUM_THREADS)) if n_z == 1 else 1
        current, spare = volume, np.empty_like(volume)
        if threads > 1:  # chunks widen each band by at most 1/8 of its rows on each side
            chunk = max(1, min(_UPDATES_PER_BAND_CHUNK // volume.size, n_y // (8 * threads)))
            work = np.empty((threads, 2, 1, math.ceil(n_y / threads) + 2 * chunk + 1, n_x), np.float32)
            for count in self.chunks(chunk):
                self.iteration.bands(current, spare, work, count)
                current, spare = spare, current
        else:
            for count in self.chunks(_UPDATES_PER_CHUNK // volume.size):
                if self.iteration.iterate(current, spare, count) is spare:
                    current, spare = spare, current
        if current is not volume:
            volume[...] = current

    def in_groups(self, volume: np.ndarray, groups: list[np.ndarray], threads: int) -> None:
        """A volume whose every iteration the threads share, in groups of blocks, checks and reports between them.

        An iteration reads the volume and writes a second one, so its blocks
        may be computed group after group; the threads meet once per group
        (each group keeps them all busy, and holds about
        :data:`_UPDATES_PER_MEETING` voxels at most).
        """
        current, spare = volume, np.empty_like(volume)
        work = np.empty((max(map(len, groups)), max(int((g[:, 3] - g[:, 2]).max()) for g in groups),
                         volume.shape[2]), np.float32)
        for _ in range(self.iterations):
            for group in groups:
                if self.cancel is not None:
                    self.cancel.check()
                self.iteration.step(current, spare, group, work, threads)
                self.counter.step()
            current, spare = spare, current
        if current is not volume:
            volume[...] = current

    def in_plane(self, plane: np.ndarray) -> np.ndarray:
        """One plane of a 2-D stack, on this thread."""
        current, spare = plane[np.newaxis].copy(), np.empty((1,) + plane.shape, np.float32)
        for count in self.chunks(_UPDATES_PER_CHUNK // plane.size):
            if self.iteration.iterate(current, spare, count) is spare:
                current, spare = spare, current
        return current[0]


#: Fewest rows per band when the threads share a single plane.
_MIN_BAND_ROWS = 128

#: Voxel updates between two meetings of threads that share a volume's iteration: a group of its
#: blocks (a few milliseconds).
_UPDATES_PER_MEETING = 1 << 22  # also the cancel checks: see tests/test_cancel_granularity.py

#: Pixel updates of a single plane between two meetings of the threads that share it in bands (about
#: 5 ms per thread): each meeting copies the bands in and out, and fewer meetings took 100
#: iterations of a 750² plane from 20.5 to 17.6 ms on two threads (exponential conduction).
_UPDATES_PER_BAND_CHUNK = 1 << 24


def _blocks(shape, threads: int) -> np.ndarray:
    """Split a (Z, Y, X) volume into blocks of planes × rows, a few per thread.

    Each block recomputes the fluxes on its first row and plane once, so
    blocks are kept large: up to 8 planes deep, then as many rows as needed
    for about four blocks per thread, and at most :data:`_UPDATES_PER_MEETING`
    voxels in a block per thread, so that large volumes check the token
    within an iteration.
    """
    n_z, n_y, n_x = shape
    depth = max(1, min(8, n_z // (2 * threads)))
    z_starts = range(0, n_z, depth)
    row_blocks = max(1, math.ceil(4 * threads / len(z_starts)))
    height = max(16, math.ceil(n_y / row_blocks))
    height = min(height, max(16, _UPDATES_PER_MEETING // (threads * depth * n_x)))
    return np.array([(z, min(z + depth, n_z), y, min(y + height, n_y))
                     for z in z_starts for y in range(0, n_y, height)], dtype=np.int64)


def _block_groups(shape, threads: int) -> list[np.ndarray]:
    """The blocks of a volume in groups of about :data:`_UPDATES_PER_MEETING` voxels, at least a block per thread.

    One group (the whole volume) when it holds no more voxels than that.
    """
    blocks = _blocks(shape, threads)
    voxels = (blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2]) * shape[2]
    groups, first, size = [], 0, 0
    for index, count in enumerate(voxels):
        if index > first and (size + count > _UPDATES_PER_MEETING and index - first >= threads):
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
def _exponential_flux(delta, scale):  # pragma: no cover - compiled
    """Δ exp(-(Δ/κ)²), computed as Δ 2^-(Δ² scale) with ``scale`` = log₂(e)/κ² (see :mod:`._fastexp`)."""
    return delta * exp2_negative_product(delta * delta, scale)


@njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath={"contract"})
def _quadratic_flux(delta, scale):  # pragma: no cover - compiled
    """Δ / (1 + (Δ/κ)²) with ``scale`` = 1/κ."""
    s = delta * scale
    return delta / (_ONE + s * s)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _fluxes(ahead, here, out, scale, exponential):  # pragma: no cover - compiled
    """out[j] = g(Δ) Δ with Δ = ahead[j] - here[j], for j < len(out) (a block's first row or plane).

    The same fluxes as :func:`_update_row` computes to the row (plane) below,
    to the float32 bit.  The branch is outside the loops so that each loop
    vectorises.
    """
    if exponential:
        for j in range(out.shape[0]):
            out[j] = _exponential_flux(ahead[j] - here[j], scale)
    else:
        for j in range(out.shape[0]):
            out[j] = _quadratic_flux(ahead[j] - here[j], scale)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _fluxes_along_x(row, east, scale, exponential):  # pragma: no cover - compiled
    """east[j + 1] = the flux from pixel j of ``row`` to pixel j + 1 (indices, not slices: a slice would not vectorise)."""
    if exponential:
        for j in range(row.shape[0] - 1):
            east[j + 1] = _exponential_flux(row[j + 1] - row[j], scale)
    else:
        for j in range(row.shape[0] - 1):
            east[j + 1] = _quadratic_flux(row[j + 1] - row[j], scale)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _update_row(row, below, north, east, out, gamma, scale, exponential):  # pragma: no cover - compiled
    """One iteration of ``row`` into ``out`` within a plane; ``north`` becomes the fluxes to ``below``.

    ``north`` holds the fluxes from the row above into ``row``, ``east[j + 1]``
    the flux from pixel j to j + 1 (:func:`_fluxes_along_x`, with ``east[0]`` and
    ``east[n]`` zero).  The flux to ``below`` is computed in the loop that
    updates the row and kept in place of the one from above, so the row
    buffers are read and written once per row.  A missing row below is given
    as ``row`` itself: its fluxes are zero.
    """
    if exponential:
        for j in range(row.shape[0]):
            south = _exponential_flux(below[j] - row[j], scale)
            out[j] = row[j] + gamma * ((south - north[j]) + (east[j + 1] - east[j]))
            north[j] = south
    else:
        for j in range(row.shape[0]):
            south = _quadratic_flux(below[j] - row[j], scale)
            out[j] = row[j] + gamma * ((south - north[j]) + (east[j + 1] - east[j]))
            north[j] = south


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _update_row_3d(row, below, ahead, north, upper, east, out, gamma, scale, exponential):  # pragma: no cover
    """:func:`_update_row` in a volume: ``upper`` likewise becomes the fluxes to ``ahead``, the next plane's row."""
    if exponential:
        for j in range(row.shape[0]):
            south = _exponential_flux(below[j] - row[j], scale)
            down = _exponential_flux(ahead[j] - row[j], scale)
            out[j] = row[j] + gamma * ((down - upper[j]) + (south - north[j]) + (east[j + 1] - east[j]))
            north[j] = south
            upper[j] = down
    else:
        for j in range(row.shape[0]):
            south = _quadratic_flux(below[j] - row[j], scale)
            down = _quadratic_flux(ahead[j] - row[j], scale)
            out[j] = row[j] + gamma * ((down - upper[j]) + (south - north[j]) + (east[j + 1] - east[j]))
            north[j] = south
            upper[j] = down


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _step_rows(u, v, z0, z1, r0, r1, n_y, up, scale, gamma, exponential):  # pragma: no cover - compiled
    """One iteration from ``u`` into ``v`` on planes [z0, z1) × rows [r0, r1), of ``n_y`` rows in ``u``.

    Per row, the fluxes to the next pixel along X are computed into a row
    buffer in one loop, and the row is updated in another that computes the
    fluxes to the next row (and plane, when ``u`` has several) as it goes;
    the flux from the previous row (plane) is the one kept from the row
    (plane) before, in ``north`` (``up``, a row per row of the block), so
    each flux is computed once, except on the block's first row and plane.
    Outside the ``n_y`` rows and the planes the flux is zero.
    """
    n_z, n_x = u.shape[0], u.shape[2]
    east = np.zeros(n_x + 1, np.float32)  # east[j + 1]: flux from pixel j to j + 1; none through the border
    north = np.empty(n_x, np.float32)
    if n_z > 1:
        for i in range(r0, r1):
            if z0 > 0:
                _fluxes(u[z0, i], u[z0 - 1, i], up[i - r0], scale, exponential)
            else:
                up[i - r0] = _ZERO
    for z in range(z0, z1):
        if r0 > 0:
            _fluxes(u[z, r0], u[z, r0 - 1], north, scale, exponential)
        else:
            north[:] = _ZERO
        for i in range(r0, r1):
            row, out = u[z, i], v[z, i]
            _fluxes_along_x(row, east, scale, exponential)
            below = u[z, i + 1] if i < n_y - 1 else row
            if n_z > 1:
                ahead = u[z + 1, i] if z < n_z - 1 else row
                _update_row_3d(row, below, ahead, north, up[i - r0], east, out, gamma, scale, exponential)
            else:
                _update_row(row, below, north, east, out, gamma, scale, exponential)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _iterate(u, v, up, count, scale, gamma, exponential):  # pragma: no cover - compiled
    """``count`` iterations of ``u`` (Z, Y, X) alternating with ``v``; whether the result is in ``v``.

    ``up`` holds a row per row of ``u`` for the fluxes from the plane before.
    """
    for _ in range(count):
        _step_rows(u, v, 0, u.shape[0], 0, u.shape[1], u.shape[1], up, scale, gamma, exponential)
        u, v = v, u
    return count % 2 == 1


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _diffusion_step(u, v, blocks, work, scale, gamma, exponential):  # pragma: no cover - compiled
    """One iteration from ``u`` into ``v`` (both (Z, Y, X) float32), the blocks in parallel.

    ``work[b]`` holds the fluxes from the plane before for the rows of block ``b``.
    """
    for b in prange(blocks.shape[0]):
        _step_rows(u, v, blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3], u.shape[1], work[b],
                   scale, gamma, exponential)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _diffuse_bands(u, result, bands, work, count, scale, gamma, exponential):  # pragma: no cover - compiled
    """``count`` iterations of a single plane ``u`` (1, Y, X) into ``result``, a band per thread.

    Each band is copied into its two buffers of ``work`` with ``count``
    extra rows on each side (fewer at the image border) and iterated there on
    its own.  A pixel after ``count`` iterations depends only on pixels at
    most ``count`` rows away, so iteration ``s`` (from 0) computes only the
    rows at most ``count - 1 - s`` rows outside the band, each from correct
    neighbours, and the band's own rows come out exactly as from the whole
    plane.
    """
    no_planes = np.empty((1, 1), np.float32)
    for b in prange(bands.shape[0]):
        first, end, lo, hi = bands[b, 0], bands[b, 1], bands[b, 2], bands[b, 3]
        current, spare = work[b, 0], work[b, 1]
        current[0, :hi - lo] = u[0, lo:hi]
        for s in range(count):
            margin = count - 1 - s
            _step_rows(current, spare, 0, 1, max(first - margin, lo) - lo, min(end + margin, hi) - lo, hi - lo,
                       no_planes, scale, gamma, exponential)
            current, spare = spare, current
        result[0, first:end] = current[0, first - lo:end - lo]


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
