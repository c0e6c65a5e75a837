"""Non-local means (Buades et al. 2005) with scikit-image's fast kernel.

Each pixel becomes a weighted mean of the pixels in a search window around
it, weighted by how similar the patches around them are.  The filtering
strength h is given in units of the noise σ estimated from the image, so one
setting works for 8-bit, 16-bit and float tomograms alike.

2-D mode filters the planes of a stack in a thread pool
(:func:`engine.jobs.run_slicewise`); scikit-image's kernel releases the GIL,
so the threads run in parallel.  3-D mode, which searches and compares patches
across planes, runs a compiled kernel (``numba``) on tiles of rows that the
threads share, with progress and a cancel check after each plane of the
search cube (a fraction of a second); it gives
scikit-image's 3-D result (the classic, Gaussian-weighted mode still runs
scikit-image on overlapping blocks of rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange
from skimage.restoration import denoise_nl_means

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.filters._fastexp import float_from_bits
from et_denoise.engine.filters._numba_threads import numba_threads
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn, default_workers, run_slicewise
from et_denoise.engine.methods import Halo, Method
from et_denoise.engine.analysis.noise import estimate_noise_sigma, volume_noise_sigma
from et_denoise.engine.validation import check_image
from et_denoise.engine.params import MethodParams, param


@dataclass(frozen=True)
class NLMParams(MethodParams):
    """Parameters of :func:`non_local_means`."""

    patch_size: int = param(
        7, label="Patch size", minimum=1, maximum=31, step=1,
        help="Width in pixels of the patches compared to decide which pixels are alike. "
             "Larger patches resist noise better but match fewer fine details.")
    patch_distance: int = param(
        5, label="Search distance", minimum=1, maximum=50, step=1,
        help="How far (pixels) to look for similar patches. A larger distance finds more "
             "matches and smooths more; the time grows with its square (its cube in 3-D).")
    h: float = param(
        0.9, label="Strength h", minimum=0.0, step=0.1,
        help="How different two patches may be and still be averaged. In units of the "
             "noise σ when 'h relative to noise' is on, in grey levels otherwise.")
    h_relative: bool = param(
        True, label="h relative to noise",
        help="Give h as a multiple of the noise σ estimated from the image, so that the "
             "same value works for 8-bit, 16-bit and float data.")
    fast_mode: bool = param(
        True, label="Fast mode",
        help="Use the fast algorithm (all patch pixels weigh the same). The classic one "
             "weighs patch pixels by a Gaussian and is many times slower.")
    mode: str = param(
        "2d", label="Mode", choices=("2d", "3d"),
        help="2d filters each plane of a stack on its own; 3d compares patches across "
             "planes too (stacks only), at a much higher cost.")

    def validate(self) -> None:
        if not self.h > 0:
            raise ParameterError(f"h must be greater than 0, got {self.h}")


def non_local_means(
    image: np.ndarray,
    *,
    patch_size: int = NLMParams.patch_size,
    patch_distance: int = NLMParams.patch_distance,
    h: float = NLMParams.h,
    h_relative: bool = NLMParams.h_relative,
    fast_mode: bool = NLMParams.fast_mode,
    mode: str = NLMParams.mode,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    noise_sigma: float | None = None,
) -> np.ndarray:
    """Non-local means denoising of an image or a stack.

    Parameters
    ----------
    image : ndarray, shape (Y, X) or (Z, Y, X)
        Data of any real dtype; filtered in float32 on its own intensity scale.
    patch_size : int
        Width of the compared patches, in pixels.
    patch_distance : int
        Largest offset, in pixels, of the patches searched: the search window
        is ``2 * patch_distance + 1`` wide.
    h : float
        Cut-off of patch distances (scikit-image's ``h``): a multiple of the
        estimated noise σ when ``h_relative``, otherwise in the data's units.
    h_relative : bool
        Whether ``h`` is in units of the noise σ.
    fast_mode : bool
        The fast algorithm of Darbon et al. (uniform patch weights) instead of
        the classic one (Gaussian patch weights).
    mode : {"2d", "3d"}
        ``"2d"`` filters each plane of a stack on its own; ``"3d"`` uses 3-D
        patches and search windows.  A 2-D image is always filtered in 2-D.
    progress : callable, optional
        ``progress(fraction)`` after each plane (2-D) or each part of about
        512 × 256 voxels, at least 8 parts (3-D); 1.0 exactly once at the end.
    cancel : CancelToken, optional
        Checked before each plane (2-D) or part (3-D).
    workers : int, optional
        Threads; default one per core.
    noise_sigma : float, optional
        The noise σ (scikit-image's ``sigma``, and the unit of a relative h)
        when ``image`` is a slab of a larger volume (:mod:`engine.volume`
        passes the volume's); by default estimated from ``image``.

    Returns
    -------
    ndarray, float32
        The denoised image, same shape as ``image``.

    Raises
    ------
    ImageError
        If ``image`` is not a finite real 2-D image or 3-D stack.
    ParameterError
        For out-of-range parameters.
    Cancelled
        If ``cancel`` was set.

    Notes
    -----
    The noise σ is estimated from the image (see
    :func:`engine.noise.estimate_noise_sigma`, which is right for the
    correlated noise of tomograms where scikit-image's ``estimate_sigma`` is
    about 3× too low) and passed to scikit-image as ``sigma``, so that the
    expected patch distance of pure noise, 2σ², is subtracted before weighting
    (Buades et al. 2011).  Both σ and h are on the scale of the data the
    kernel sees (estimating σ on 8-bit values but filtering the image
    rescaled to [0, 1] would make h 255× too large).  The
    defaults (7-pixel patches, search distance 5, h = 0.9 σ) were chosen on
    the synthetic tomogram of :mod:`engine.sample`, whose noise is correlated
    along X: there h = 0.8–0.9 σ gave the best PSNR (+10 dB); larger h and
    search windows smooth more and suit low-magnification data better.

    For a noise-free image (σ = 0) with relative h, the image is returned
    unchanged.

    3-D mode searches ``2 patch_distance + 1`` times more shifts per voxel
    than 2-D.  In fast mode it runs a compiled kernel: for each shift of the
    search cube the squared differences are summed over the patch with short
    vectorised sums along Z, X and Y of a tile of rows that stays in a core's
    cache, and turned into weights with the same approximate exponential as
    scikit-image (Schraudolph 1999), so the result equals scikit-image's
    3-D fast mode (within 1e-5 of the data range, float32 against float64).
    scikit-image's own 3-D call is single-threaded, cannot be cancelled and
    took hundreds of times the 2-D time; this kernel takes about ten times
    the 2-D mode (see ``tests/benchmarks``).  The classic mode
    (``fast_mode=False``) runs scikit-image on blocks of rows that overlap by
    ``patch_distance + patch_size // 2`` rows, filtered in parallel.

    References
    ----------
    Buades, A., Coll, B. & Morel, J.-M. (2005). A non-local algorithm for image
    denoising. CVPR 2005, vol. 2, 60–65. :DOI:`10.1109/CVPR.2005.38`

    Darbon, J., Cunha, A., Chan, T. F., Osher, S. & Jensen, G. J. (2008). Fast
    nonlocal filtering applied to electron cryomicroscopy. ISBI 2008,
    1331–1334. :DOI:`10.1109/ISBI.2008.4541250`

    Buades, A., Coll, B. & Morel, J.-M. (2011). Non-local means denoising.
    Image Processing On Line 1, 208–212. :DOI:`10.5201/ipol.2011.bcm_nlm`

    Schraudolph, N. N. (1999). A fast, compact approximation of the
    exponential function. Neural Computation 11(4), 853–862.
    :DOI:`10.1162/089976699300016467`

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clean = np.where(np.arange(64) < 32, 0.0, 100.0) * np.ones((64, 1))
    >>> noisy = clean + rng.normal(scale=10.0, size=clean.shape)
    >>> denoised = non_local_means(noisy)
    >>> bool(np.abs(denoised - clean).mean() < 0.5 * np.abs(noisy - clean).mean())
    True
    """
    params = NLMParams(patch_size=patch_size, patch_distance=patch_distance, h=h,
                       h_relative=h_relative, fast_mode=fast_mode, mode=mode)
    data = check_image(image)
    sigma = estimate_noise_sigma(data) if noise_sigma is None else float(noise_sigma)
    strength = params.h * sigma if params.h_relative else params.h
    planes = np.array(data, dtype=np.float32)
    if strength == 0:  # noise-free: the limit h -> 0 of the filter is the identity
        ProgressCounter(1, progress).finish()
        return planes

    def denoise(array: np.ndarray) -> np.ndarray:
        return denoise_nl_means(np.ascontiguousarray(array), params.patch_size,
                                params.patch_distance, strength, params.fast_mode, sigma,
                                preserve_range=True)

    if params.mode == "2d" or data.ndim == 2:
        return run_slicewise(denoise, planes, progress=progress, cancel=cancel, workers=workers)
    if params.fast_mode:
        return _nlm_3d(planes, params.patch_size, params.patch_distance, strength, sigma,
                       progress, cancel, workers)
    return _denoise_in_row_blocks(denoise, planes, params.patch_distance + params.patch_size // 2,
                                  progress, cancel, workers)


def _denoise_in_row_blocks(denoise, volume: np.ndarray, overlap: int, progress, cancel,
                           workers) -> np.ndarray:
    """Apply a 3-D filter to blocks of rows that overlap by ``overlap`` rows, in a thread pool.

    The volume is reflect-padded along Y (as the filter pads it), cut into
    equal blocks of ``height + 2 overlap`` rows (views), filtered by
    :func:`run_slicewise` over the blocks, and the middle ``height`` rows of
    each block are kept.
    """
    n_z, n_y, n_x = volume.shape
    threads = max(int(workers or default_workers()), 1)
    height = min(n_y, max(4 * overlap, math.ceil(n_y / (4 * threads))))
    n_blocks = math.ceil(n_y / height)
    padded = np.pad(volume, ((0, 0), (overlap, overlap + n_blocks * height - n_y), (0, 0)),
                    mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, height + 2 * overlap, axis=1)
    blocks = np.moveaxis(windows[:, ::height], 1, 0).swapaxes(-1, -2)  # (block, Z, rows, X)
    filtered = run_slicewise(denoise, blocks, progress=progress, cancel=cancel, workers=threads)
    kept = filtered[:, :, overlap:overlap + height]  # (block, Z, height, X)
    return np.ascontiguousarray(np.moveaxis(kept, 0, 1).reshape(n_z, n_blocks * height, n_x)[:, :n_y])


#: Rows and planes of output per tile of the 3-D kernel: its buffers stay in a core's cache.
_TILE_ROWS = 16
_TILE_PLANES = 8

#: Patch distance beyond which skimage's fast kernel gives a weight of 0 (exp(-5) = 0.0067).
_DISTANCE_CUTOFF = np.float32(5.0)

# Schraudolph's exp as scikit-image's ``fast_exp`` computes it, moved from float64's bits
# (high word int(A y) + B, low word 0) to float32's: the same value, 20 bits of mantissa.
_SCHRAUDOLPH_A = np.float32(1512775.3951951856938)  # 2^20 / ln 2
_SCHRAUDOLPH_B = np.int32(1072632447 - 896 * (1 << 20))  # scikit-image's B, exponent bias 1023 -> 127


@njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath={"contract"})
def _schraudolph_exp(y):  # pragma: no cover - compiled
    """scikit-image's approximate exp(y) for -5 <= y <= 0 (within 4 %, Schraudolph 1999)."""
    return float_from_bits((np.int32(_SCHRAUDOLPH_A * y) + _SCHRAUDOLPH_B) << np.int32(3))


def _nlm_3d(volume: np.ndarray, patch_size: int, patch_distance: int, h: float, sigma: float,
            progress, cancel, workers) -> np.ndarray:
    """3-D fast non-local means with the compiled kernel :func:`_nlm_3d_shifts`, in calls of a few tiles.

    Equals scikit-image's ``denoise_nl_means`` in 3-D fast mode (to float32
    rounding and its approximate ``exp``): same reflect padding, patch
    distances summed over the same (s-1)³ voxels, the same cut-off and the
    same weight of the centre.  The threads share tiles of planes and rows,
    about 512 × 256 voxels per batch, and each call covers planes of the
    search cube (the shifts with one Z offset), as many as keep it within
    ``2**17`` voxels × one plane: progress and the cancel token are checked
    between calls (a batch of the whole cube took 1.5 s on the 2-core machine).
    """
    s = patch_size + 1 if patch_size % 2 == 0 else patch_size
    offset, d = s // 2, patch_distance
    pad = offset + d + 1
    padded = np.ascontiguousarray(np.pad(volume, pad, mode="reflect"), dtype=np.float32)
    n_z, n_y, n_x = volume.shape
    threads = max(1, min(int(workers or default_workers()), numba.config.NUMBA_NUM_THREADS))
    rows = min(n_y, _TILE_ROWS)
    depth = min(n_z, _TILE_PLANES)
    tiles = np.array([(z, min(z + depth, n_z), y, min(y + rows, n_y))
                      for z in range(0, n_z, depth) for y in range(0, n_y, rows)], dtype=np.int64)
    # Tiles per batch: about the voxels of half a 512 × 512 plane, at least one per thread, and at
    # most an eighth of the volume.
    per_call = min(max(threads, math.ceil((1 << 17) / (rows * depth * n_x))),
                   max(threads, math.ceil(len(tiles) / 8)))
    out = np.empty(volume.shape, np.float32)
    total = np.empty((per_call, depth, rows, n_x), np.float32)  # Σ weight × value, per tile of the batch
    weights = np.empty_like(total)  # Σ weight
    inv_norm = np.float32(1.0 / (h * h * s ** 3))
    noise = np.float32(2.0 * sigma * sigma * (2 * offset) ** 3)
    counter = ProgressCounter(len(tiles) * (2 * d + 1), progress)
    shifts_per_call = max(1, (1 << 17) // (per_call * rows * depth * n_x))  # planes of the search cube
    with numba_threads(threads):
        for first in range(0, len(tiles), per_call):
            batch = tiles[first:first + per_call]
            total[:] = 0.0
            weights[:] = 0.0
            for tz_first in range(-d, d + 1, shifts_per_call):
                if cancel is not None:
                    cancel.check()
                tz_end = min(tz_first + shifts_per_call, d + 1)
                _nlm_3d_shifts(padded, batch, total, weights, tz_first, tz_end, pad, offset, d, inv_norm, noise)
                counter.step(len(batch) * (tz_end - tz_first))
            _nlm_3d_finish(padded, out, batch, total, weights, pad)
    counter.finish()
    return out


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _nlm_3d_shifts(padded, tiles, total, weights, tz_first, tz_end, pad, offset, d, inv_norm,
                   noise):  # pragma: no cover
    """Add the shifts (tz, ty, tx) of the search cube with ``tz_first <= tz < tz_end`` to the sums of the tiles.

    ``tiles`` rows are (first plane, end plane, first row, end row);
    ``total[b]`` and ``weights[b]`` accumulate tile ``b``'s weighted values
    and weights.  For every shift t ≠ 0 the squared differences between the
    reflect-padded volume and the volume shifted by t are summed over the
    patch: along Z and Y by sliding sums (one voxel enters, one leaves, from
    plane to plane and row to row), along X by a short sum, each a loop over
    a row that vectorises; the sum becomes the weight
    ``exp(-max(Σ - noise, 0) · inv_norm)`` (0 beyond the cut-off).  Calling
    it for consecutive ranges of tz from -d to d adds the shifts in the order
    of one loop over the whole cube.
    """
    n_x = total.shape[3]
    span = 2 * offset  # the patch sum covers offsets -offset+1 .. offset
    zero = np.float32(0.0)
    for b in prange(tiles.shape[0]):
        z0, z1, y0, y1 = tiles[b, 0], tiles[b, 1], tiles[b, 2], tiles[b, 3]
        n_rows = y1 - y0
        n_sq_rows, n_sq_cols = n_rows + span - 1, n_x + span - 1
        squares = np.zeros((n_sq_rows, n_sq_cols), np.float32)  # Σ over the patch's planes
        along_x = np.empty((n_sq_rows, n_x), np.float32)
        distance = np.empty(n_x, np.float32)
        r_first = y0 + pad - offset + 1  # padded row of squares[0]
        c_first = pad - offset + 1  # padded column of squares[:, 0]
        for tz in range(tz_first, tz_end):
            for ty in range(-d, d + 1):
                for tx in range(-d, d + 1):
                    if tz == 0 and ty == 0 and tx == 0:
                        continue
                    for z in range(z0, z1):
                        zc = z + pad
                        if z == z0:  # the patch's planes in full
                            squares[:] = zero
                            for kz in range(-offset + 1, offset + 1):
                                _add_squares(padded, squares, zc + kz, tz, r_first, ty,
                                             c_first, tx, np.float32(1.0))
                        else:  # one plane enters, one leaves
                            _add_squares(padded, squares, zc + offset, tz, r_first, ty,
                                         c_first, tx, np.float32(1.0))
                            _add_squares(padded, squares, zc - offset, tz, r_first, ty,
                                         c_first, tx, np.float32(-1.0))
                        for r in range(n_sq_rows):
                            row, summed = squares[r], along_x[r]
                            for c in range(n_x):
                                summed[c] = row[c]
                            for k in range(1, span):
                                for c in range(n_x):
                                    summed[c] += row[c + k]
                        for c in range(n_x):
                            distance[c] = along_x[0, c]
                        for k in range(1, span):
                            summed = along_x[k]
                            for c in range(n_x):
                                distance[c] += summed[c]
                        for i in range(n_rows):
                            if i > 0:  # one row enters, one leaves
                                entering, leaving = along_x[i + span - 1], along_x[i - 1]
                                for c in range(n_x):
                                    distance[c] += entering[c] - leaving[c]
                            source = padded[zc + tz, y0 + pad + i + ty]
                            acc, wsum = total[b, z - z0, i], weights[b, z - z0, i]
                            for c in range(n_x):
                                dist = max(distance[c] - noise, zero) * inv_norm
                                w = _schraudolph_exp(-dist) if dist <= _DISTANCE_CUTOFF else zero
                                acc[c] += w * source[pad + c + tx]
                                wsum[c] += w


@njit(cache=True, parallel=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _nlm_3d_finish(padded, out, tiles, total, weights, pad):  # pragma: no cover
    """Write the tiles of ``out`` from their sums; the centre weighs exp(0) once, as in
    scikit-image's symmetric scheme (two halves of the zero shift)."""
    n_x = out.shape[2]
    w_centre = _schraudolph_exp(np.float32(0.0))  # distance 0: 0.971 with this exp
    for b in prange(tiles.shape[0]):
        z0, z1, y0, y1 = tiles[b, 0], tiles[b, 1], tiles[b, 2], tiles[b, 3]
        for z in range(z0, z1):
            for i in range(y1 - y0):
                centre = padded[z + pad, y0 + pad + i]
                acc, wsum = total[b, z - z0, i], weights[b, z - z0, i]
                for c in range(n_x):
                    out[z, y0 + i, c] = (w_centre * centre[pad + c] + acc[c]) / (w_centre + wsum[c])


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _add_squares(padded, squares, plane, tz, r_first, ty, c_first, tx, sign):  # pragma: no cover
    """squares += sign · (P - P shifted by t)² on one padded plane, over the tile's rows and columns."""
    for r in range(squares.shape[0]):
        here = padded[plane, r_first + r]
        there = padded[plane + tz, r_first + r + ty]
        row = squares[r]
        for c in range(squares.shape[1]):
            diff = here[c_first + c] - there[c_first + c + tx]
            row[c] += sign * (diff * diff)

NLM = Method(
    name="nlm",
    label="Non-local means",
    description="Averages pixels whose surrounding patches look alike: keeps repeated "
                "textures and fine structure; slower than diffusion, much slower in 3-D.",
    params_type=NLMParams,
    function=non_local_means,
    halo=lambda params: Halo(_reach(params) if params.mode == "3d" else 0),
    volume_inputs=lambda volume, params, cancel: {"noise_sigma": volume_noise_sigma(volume)},
    # 7 slices of 96² in 0.8-0.9 s on the 2-core machine at load 5 (128²: 1.6-2.3 s; 256²: 6 s)
    preview_side=96,
)


def _reach(params: NLMParams) -> int:
    """Planes a 3-D output voxel depends on, each side: the search distance, half a patch, and the
    plane the kernel's padding adds (an even patch size counts as the next odd one)."""
    patch = params.patch_size + 1 if params.patch_size % 2 == 0 else params.patch_size
    return params.patch_distance + patch // 2 + 1
