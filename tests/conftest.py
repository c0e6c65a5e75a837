import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def poison_training_data():
    """``poison(monkeypatch)``: training data cut from then on is all NaN, so the loss becomes NaN."""
    import et_denoise.engine.n2v.data
    from et_denoise import engine

    make = engine.n2v.data.make_training_data

    def poisoned(*args, **kwargs):
        data = make(*args, **kwargs)
        data.train[:] = np.nan
        return data

    def poison(monkeypatch):
        monkeypatch.setattr("et_denoise.engine.n2v.training.make_training_data", poisoned)

    return poison
