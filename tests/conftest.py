import os
import subprocess

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class CancellingProgress:
    """A ``progress`` callback that records each fraction and sets ``token``: a user pressing Cancel at once."""

    def __init__(self) -> None:
        from et_denoise.engine.jobs import CancelToken

        self.token = CancelToken()
        self.reports: list[float] = []

    def __call__(self, fraction: float) -> None:
        self.reports.append(fraction)
        self.token.cancel()


@pytest.fixture
def cancel_at_first_report():
    """A :class:`CancellingProgress`: pass it as ``progress`` and its ``token`` as ``cancel``."""
    return CancellingProgress()


@pytest.fixture
def poison_training_data():
    """``poison(monkeypatch)``: training data cut from then on is all NaN, so the loss becomes NaN."""
    from et_denoise import engine

    make = engine.n2v.data.make_training_data

    def poisoned(*args, **kwargs):
        data = make(*args, **kwargs)
        data.train[:] = np.nan
        return data

    def poison(monkeypatch):
        monkeypatch.setattr("et_denoise.engine.n2v.training.make_training_data", poisoned)

    return poison


@pytest.fixture
def small_disk(tmp_path):
    """A folder on its own 2 MB file system (tmpfs), to fill up; skipped where it cannot be mounted (needs root)."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for full-disk tests: {mounted.stderr.strip() or 'not root'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def fill_disk():
    """``fill_disk(folder, leave=0)``: write a filler file into ``folder`` until its file system has only
    ``leave`` bytes free."""

    def fill(folder, leave: int = 0) -> None:
        with open(os.path.join(folder, "filler"), "wb", buffering=0) as filler:
            try:
                while filler.write(bytes(4096)) == 4096:
                    pass
            except OSError:
                pass
            filler.truncate(max(filler.tell() - leave, 0))

    return fill
