"""``--region`` and ``--bin``: denoise a part of a tomogram for a quick look, reading only its planes."""

import csv

import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import ImageData, LazyImage, open_image_lazily, read_image, write_image
from et_denoise.engine.io.subvolume import read_subvolume, select
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.volume import denoise_to_file, method_job

VOXEL = (12.0, 10.0, 8.0)
ORIGIN = (30.0, -20.0, 5.0)


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``et-denoise ARGS``."""
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def block_means(data, bins):
    """The mean of each block of ``bins`` voxels, the remainder dropped, in float64."""
    cut = data[tuple(slice(0, size // step * step) for size, step in zip(data.shape, bins))].astype(np.float64)
    shape = [n for size, step in zip(cut.shape, bins) for n in (size // step, step)]
    return cut.reshape(shape).mean(axis=tuple(range(1, 2 * data.ndim, 2)))


@pytest.fixture(scope="module")
def tomogram(tmp_path_factory):
    """A 21×40×46 uint16 MRC volume with a voxel size and an origin, and its data."""
    data = np.random.default_rng(3).integers(0, 4000, size=(21, 40, 46)).astype(np.uint16)
    path = write_image(tmp_path_factory.mktemp("in") / "tomo.mrc", data, voxel_size=VOXEL, origin=ORIGIN)
    return path, data


def median(data, **params):
    method = FILTERS["median"]
    return method.apply(data, method.params_type(**params))


def test_a_region_denoised_is_the_median_of_the_same_crop_in_memory(capsys, tomogram, tmp_path):
    path, data = tomogram
    output = tmp_path / "part.mrc"
    code, out, err = run(capsys, "denoise", path, "-o", output, "--method", "median", "--size", "3", "--mode", "3d",
                         "--region", "4:15,3:30,:40")
    assert code == 0, err
    assert f"wrote {output} (11, 27, 40) float32" in out
    saved = read_image(output)
    assert np.array_equal(saved.data, median(data[4:15, 3:30, :40], size=3, mode="3d"))
    assert saved.voxel_size == pytest.approx(VOXEL)
    # IMOD's convention: the origin decreases by start × voxel size, so the part lies where it was
    assert saved.origin == pytest.approx((30.0 - 4 * 12.0, -20.0 - 3 * 10.0, 5.0))


def test_bin_2_is_the_block_means_with_the_voxel_size_doubled_in_the_saved_header(capsys, tomogram, tmp_path):
    path, data = tomogram
    output = tmp_path / "binned.mrc"
    code, out, err = run(capsys, "denoise", path, "-o", output, "--method", "median", "--size", "1", "--bin", "2")
    assert code == 0, err
    saved = read_image(output)
    assert saved.data.shape == (10, 20, 23)  # the 21st plane is the remainder, dropped
    np.testing.assert_allclose(saved.data, block_means(data, (2, 2, 2)), rtol=1e-6)
    assert saved.voxel_size == pytest.approx(tuple(2 * size for size in VOXEL))
    assert saved.origin == pytest.approx(ORIGIN)  # the first block starts where the first voxel did


def test_region_and_bin_together_bin_the_region(capsys, tomogram, tmp_path):
    path, data = tomogram
    output = tmp_path / "both.tif"
    code, _out, err = run(capsys, "denoise", path, "-o", output, "--method", "median", "--size", "3",
                          "--region", "1:12,8:,10:30", "--bin", "4")
    assert code == 0, err
    saved = read_image(output)
    np.testing.assert_allclose(saved.data, median(block_means(data[1:12, 8:, 10:30], (4, 4, 4)).astype(np.float32),
                                                  size=3), rtol=1e-6)
    assert saved.voxel_size == pytest.approx(tuple(4 * size for size in VOXEL), rel=1e-5)


@pytest.mark.parametrize("options, message", [
    (["--region", "10:5,:,:"], "--region 10:5,:,: — region Z 10:5 is outside the image or empty"),
    (["--region", "0:5,0:41,:"], "region Y 0:41 is outside the image or empty (the image has 40"),
    (["--region", "0:5,0:20,0:9,0:9"], "cannot read region '0:5,0:20,0:9,0:9': write Y0:Y1,X0:X1"),
    (["--region", "a:b,:,:"], "cannot read region"),
    (["--region", "0:3,:,:", "--bin", "4"], "--region 0:3,:,: --bin 4 — binning by 4 leaves nothing of the "
                                            "region's 3 planes along Z"),
])
def test_a_bad_region_is_one_line_exit_code_2_and_no_output(capsys, tomogram, tmp_path, options, message):
    path, _data = tomogram
    output = tmp_path / "never.mrc"
    code, out, err = run(capsys, "denoise", path, "-o", output, "--method", "median", *options)
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and line.startswith("error: ") and message in line
    assert not output.exists() and list(tmp_path.iterdir()) == []


def test_two_ranges_of_a_volume_are_y_and_x_of_every_plane(capsys, tomogram, tmp_path):
    path, data = tomogram
    output = tmp_path / "rows.mrc"
    assert run(capsys, "denoise", path, "-o", output, "--method", "median", "--size", "1", "--region", "0:5,0:20")[0] == 0
    assert np.array_equal(read_image(output).data, data[:, 0:5, 0:20])


def test_bin_offers_2_and_4_and_the_help_explains_both(capsys):
    code, _out, err = run(capsys, "denoise", "in.mrc", "-o", "out.mrc", "--method", "median", "--bin", "3")
    assert code == 2 and "invalid choice: 3" in err
    for command in ("denoise", "batch"):
        code, out, _err = run(capsys, command, "--help")
        text = " ".join(out.split())
        assert code == 0, command
        assert "--region Z0:Z1,Y0:Y1,X0:X1" in text and "as Python slices" in text, command
        assert "--bin {2,4}" in text and "voxel size multiplied by the bin" in text, command


def test_batch_fails_a_file_the_region_does_not_fit_and_goes_on(capsys, tmp_path):
    small = write_image(tmp_path / "small.mrc", np.ones((4, 30, 30), np.float32), voxel_size=(5.0, 5.0, 5.0))
    large = write_image(tmp_path / "large.mrc", np.arange(8 * 32 * 32, dtype=np.float32).reshape(8, 32, 32),
                        voxel_size=(5.0, 5.0, 5.0))
    outdir = tmp_path / "out"
    code, out, _err = run(capsys, "batch", small, large, "-o", outdir, "--method", "median", "--size", "1",
                          "--region", "2:8,0:32,:", "--bin", "2")
    assert code == 2
    rows = {row["file"]: row for row in csv.DictReader(open(outdir / "batch-summary.csv", newline=""))}
    status = rows[str(small.resolve())]["status"]
    assert status.startswith("failed: --region 2:8,0:32,: --bin 2 — region Z 2:8 is outside the image")
    assert rows[str(large.resolve())]["status"] == "done" and rows[str(large.resolve())]["shape"] == "8×32×32"
    assert not (outdir / "small.mrc").exists()
    np.testing.assert_allclose(read_image(outdir / "large.mrc").data,
                               block_means(read_image(large).data[2:8], (2, 2, 2)))
    assert f"wrote {outdir / 'large.mrc'} (3, 16, 16) float32" in out
    # run again: the binned part is complete, so it is skipped
    assert "is complete, skipped" in run(capsys, "batch", large, "-o", outdir, "--method", "median", "--size", "1",
                                         "--region", "2:8,0:32,:", "--bin", "2")[1]


class RecordedReads:
    """A volume whose reader records the planes asked for and refuses any outside ``allowed``."""

    def __init__(self, data, allowed):
        self.data, self.allowed, self.calls = data, allowed, []

    def __call__(self, start, stop):
        self.calls.append((start, stop))
        if start < self.allowed.start or stop > self.allowed.stop:
            raise AssertionError(f"planes {start}:{stop} read, outside {self.allowed}")
        return np.array(self.data[start:stop])

    def volume(self):
        placeholder = np.broadcast_to(np.zeros((), self.data.dtype), self.data.shape)
        return LazyImage(ImageData(placeholder, VOXEL), self)


def test_a_binned_region_reads_only_its_planes(tmp_path):
    data = np.random.default_rng(0).normal(size=(40, 24, 24)).astype(np.float32)
    reads = RecordedReads(data, range(10, 26))  # the region 10:27 binned by 4 covers planes 10:26
    part = reads.volume().subvolume("10:27,:,:", 4)
    assert part.shape == (4, 6, 6)
    np.testing.assert_allclose(part.read(1, 3), block_means(data[14:22], (4, 4, 4)), rtol=1e-5, atol=1e-6)
    # planes a:b of the part are planes Z0 + 4a : Z0 + 4b, read a block of 4 at a time (the part's are smaller)
    assert reads.calls == [(14, 18), (18, 22)]
    path = denoise_to_file(part, tmp_path / "part.mrc", method_job(FILTERS["median"], None, part), memory=10**5)
    np.testing.assert_allclose(read_image(path).data, median(block_means(data[10:26], (4, 4, 4))), rtol=1e-5, atol=1e-6)
    assert len(reads.calls) > 2 and all(10 <= start < stop <= 26 for start, stop in reads.calls)


def test_a_small_crop_of_large_planes_reads_them_in_runs_no_larger_than_the_crop(tmp_path):
    data = np.zeros((64, 100, 100), np.uint16)
    reads = RecordedReads(data, range(0, 64))
    part = reads.volume().subvolume("0:64,0:10,0:10")
    assert part.read(0, 64).shape == (64, 10, 10) and part.dtype == np.uint16
    assert len(reads.calls) == 64 and all(stop - start == 1 for start, stop in reads.calls)


def test_a_file_region_never_reads_planes_outside_it(tomogram, monkeypatch):
    path, data = tomogram
    volume = open_image_lazily(path)
    file_reader, calls = volume._read, []

    def recorded(start, stop):
        calls.append((start, stop))
        return file_reader(start, stop)

    monkeypatch.setattr(volume, "_read", recorded)
    assert np.array_equal(volume.subvolume("5:9,2:4,:").read(0, 4), data[5:9, 2:4])
    assert calls == [(5, 6), (6, 7), (7, 8), (8, 9)]  # one plane at a time: 2 of its 40 rows are kept


def test_a_2d_image_takes_two_ranges_and_bins_in_plane(tmp_path):
    data = np.random.default_rng(1).normal(size=(50, 61)).astype(np.float32)
    path = write_image(tmp_path / "micrograph.mrc", data, voxel_size=(7.0, 3.0, 3.0), origin=(0.0, 0.0, 0.0))
    part = read_subvolume(path, "10:50,1:", 2)
    assert part.data.shape == (20, 30) and not part.data.flags.writeable
    np.testing.assert_allclose(part.data, block_means(data[10:50, 1:61], (2, 2)), rtol=1e-5, atol=1e-6)
    assert part.voxel_size == pytest.approx((7.0, 6.0, 6.0)) and part.origin == pytest.approx((0.0, -30.0, -3.0))
    with pytest.raises(ParameterError, match="has a Z range but the image is 2-D"):
        read_subvolume(path, "0:1,10:50,1:")


def test_a_stack_of_images_is_binned_in_plane_only(tmp_path):
    data = np.random.default_rng(2).normal(size=(5, 16, 16)).astype(np.float32)
    path = write_image(tmp_path / "tilts.st", data, voxel_size=(2.0, 2.0, 2.0))
    part = open_image_lazily(path).subvolume(binning=2)
    assert part.shape == (5, 8, 8) and part.image.voxel_size == pytest.approx((2.0, 4.0, 4.0))
    np.testing.assert_allclose(part.load().data, block_means(data, (1, 2, 2)), rtol=1e-5, atol=1e-6)


def test_the_part_keeps_labels_and_the_extended_header_only_with_its_sections(tmp_path):
    source = read_image(write_image(tmp_path / "v.mrc", np.zeros((6, 8, 8), np.float32)))
    header = source.mrc_header
    image = LazyImage.from_array(source.data, like=source)
    in_plane = image.subvolume(":,0:4,0:4").image.mrc_header
    assert in_plane.labels == header.labels + ("ET Denoise: region 0:6,0:4,0:4",)
    assert image.subvolume("1:5,:,:", 2).image.mrc_header.labels[-1] == "ET Denoise: region 1:5,0:8,0:8 binned by 2"
    assert image.subvolume() is image and image.subvolume("0:6,0:8,0:8", 1) is image


def test_select_gives_the_part_s_shape_and_type_without_reading():
    part = select((100, 512, 512), "10:61,:,0:256", 2)
    assert part.shape == (25, 256, 128) and part.stops == (60, 512, 256) and part.dtype(np.uint16) == np.float32
    assert select((100, 512, 512), "10:60,:,0:256").dtype(np.uint16) == np.uint16
    with pytest.raises(ParameterError, match="bin by 1, 2 or 4, not 8"):
        select((100, 512, 512), None, 8)


def test_reading_a_part_reports_progress_and_can_be_cancelled(tmp_path, monkeypatch):
    data = np.random.default_rng(4).normal(size=(12, 20, 20)).astype(np.float32)
    path = write_image(tmp_path / "v.mrc", data)
    monkeypatch.setattr("et_denoise.engine.io.lazy.LOAD_RUN_BYTES", 2 * 20 * 20 * 4)
    fractions = []
    part = read_subvolume(path, "2:10,:,:", progress=fractions.append)
    assert np.array_equal(part.data, data[2:10]) and fractions == [0.25, 0.5, 0.75, 1.0]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_subvolume(path, "2:10,:,:", cancel=token)


def test_a_part_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    path = write_image(tmp_path / "v.mrc", np.zeros((4, 8, 8), np.float32))
    monkeypatch.setattr("et_denoise.engine.io.memory.available_memory", lambda: 100)
    with pytest.raises(ImageError, match="not enough memory to open this 2×4×4 float32 image"):
        read_subvolume(path, ":,0:8,0:8", 2)
