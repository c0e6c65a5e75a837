"""The background warm-up compiles every filter with the garbage collector off, and turns it back on."""

import dataclasses
import gc

import pytest

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.jobs import CancelToken
from et_denoise.gui.warm_up import _warm_up_filters


def test_the_collector_is_off_while_the_filters_compile_and_on_after_even_when_cancelled(monkeypatch):
    """A collection on the main thread while a worker compiled numba kernels crashed the app (SIGSEGV)."""
    seen = []
    for name, method in list(FILTERS.items()):
        monkeypatch.setitem(FILTERS, name, dataclasses.replace(
            method, function=lambda image, cancel=None, name=name, **params: seen.append((name, gc.isenabled())) or image))
    _warm_up_filters(None, CancelToken())
    assert {name for name, _ in seen} == set(FILTERS) and not any(enabled for _, enabled in seen)
    assert gc.isenabled()

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        _warm_up_filters(None, token)
    assert gc.isenabled()
