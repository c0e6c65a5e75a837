"""Metrics of the comparison: what each number tells a user, and the files the compare command writes."""

import csv
import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from et_denoise.engine.region import Region
from et_denoise.engine.compare.comparison import (ORIGINAL_NAME, ComparedImage, compare, compare_files, default_regions,
                               line_profile, unique_names)
from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import write_image
from et_denoise.engine.compare.metrics import psnr, ssim
from et_denoise.engine.analysis.noise import estimate_noise_sigma
from et_denoise.engine.sample import make_sample

SHAPE = (8, 96, 96)


@pytest.fixture(scope="module")
def sample():
    return make_sample(SHAPE)


@pytest.fixture(scope="module")
def filtered(sample):
    return {name: method.apply(sample.noisy) for name, method in FILTERS.items()}


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory, sample, filtered):
    folder = tmp_path_factory.mktemp("compare")
    write_image(folder / "noisy.tif", sample.noisy, voxel_size=sample.voxel_size)
    write_image(folder / "clean.tif", sample.clean, voxel_size=sample.voxel_size)
    results = [write_image(folder / f"{name}.tif", data) for name, data in filtered.items()]
    return folder, results


def read_csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_compare_files_writes_a_figure_and_a_csv_whose_psnr_matches_engine_metrics(sample_files, sample, filtered):
    folder, results = sample_files
    table = compare_files(folder / "noisy.tif", results, folder / "figure.png",
                          reference_path=folder / "clean.tif", csv_path=folder / "metrics.csv")
    rows = {row["image"]: row for row in read_csv(folder / "metrics.csv")}
    assert list(rows) == [ORIGINAL_NAME, *FILTERS]  # titles of file results: their stems
    for name, data in filtered.items():
        assert float(rows[name]["psnr"]) == pytest.approx(psnr(sample.clean, data), rel=1e-9)
        assert float(rows[name]["ssim"]) == pytest.approx(ssim(sample.clean, data), rel=1e-9)
    assert float(rows[ORIGINAL_NAME]["psnr"]) == pytest.approx(psnr(sample.clean, sample.noisy), rel=1e-9)
    assert table.row("nlm").psnr == pytest.approx(float(rows["nlm"]["psnr"]))
    with Image.open(folder / "figure.png") as figure:
        assert figure.format == "PNG" and figure.size[0] > 1000


def test_compare_files_refuses_to_replace_outputs_unless_told(sample_files):
    folder, results = sample_files
    (folder / "taken.png").write_bytes(b"mine")
    with pytest.raises(ImageError, match="already exists"):
        compare_files(folder / "noisy.tif", results[:1], folder / "taken.png", csv_path=folder / "new.csv")
    assert (folder / "taken.png").read_bytes() == b"mine" and not (folder / "new.csv").exists()
    compare_files(folder / "noisy.tif", results[:1], folder / "taken.png", overwrite=True, slice_index=2)
    assert (folder / "taken.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_files_rejects_other_formats_and_no_results(sample_files):
    folder, results = sample_files
    with pytest.raises(ParameterError, match="png or .pdf"):
        compare_files(folder / "noisy.tif", results, folder / "figure.jpg")
    with pytest.raises(ParameterError, match="at least one result"):
        compare_files(folder / "noisy.tif", [], folder / "figure.png")


def test_denoisers_lower_the_noise_and_raise_snr_cnr_and_psnr(sample, filtered):
    images = [ComparedImage(name, data, elapsed_s=1.5) for name, data in filtered.items()]
    table = compare(sample.noisy, images, reference=sample.clean)
    original = table.row(ORIGINAL_NAME)
    assert original.noise_sigma == pytest.approx(estimate_noise_sigma(sample.noisy))
    assert original.acf_x1 is None and original.elapsed_s is None
    for name in filtered:
        row = table.row(name)
        assert row.noise_sigma < original.noise_sigma / 2
        assert row.psnr > original.psnr + 5 and row.ssim > original.ssim
        assert row.snr > original.snr and row.cnr > original.cnr
        assert row.elapsed_s == 1.5
    assert [column.key for column in table.columns][:2] == ["psnr", "ssim"]


def test_without_reference_there_is_no_psnr_but_every_other_metric(sample, filtered):
    table = compare(sample.noisy, [ComparedImage("median", filtered["median"])])
    keys = [column.key for column in table.columns]
    assert "psnr" not in keys and "ssim" not in keys and "elapsed_s" not in keys
    assert keys == ["noise_sigma", "snr", "cnr", "acf_x1", "acf_x2", "acf_y1", "acf_y2"]
    assert "psnr" not in table.to_csv().splitlines()[0]


def test_residual_autocorrelation_tells_white_removed_noise_from_correlated():
    rng = np.random.default_rng(3)
    clean = ndimage.gaussian_filter(rng.normal(size=(128, 128)), 6).astype(np.float32) * 20
    white = rng.normal(0, 0.3, clean.shape).astype(np.float32)
    streaks = ndimage.uniform_filter1d(rng.normal(0, 0.6, clean.shape), 5, axis=1).astype(np.float32)
    original = clean + white + streaks
    table = compare(original, [ComparedImage("removed white", clean + streaks),
                               ComparedImage("removed streaks", clean + white)])
    white_removed, streaks_removed = table.row("removed white"), table.row("removed streaks")
    for value in (white_removed.acf_x1, white_removed.acf_y1, white_removed.acf_x2, streaks_removed.acf_y1):
        assert abs(value) < 0.06
    assert streaks_removed.acf_x1 > 0.7 and streaks_removed.acf_x2 > 0.5


def test_one_slice_is_measured_alone(sample, filtered):
    table = compare(sample.noisy, [ComparedImage("nlm", filtered["nlm"])], reference=sample.clean, slice_index=3)
    assert table.scope == "slice 4"
    assert table.row("nlm").psnr == pytest.approx(psnr(sample.clean[3], filtered["nlm"][3]))
    assert compare(sample.noisy, [], slice_index=None).scope == "the whole volume"


def test_snr_and_cnr_use_the_given_regions():
    image = np.zeros((40, 40), np.float32)
    image[:, 20:] = 4.0
    image[::2, 20:] += 1.0  # structure of standard deviation 0.5 in the right half
    image += np.random.default_rng(0).normal(0, 0.5, image.shape).astype(np.float32)
    signal, background = Region(0, 40, 22, 38), Region(0, 40, 2, 18)
    row = compare(image, [], signal_region=signal, background_region=background).row(ORIGINAL_NAME)
    assert row.cnr == pytest.approx(4.5 / 0.5, rel=0.1)
    assert row.snr == pytest.approx(1.0, rel=0.15)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"slice_index": 8}, ParameterError, "slice 8 does not exist"),
    ({"signal_region": Region(0, 1, 0, 50)}, ParameterError, "too small"),
    ({"background_region": Region(0, 200, 0, 50)}, ParameterError, "outside the image"),
    ({"reference": np.zeros((8, 96, 95))}, ImageError, "reference has shape"),
])
def test_bad_inputs_are_refused_with_a_clear_message(sample, kwargs, error, message):
    with pytest.raises(error, match=message):
        compare(sample.noisy, [], **kwargs)


def test_results_must_match_the_original_and_have_distinct_names(sample):
    with pytest.raises(ImageError, match="x has shape"):
        compare(sample.noisy, [ComparedImage("x", sample.noisy[0])])
    with pytest.raises(ParameterError, match="own name"):
        compare(sample.noisy, [ComparedImage("x", sample.noisy), ComparedImage("x", sample.noisy)])
    assert unique_names(["x", "x", ORIGINAL_NAME]) == ["x", "x (2)", f"{ORIGINAL_NAME} (2)"]


def test_default_regions_put_the_background_on_flat_ground_and_the_signal_on_structure():
    rng = np.random.default_rng(1)
    image = rng.normal(0, 0.2, (100, 120)).astype(np.float32)
    image[55:95, 60:115] += np.sin(np.arange(55)[None, :] / 2.0) * 3  # stripes: the structure
    signal, background = default_regions(image)
    assert signal.y0 >= 45 and signal.x0 >= 50
    assert background.y1 <= 55 or background.x1 <= 60
    assert min(signal.y1 - signal.y0, background.x1 - background.x0) == 20


def test_line_profile_samples_each_pixel_and_stays_inside_the_image():
    ramp = np.tile(np.arange(50.0), (20, 1))
    distance, values = line_profile(ramp, (-10, 5), (30.5, 5))
    assert distance[0] == 0 and distance[-1] == pytest.approx(30.5)
    assert values[0] == 0 and values[-1] == pytest.approx(30.5)
    assert np.all(np.diff(values) > 0)
    _, diagonal = line_profile(ramp, (0, 0), (19, 19))
    assert len(diagonal) == 28


def test_a_2d_image_is_compared_and_the_table_prints_for_a_terminal(tmp_path):
    rng = np.random.default_rng(2)
    clean = ndimage.gaussian_filter(rng.normal(size=(64, 80)), 3).astype(np.float32) * 10
    noisy = clean + rng.normal(0, 0.5, clean.shape).astype(np.float32)
    write_image(tmp_path / "noisy.tif", noisy)
    write_image(tmp_path / "smooth.tif", ndimage.gaussian_filter(noisy, 1.5))
    table = compare_files(tmp_path / "noisy.tif", [tmp_path / "smooth.tif"], tmp_path / "figure.pdf",
                          slice_index=0)
    assert table.scope == "the whole image"
    assert (tmp_path / "figure.pdf").read_bytes()[:5] == b"%PDF-"
    lines = table.to_text().splitlines()
    assert lines[0].split()[:3] == ["Image", "Noise", "σ"] and lines[2].startswith("smooth ")
    assert f"{table.row('smooth').cnr:.2f}" in lines[2]
