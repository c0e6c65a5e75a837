"""Cancel takes effect promptly in every method's Apply: the cancel token is consulted after a bounded
amount of work, counted in the method's own units (voxel × window, voxel updates, voxel-shifts, network voxels).

Wall-clock times are left to ``tests/benchmarks/test_bench_cancel.py`` (shared machines are noisy); here
a token records each time the engine consults it, the progress callback records how much was done by
then, and the largest amount of work between two consultations (from the start to the end of the call)
is compared with each method's bound.  Once the token is set, the next consultation raises
:class:`~engine.errors.Cancelled`, so that largest gap is what a Cancel can wait for.
"""

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.filters.median import MIN_BAND_ROWS, SLAB_PLANES, UNIT_WORK
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v.tiling import TILE_BUDGET_VOXELS, predict_tiled

SHAPE = (24, 64, 64)


class RecordingToken(CancelToken):
    """Records the progress reached at each consultation; cancels itself at consultation ``cancel_at``."""

    def __init__(self, cancel_at: int | None = None) -> None:
        super().__init__()
        self.done = 0.0  # the progress last reported
        self.seen: list[float] = []  # ``done`` at each consultation
        self._cancel_at = cancel_at

    def report(self, fraction: float) -> None:
        self.done = fraction

    def _consulted(self) -> None:
        self.seen.append(self.done)
        if self._cancel_at is not None and len(self.seen) >= self._cancel_at:
            self.cancel()

    @property
    def cancelled(self) -> bool:
        self._consulted()
        return super().cancelled

    def check(self) -> None:
        self._consulted()
        super().check()

    def largest_gap(self) -> float:
        """The largest share of the work done between two consultations, the start and the end."""
        marks = [0.0, *self.seen, 1.0]
        return max(later - earlier for earlier, later in zip(marks, marks[1:]))


def _volume(shape=SHAPE):
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


def _run(name, params, token, volume):
    method = FILTERS[name]
    return method.apply(volume, method.params_type(**params), progress=token.report, cancel=token)


MEDIAN_SHAPE = (16, 192, 128)
DIFFUSION_SHAPE = (32, 128, 128)
LARGE_SHAPE = (20, 256, 1024)  # 5.2 M voxels

# (method, parameters, volume shape, work units in the whole call, most units a Cancel may wait for)
CASES = [
    # output voxels × window voxels: slabs of 8 planes, in bands of rows of about UNIT_WORK (at least 64 rows)
    pytest.param("median", {"size": 5, "mode": "3d"}, SHAPE, np.prod(SHAPE) * 5**3, UNIT_WORK, id="median-3d"),
    pytest.param("median", {"size": 11, "mode": "3d"}, MEDIAN_SHAPE, np.prod(MEDIAN_SHAPE) * 11**3,
                 max(UNIT_WORK, SLAB_PLANES * MIN_BAND_ROWS * MEDIAN_SHAPE[2] * 11**3), id="median-3d-large-window"),
    # voxel updates: the iterations are run in chunks of about 2**22 updates
    pytest.param("diffusion", {"mode": "3d", "iterations": 40}, DIFFUSION_SHAPE, 40 * np.prod(DIFFUSION_SHAPE),
                 2**22, id="diffusion-3d-updates"),
    # a volume larger than a chunk: within each iteration, between groups of blocks
    pytest.param("diffusion", {"mode": "3d", "iterations": 2}, LARGE_SHAPE, 2 * np.prod(LARGE_SHAPE), 2**22,
                 id="diffusion-3d-large-volume-updates"),
    # voxel-shifts: voxels × shifts of the 11³ search cube; at most 2**17 voxels × one plane of the cube
    pytest.param("nlm", {"mode": "3d"}, SHAPE, np.prod(SHAPE) * (11**3 - 1), 2**17 * 11**2,
                 id="nlm-3d-voxel-shifts"),
]


@pytest.mark.parametrize("name, params, shape, total, bound", CASES)
def test_the_cancel_token_is_consulted_after_a_bounded_amount_of_work(name, params, shape, total, bound):
    token = RecordingToken()
    _run(name, params, token, _volume(shape))
    assert token.done == 1.0 and len(token.seen) >= 2
    assert token.largest_gap() * total <= bound * (1 + 1e-9), (
        f"{name}: up to {token.largest_gap() * total:.3g} units between two cancel checks, bound {bound:.3g}")


@pytest.mark.parametrize("name, params, shape, total, bound", CASES)
def test_a_cancel_during_the_run_raises_at_the_next_check(name, params, shape, total, bound):
    token = RecordingToken(cancel_at=2)
    with pytest.raises(Cancelled):
        _run(name, params, token, _volume(shape))
    assert token.done * total <= 2 * bound  # stopped after the second check: at most two units done


def test_structn2v_prediction_consults_the_token_before_each_network_call_of_bounded_size():
    filters = 32
    calls = []  # voxels of each network call
    token = RecordingToken()

    def network(batch):
        calls.append((batch.size, len(token.seen)))  # and how many checks came before it
        return batch

    image = _volume((20, 300, 260))
    predict_tiled(network, image, ndim=2, margin=16, multiple=4, filters=filters, progress=token.report,
                  cancel=token)
    assert len(calls) >= 3
    assert [checks for _, checks in calls] == list(range(1, len(calls) + 1)), "a check before every call"
    assert max(voxels for voxels, _ in calls) <= TILE_BUDGET_VOXELS // filters  # ~1 s of the 2-core CPU
    cancelled = RecordingToken(cancel_at=2)
    calls.clear()
    with pytest.raises(Cancelled):
        predict_tiled(network, image, ndim=2, margin=16, multiple=4, filters=filters, cancel=cancelled)
    assert len(calls) == 1  # the second check raised before the second call
