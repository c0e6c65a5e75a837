"""Cancel ends every method's Apply within 1 s on the built-in sample (issue #15, item 2).

Each Apply runs on a worker thread, as the app's jobs do; the token is set at
three moments of the run (10 %, 40 % and 70 % of its uncancelled time) and the
time from setting it to the call's end (raising ``Cancelled``) is measured.
The deterministic part (the token is consulted after a bounded amount of
work) is ``tests/test_cancel_granularity.py`` in the default suite.
Run with ``make bench``.
"""

import threading
import time

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.sample import make_sample

BUDGET_S = 1.0
MOMENTS = (0.1, 0.4, 0.7)


@pytest.fixture(scope="module")
def noisy():
    return make_sample().noisy  # 32 × 256 × 256


@pytest.fixture(scope="module")
def model(noisy):
    from et_denoise.engine.n2v import N2VParams, train

    return train([noisy], N2VParams(epochs=1, steps_per_epoch=2))  # the default network; its weights do not matter


def _cancel_latency(call, delay_s: float) -> float | None:
    """Seconds from setting the token ``delay_s`` after the start to the end of ``call``; None if it ended first."""
    token, ended = CancelToken(), {}

    def run():
        try:
            call(token)
        except Cancelled:
            ended["cancelled"] = True
        ended["at"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(delay_s)
    cancelled_at = time.perf_counter()
    token.cancel()
    worker.join()
    return ended["at"] - cancelled_at if ended.get("cancelled") else None


def _measure(label, call):
    call(CancelToken())  # warm: compiled kernels, the network's graph
    start = time.perf_counter()
    call(CancelToken())
    full_s = time.perf_counter() - start
    latencies = [_cancel_latency(call, moment * full_s) for moment in MOMENTS]
    measured = [latency for latency in latencies if latency is not None]
    print(f"{label}: whole run {full_s:.2f} s; cancel took "
          + ", ".join("ended first" if value is None else f"{value:.2f} s" for value in latencies))
    assert measured, f"{label}: every run ended before its cancel"
    assert max(measured) <= BUDGET_S, f"{label}: cancel took {max(measured):.2f} s"


@pytest.mark.parametrize("name, params", [
    ("median", {"size": 5, "mode": "3d"}),
    ("median", {"size": 11, "mode": "3d"}),
    ("diffusion", {"mode": "3d"}),
    ("nlm", {"mode": "3d"}),
], ids=["median-3d", "median-3d-size-11", "diffusion-3d", "nlm-3d"])
def test_cancel_ends_a_filters_apply_within_1_s(noisy, name, params):
    method = FILTERS[name]
    chosen = method.params_type(**params)
    _measure(f"{name} {params}", lambda token: method.apply(noisy, chosen, cancel=token))


def test_cancel_ends_structn2v_prediction_within_1_s(noisy, model):
    _measure("StructN2V predict", lambda token: model.predict(noisy, cancel=token))
    assert np.isfinite(model.predict(noisy[:2])).all()
