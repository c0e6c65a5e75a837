"""Volumes denoised slab by slab (engine.volume): the same result as the whole volume in memory, within a budget."""

import hashlib
import math
import os
import time
import tracemalloc

import mrcfile
import numpy as np
import pytest
import tifffile

from et_denoise.engine.errors import Cancelled, ImageError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import LazyImage, open_image_lazily, read_image, write_image
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.sample import make_sample
from et_denoise.engine.volume import MemoryBudgetError, collect, denoise_to_file, denoise_volume, method_job, slab_planes
from et_denoise.engine.volume.budget import slab_bytes

SHAPE = (21, 48, 56)  # 21 planes: no slab size used below divides it
SLAB = 4


@pytest.fixture(scope="module")
def noisy():
    return make_sample(shape=SHAPE, seed=5).noisy


@pytest.fixture(scope="module")
def volume_file(noisy, tmp_path_factory):
    path = tmp_path_factory.mktemp("volume") / "noisy.mrc"
    write_image(path, noisy, voxel_size=(7.5, 7.5, 7.5), origin=(1.0, 2.0, 3.0))
    return path


def budget_for(job, shape, itemsize, planes):
    """The memory budget in which slabs of ``job`` hold exactly ``planes`` planes."""
    return slab_bytes(shape, itemsize, job, planes)


def checksum(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def partials(folder):
    return sorted(name for name in os.listdir(folder) if ".partial" in name)


SETTINGS = [
    ("median", {"mode": "2d"}),
    ("median", {"mode": "3d", "size": 3}),
    ("median", {"mode": "2d", "size": 13}),  # a large window: the volume's 16-bit levels
    ("diffusion", {"mode": "2d"}),
    ("diffusion", {"mode": "3d", "iterations": 4}),
    ("nlm", {"mode": "2d"}),
    ("nlm", {"mode": "3d", "patch_size": 3, "patch_distance": 2}),
    ("dct", {"mode": "2d", "block_size": 8, "step": 4}),
    ("dct", {"mode": "3d", "cube_size": 4, "step": 2}),
]


@pytest.mark.parametrize("name, options", SETTINGS, ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o in SETTINGS])
def test_a_volume_denoised_in_slabs_into_a_file_equals_the_whole_volume_denoised_in_memory(
        noisy, volume_file, tmp_path, name, options):
    method = FILTERS[name]
    params = method.params_type(**options)
    volume = open_image_lazily(volume_file)
    job = method_job(method, params, volume)
    memory = budget_for(job, volume.shape, 4, SLAB)
    assert slab_planes(volume.shape, 4, job, memory) == SLAB
    before = checksum(volume_file)
    reports = []
    out = denoise_to_file(volume, tmp_path / "out.mrc", job, memory=memory, progress=reports.append)

    expected = method.apply(read_image(volume_file).data, params)
    result = read_image(out)
    assert result.data.dtype == np.float32 and result.data.shape == SHAPE
    if name == "median":
        np.testing.assert_array_equal(result.data, expected)
    else:
        tolerance = 1e-5 * float(noisy.max() - noisy.min())
        np.testing.assert_allclose(result.data, expected, rtol=0, atol=tolerance)
    assert reports[-1] == 1.0 and reports.count(1.0) == 1 and reports == sorted(reports)
    assert len(reports) >= math.ceil(SHAPE[0] / SLAB)
    assert checksum(volume_file) == before  # the input is only read


def test_the_slab_stream_has_the_planned_slabs_and_the_last_is_shorter(noisy):
    volume = LazyImage.from_array(noisy)
    job = method_job(FILTERS["median"], None, volume)
    stream = denoise_volume(volume, job, memory=budget_for(job, SHAPE, 4, SLAB))
    assert [(first, len(block)) for first, block in stream.blocks()] == [(0, 4), (4, 4), (8, 4), (12, 4), (16, 4),
                                                                         (20, 1)]


def test_a_tiff_stack_and_a_folder_of_slices_give_the_same_result_as_the_mrc_file(noisy, tmp_path):
    data = np.round(noisy * 100).astype(np.int16)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, data, compression="zlib")  # compressed: read page by page
    folder = tmp_path / "slices"
    folder.mkdir()
    for index, plane in enumerate(data):
        tifffile.imwrite(folder / f"s{index}.tif", plane)
    method, params = FILTERS["nlm"], FILTERS["nlm"].params_type(mode="3d", patch_size=3, patch_distance=2)
    expected = method.apply(data, params)
    for source in (stack, folder):
        volume = open_image_lazily(source)
        assert volume.shape == SHAPE and volume.dtype == np.int16
        np.testing.assert_array_equal(volume.read(3, 11), data[3:11])
        job = method_job(method, params, volume)
        out = denoise_to_file(volume, tmp_path / f"{source.stem}-out.tif", job,
                              memory=budget_for(job, SHAPE, 2, 5))
        np.testing.assert_allclose(read_image(out).data, expected, rtol=0, atol=1e-5 * float(np.ptp(data)))


@pytest.mark.parametrize("dtype, byte_order", [(np.uint8, "="), (np.int16, ">"), (np.float32, "<")])
def test_mrc_planes_read_lazily_equal_the_file_read_whole(tmp_path, dtype, byte_order):
    data = np.random.default_rng(2).integers(0, 200, size=(9, 17, 23)).astype(dtype)
    path = tmp_path / "in.mrc"
    if byte_order == ">":  # a file written on a big-endian machine
        with mrcfile.new(path) as mrc:
            mrc.set_data(data.astype(data.dtype.newbyteorder(">")))
    else:
        write_image(path, data)
    whole = read_image(path).data
    volume = open_image_lazily(path)
    assert volume.shape == whole.shape and volume.dtype == whole.dtype
    np.testing.assert_array_equal(np.concatenate([volume.read(0, 4), volume.read(4, 9)]), whole)


def test_the_output_keeps_voxel_size_origin_and_labels_and_its_header_statistics_are_the_data(
        noisy, volume_file, tmp_path):
    volume = open_image_lazily(volume_file)
    job = method_job(FILTERS["median"], None, volume)
    out = denoise_to_file(volume, tmp_path / "out.rec", job, memory=budget_for(job, SHAPE, 4, 3))
    result = read_image(out)
    assert result.voxel_size == (7.5, 7.5, 7.5) and result.origin == (1.0, 2.0, 3.0)
    with mrcfile.open(out, header_only=True) as mrc:
        header = mrc.header
        assert float(header.dmin) == result.data.min() and float(header.dmax) == result.data.max()
        assert float(header.dmean) == pytest.approx(result.data.mean(dtype=np.float64), rel=1e-6)
        assert float(header.rms) == pytest.approx(result.data.std(dtype=np.float64), rel=1e-6)
        assert b"ET Denoise" in bytes(header.label[int(header.nlabl) - 1])


def test_cancel_during_a_run_stops_within_a_second_and_leaves_no_file_and_the_old_output_untouched(
        volume_file, tmp_path):
    out = tmp_path / "out.mrc"
    out.write_bytes(b"an earlier result")
    before = checksum(volume_file), checksum(out)
    token = CancelToken()
    cancelled_at = []

    def progress(fraction):
        if fraction > 0.3 and not token.cancelled:  # a few slabs are written
            cancelled_at.append(time.perf_counter())
            token.cancel()

    volume = open_image_lazily(volume_file)
    job = method_job(FILTERS["nlm"], FILTERS["nlm"].params_type(mode="3d", patch_size=3, patch_distance=2), volume)
    with pytest.raises(Cancelled):
        denoise_to_file(volume, out, job, memory=budget_for(job, SHAPE, 4, 2), overwrite=True,
                        progress=progress, cancel=token)
    assert time.perf_counter() - cancelled_at[0] < 1.0
    assert (checksum(volume_file), checksum(out)) == before
    assert partials(tmp_path) == []


def test_an_existing_output_is_never_replaced_without_overwrite(volume_file, tmp_path):
    out = tmp_path / "out.tif"
    out.write_bytes(b"keep me")
    volume = open_image_lazily(volume_file)
    with pytest.raises(ImageError, match="exists"):
        denoise_to_file(volume, out, method_job(FILTERS["median"], None, volume))
    assert out.read_bytes() == b"keep me" and partials(tmp_path) == []


def test_nan_in_a_later_slab_is_refused_naming_the_plane_and_nothing_is_written(noisy, tmp_path):
    data = noisy.copy()
    data[17, 3, 4] = np.nan
    path = tmp_path / "nan.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(data)
    volume = open_image_lazily(path)
    job = method_job(FILTERS["median"], None, LazyImage.from_array(noisy))
    with pytest.raises(ImageError, match="NaN or infinite values .first in slice 17"):
        denoise_to_file(volume, tmp_path / "out.mrc", job, memory=budget_for(job, SHAPE, 4, 4))
    assert sorted(os.listdir(tmp_path)) == ["nan.mrc"]


def test_the_slab_size_follows_the_budget_and_a_budget_below_one_slab_is_refused_naming_both_sizes(noisy):
    volume = LazyImage.from_array(noisy)
    job = method_job(FILTERS["median"], FILTERS["median"].params_type(mode="3d"), volume)  # halo: 2 planes
    sizes = [slab_planes(SHAPE, 4, job, budget_for(job, SHAPE, 4, planes)) for planes in (1, 2, 7)]
    assert sizes == [1, 2, 7]
    assert slab_planes(SHAPE, 4, job, 10**12) == SHAPE[0]
    with pytest.raises(MemoryBudgetError, match=r"one slab of 48×56 planes with its halo of 2 planes on each side "
                                                r"needs .* for Median, more than the memory budget of 1.0 kB") as error:
        slab_planes(SHAPE, 4, job, 1000)
    assert error.value.needed == budget_for(job, SHAPE, 4, 1) and error.value.halo == 2


def test_memory_in_use_stays_near_the_budget_whatever_the_volume_size(tmp_path):
    """A 16 MB volume within a 2 MB budget: numpy never holds more than a few slabs' worth."""
    data = np.random.default_rng(0).normal(size=(64, 256, 256)).astype(np.float32)
    path = tmp_path / "big.mrc"
    write_image(path, data)
    volume = open_image_lazily(path)
    params = FILTERS["median"].params_type(size=3)
    job = method_job(FILTERS["median"], params, volume)
    budget = 2 * 1024**2
    tracemalloc.start()
    try:
        denoise_to_file(volume, tmp_path / "out.mrc", job, memory=budget)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * budget, f"peak {peak / 1e6:.1f} MB for a budget of {budget / 1e6:.1f} MB"
    np.testing.assert_array_equal(read_image(tmp_path / "out.mrc").data, FILTERS["median"].apply(data, params))


def test_a_2d_image_is_denoised_whole_and_written_like_its_input(tmp_path):
    image = make_sample(shape=(4, 64, 64), seed=1).noisy[2]
    path = tmp_path / "plane.tif"
    write_image(path, image, voxel_size=(5.0, 5.0, 5.0))
    volume = open_image_lazily(path)
    assert volume.shape == (64, 64)
    out = denoise_to_file(volume, tmp_path / "out.tif", method_job(FILTERS["diffusion"], None, volume))
    result = read_image(out)
    np.testing.assert_array_equal(result.data, FILTERS["diffusion"].apply(image))
    assert result.voxel_size[1:] == (5.0, 5.0)


def test_collect_gives_the_whole_result_as_one_array(noisy):
    volume = LazyImage.from_array(noisy)
    job = method_job(FILTERS["diffusion"], None, volume)
    whole = collect(denoise_volume(volume, job, memory=budget_for(job, SHAPE, 4, 5)))
    np.testing.assert_array_equal(whole, FILTERS["diffusion"].apply(noisy))


def _n2v_noisy(shape, seed):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.linspace(0, 3, n) for n in shape), indexing="ij")
    return (100 + 20 * np.sin(sum(grids)) + rng.normal(0, 10, shape)).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["2d", "3d"])
def test_n2v_prediction_in_slabs_equals_the_whole_volume_predicted_at_once(tmp_path, mode):
    from et_denoise.engine.n2v import N2VParams, train
    from et_denoise.engine.volume import model_job

    data = _n2v_noisy((23, 40, 48), seed=2)
    if mode == "3d":  # a 3-D network: each slab reads its receptive field, its first plane on the pooling grid
        params = N2VParams(mode="3d", patch_size=16, masked_fraction=1.0, epochs=1, steps_per_epoch=3, batch_size=2,
                           unet_depth=1, unet_filters=8, mask="horizontal:5")
    else:
        params = N2VParams(patch_size=32, epochs=1, steps_per_epoch=3, batch_size=4, unet_depth=2, unet_filters=8)
    model = train([data], params)
    path = tmp_path / "in.mrc"
    write_image(path, data)
    volume = open_image_lazily(path)
    job = model_job(model)
    assert job.halo.planes == (0 if mode == "2d" else 12) and job.halo.align == (1 if mode == "2d" else 2)
    out = denoise_to_file(volume, tmp_path / "out.mrc", job, memory=budget_for(job, volume.shape, 4, 4))
    np.testing.assert_allclose(read_image(out).data, model.predict(data), rtol=0, atol=1e-5 * float(np.ptp(data)))
