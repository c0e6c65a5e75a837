"""Whole-image results of an interactive session: in memory within the budget, else in a scratch file, never lost."""

import os
import subprocess
import sys

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import ImageData, LazyImage, read_image, write_image
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.sample import make_sample
from et_denoise.engine.volume import collect, denoise_volume, method_job
from et_denoise.engine.volume import storage as storage_module
from et_denoise.engine.volume.storage import ResultStorage, ScratchFolder, scratch_file_of

SHAPE = (13, 40, 44)
RESULT_BYTES = 4 * int(np.prod(SHAPE))
IN_USE = 10**9


@pytest.fixture
def image():
    return ImageData(make_sample(shape=SHAPE, seed=3).noisy, voxel_size=(8.0, 8.0, 8.0))


@pytest.fixture
def held(monkeypatch):
    """The process holds exactly IN_USE bytes (the decision must not depend on this machine's state)."""
    monkeypatch.setattr(storage_module, "process_private_memory", lambda: IN_USE)


def diffusion(volume, cancel=None):
    return method_job(FILTERS["diffusion"], FILTERS["diffusion"].params_type(mode="2d", iterations=3), volume,
                      cancel=cancel)


def expected(image):
    volume = LazyImage.from_array(image.data)
    return collect(denoise_volume(volume, diffusion(volume)))


def test_a_result_that_fits_half_of_what_the_budget_leaves_is_kept_in_memory(image, held, tmp_path):
    storage = ResultStorage(ScratchFolder(tmp_path), memory=IN_USE + 3 * RESULT_BYTES)
    result = storage.denoise(image, diffusion)
    assert scratch_file_of(result) is None and not isinstance(result, np.memmap)
    np.testing.assert_array_equal(result, expected(image))
    assert not storage.scratch.folder.exists()


def test_a_larger_result_is_written_to_the_scratch_folder_and_mapped_read_only(image, held, tmp_path):
    storage = ResultStorage(ScratchFolder(tmp_path), memory=IN_USE + 2 * RESULT_BYTES - 4)
    reports = []
    result = storage.denoise(image, diffusion, progress=reports.append)
    path = scratch_file_of(result)
    assert path is not None and path.parent == storage.scratch.folder
    assert not result.flags.writeable
    np.testing.assert_array_equal(result, expected(image))
    assert reports[-1] == 1.0 and reports.count(1.0) == 1
    saved = read_image(path)  # the scratch file is a complete MRC file like the input
    assert saved.voxel_size == (8.0, 8.0, 8.0)
    storage.remove_files()
    assert not storage.scratch.folder.exists()


def test_a_cancelled_run_leaves_no_scratch_file(image, held, tmp_path):
    storage = ResultStorage(ScratchFolder(tmp_path), memory=IN_USE + RESULT_BYTES)
    token = CancelToken()
    with pytest.raises(Cancelled):
        storage.denoise(image, lambda volume: diffusion(volume, token),
                        progress=lambda fraction: token.cancel() if fraction > 0 else None, cancel=token)
    assert not storage.scratch.folder.exists() or os.listdir(storage.scratch.folder) == []


def test_folders_of_sessions_that_were_killed_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f"session-{dead.stdout.strip()}-0a1b2c3d"
    stale.mkdir()
    (stale / "result-1.mrc").write_bytes(b"x")
    live = tmp_path / f"session-{os.getppid()}-0a1b2c3d"
    live.mkdir()
    other = tmp_path / "notes"
    other.mkdir()
    scratch = ScratchFolder(tmp_path)
    assert scratch.remove_stale() == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_folders_used_before_the_scratch_base_changed_are_removed_at_the_end(image, held, tmp_path):
    storage = ResultStorage(ScratchFolder(tmp_path / "first"), memory=IN_USE + RESULT_BYTES)
    first = scratch_file_of(storage.denoise(image, diffusion))
    storage.use_scratch_base(tmp_path / "second")
    second = scratch_file_of(storage.denoise(image, diffusion))
    assert first.parent.parent == tmp_path / "first" and second.parent.parent == tmp_path / "second"
    storage.remove_files()
    assert not first.exists() and not second.exists()


def test_saving_a_result_kept_on_disk_writes_a_file_equal_to_it(image, held, tmp_path):
    storage = ResultStorage(ScratchFolder(tmp_path / "scratch"), memory=IN_USE + RESULT_BYTES)
    result = storage.denoise(image, diffusion)
    write_image(tmp_path / "saved.tif", result, like=image)
    np.testing.assert_array_equal(read_image(tmp_path / "saved.tif").data, result)
