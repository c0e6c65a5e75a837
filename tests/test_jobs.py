"""The shared plane-by-plane runner: results, progress, cancellation, errors."""

import threading
from dataclasses import dataclass

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled, ParameterError
from et_denoise.engine.jobs import CancelToken, run_slicewise
from et_denoise.engine.params import MethodParams, param


def test_runs_every_plane_in_threads_and_returns_new_float32():
    volume = np.arange(6 * 4 * 5, dtype=np.uint16).reshape(6, 4, 5)
    threads = set()

    def double(plane):
        threads.add(threading.get_ident())
        return plane * 2.0

    out = run_slicewise(double, volume, workers=2)
    assert out.dtype == np.float32 and out.shape == volume.shape
    np.testing.assert_array_equal(out, volume * 2.0)
    assert len(threads) >= 1


def test_2d_image_is_one_plane():
    image = np.ones((4, 5), np.float32)
    out = run_slicewise(lambda p: p + 1, image)
    assert out.shape == (4, 5) and np.all(out == 2)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_is_monotone_and_reaches_one_exactly_once(workers):
    seen = []
    lock = threading.Lock()

    def progress(fraction):
        with lock:
            seen.append(fraction)

    run_slicewise(lambda p: p, np.zeros((10, 3, 3)), progress=progress, workers=workers)
    assert seen.count(1.0) == 1 and seen[-1] == 1.0
    assert all(0 <= f <= 1 for f in seen)
    assert len(seen) == 11


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_within_about_one_plane(workers):
    token = CancelToken()
    computed = []

    def slow(plane):
        computed.append(1)
        token.cancel()
        return plane

    seen = []
    with pytest.raises(Cancelled):
        run_slicewise(slow, np.zeros((20, 3, 3)), progress=seen.append, cancel=token, workers=workers)
    assert len(computed) <= workers
    assert 1.0 not in seen


def test_error_in_a_plane_propagates():
    def fail(plane):
        raise ValueError("bad plane")

    with pytest.raises(ValueError, match="bad plane"):
        run_slicewise(fail, np.zeros((4, 3, 3)), workers=2)


@dataclass(frozen=True)
class _Params(MethodParams):
    size: int = param(3, label="Size", help="width", minimum=1, maximum=9)
    gain: float = param(1.0, label="Gain", help="gain", minimum=0.0)
    shape: str = param("square", label="Shape", help="shape", choices=("square", "disk"))
    fast: bool = param(True, label="Fast", help="fast")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"size": 0}, "Size must be at least 1"),
        ({"size": 10}, "Size must be at most 9"),
        ({"size": 2.5}, "Size must be a whole number"),
        ({"gain": "x"}, "Gain must be a number"),
        ({"gain": float("nan")}, "Gain must be a number"),
        ({"shape": "round"}, "Shape must be one of square, disk"),
        ({"fast": 1}, "Fast must be true or false"),
    ],
)
def test_parameters_are_validated_with_readable_messages(changes, message):
    with pytest.raises(ParameterError, match=message):
        _Params(**changes)


def test_parameters_replace_and_as_dict():
    params = _Params().replace(size=5)
    assert params.as_dict() == {"size": 5, "gain": 1.0, "shape": "square", "fast": True}
    with pytest.raises(ParameterError):
        params.replace(size=99)
