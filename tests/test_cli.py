"""The command line as a user runs it: real processes, real files, exit codes."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from et_denoise.engine.io import read_image
from et_denoise.engine.compare.metrics import psnr

ROOT = Path(__file__).resolve().parents[1]
SHAPE = ["6", "64", "64"]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module", params=["tif", "mrc"])
def sample_dir(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"sample_{request.param}")
    result = run_cli("sample", "-o", folder, "--format", request.param, "--shape", *SHAPE)
    assert result.returncode == 0, result.stderr
    return folder, request.param


@pytest.mark.parametrize("method, options", [
    ("median", ["--size", "3"]),
    ("diffusion", ["--iterations", "20"]),
    ("nlm", []),
])
def test_denoise_writes_float32_of_same_shape_that_beats_the_noisy_input(sample_dir, method, options):
    folder, ext = sample_dir
    out = folder / f"{method}.{ext}"
    result = run_cli("denoise", folder / f"noisy.{ext}", "-o", out, "--method", method, *options)
    assert result.returncode == 0, result.stderr
    noisy, clean, denoised = (read_image(folder / f"{n}.{ext}") for n in ("noisy", "clean", method))
    assert denoised.data.dtype == np.float32
    assert denoised.data.shape == noisy.data.shape
    assert psnr(clean.data, denoised.data) > psnr(clean.data, noisy.data) + 1.0
    assert denoised.voxel_size == pytest.approx(noisy.voxel_size)


def test_help_exists_for_every_subcommand():
    for args in ([], ["sample"], ["denoise"], ["gui"]):
        result = run_cli(*args, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout, args
    assert "--iterations" in run_cli("denoise", "--help").stdout


@pytest.mark.parametrize("args, message", [
    (["denoise", "missing.tif", "-o", "out.tif", "--method", "median"], "missing.tif"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "magic"], "invalid choice"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "median", "--iterations", "5"], "--iterations does not apply"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "median", "--size", "0"], "Size must be at least"),
    (["denoise", "in.tif", "-o", "in.tif", "--method", "median", "--overwrite"], "overwrite the input"),
    (["denoise", "in.tif", "-o", "out.tif"], "--method"),
    (["denoise", "notimage.tif", "-o", "out.tif", "--method", "median"], "notimage.tif"),
])
def test_bad_arguments_and_input_exit_2_with_one_line_and_no_traceback(tmp_path, args, message):
    from et_denoise.engine.io import write_image

    write_image(tmp_path / "in.tif", np.random.default_rng(0).random((16, 16)).astype(np.float32))
    (tmp_path / "notimage.tif").write_text("this is not a TIFF")
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_existing_output_is_not_overwritten_without_asking(tmp_path):
    from et_denoise.engine.io import write_image

    write_image(tmp_path / "in.tif", np.ones((16, 16), np.float32))
    (tmp_path / "out.tif").write_bytes(b"precious")
    result = run_cli("denoise", "in.tif", "-o", "out.tif", "--method", "median", cwd=tmp_path)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (tmp_path / "out.tif").read_bytes() == b"precious"


def test_train_then_denoise_with_the_model(tmp_path):
    assert run_cli("sample", "-o", tmp_path, "--shape", "4", "64", "64").returncode == 0
    model = tmp_path / "model"
    tiny = ["--epochs", "2", "--steps", "3", "--patch-size", "32", "--unet-depth", "1", "--unet-filters", "8",
            "--batch-size", "4", "--mask", "horizontal:5"]
    result = run_cli("train", tmp_path / "noisy.tif", "--model", model, *tiny)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("epoch ") == 2
    result = run_cli("denoise", tmp_path / "noisy.tif", "-o", tmp_path / "n2v.tif", "--method", "n2v", "--model", model)
    assert result.returncode == 0, result.stderr
    out = read_image(tmp_path / "n2v.tif")
    assert out.data.dtype == np.float32 and out.data.shape == (4, 64, 64)
    again = run_cli("train", tmp_path / "noisy.tif", "--model", model, *tiny)
    assert again.returncode == 2 and "--overwrite" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["denoise", "in.tif", "-o", "o.tif", "--method", "n2v"], "needs --model"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "n2v", "--model", "nowhere"], "nowhere"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "median", "--model", "m"], "--model applies only"),
    (["train", "in.tif", "--model", "m", "--mask", "diagonal:3"], "diagonal"),
    (["train", "in.tif", "--model", "m", "--mask", "none", "--mask-file", "x.txt"], "either --mask or --mask-file"),
])
def test_n2v_command_line_errors(tmp_path, args, message):
    from et_denoise.engine.io import write_image

    write_image(tmp_path / "in.tif", np.random.default_rng(0).random((64, 64)).astype(np.float32))
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and message in result.stderr


def test_autocorr_suggests_a_horizontal_mask_on_the_sample_and_saves_a_heat_map(tmp_path):
    assert run_cli("sample", "-o", tmp_path, "--2d").returncode == 0
    result = run_cli("autocorr", tmp_path / "noisy.tif", "--region", "0:128,0:256", "-o", tmp_path / "acf.png")
    assert result.returncode == 0, result.stderr
    assert "--mask horizontal:" in result.stdout
    assert (tmp_path / "acf.png").read_bytes()[:4] == b"\x89PNG"
    result = run_cli("autocorr", tmp_path / "noisy.tif", "--region", "0:128;0:256")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_denoise_auto_tunes_and_reports_the_choice(tmp_path):
    assert run_cli("sample", "-o", tmp_path, "--2d").returncode == 0
    out = tmp_path / "median.tif"
    result = run_cli("denoise", tmp_path / "noisy.tif", "-o", out, "--method", "median", "--auto")
    assert result.returncode == 0, result.stderr
    assert "auto-tuned Median: size" in result.stdout
    clean, noisy = read_image(tmp_path / "clean.tif").data, read_image(tmp_path / "noisy.tif").data
    assert psnr(clean, read_image(out).data) > psnr(clean, noisy) + 3.0
    result = run_cli("denoise", tmp_path / "noisy.tif", "-o", tmp_path / "x.tif", "--method", "median", "--auto",
                     "--size", "3")
    assert result.returncode == 2 and "--auto chooses --size" in result.stderr


def test_compare_writes_a_figure_and_a_csv_whose_psnr_matches_the_engine(tmp_path):
    import csv

    assert run_cli("sample", "-o", tmp_path, "--shape", "4", "64", "64").returncode == 0
    names = []
    for method in ("median", "diffusion", "nlm"):
        assert run_cli("denoise", tmp_path / "noisy.tif", "-o", tmp_path / f"{method}.tif",
                       "--method", method).returncode == 0
        names.append(tmp_path / f"{method}.tif")
    result = run_cli("compare", tmp_path / "noisy.tif", *names, "-o", tmp_path / "figure.png",
                     "--reference", tmp_path / "clean.tif", "--csv", tmp_path / "metrics.csv")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"
    rows = {row["image"]: row for row in csv.DictReader((tmp_path / "metrics.csv").open())}
    clean = read_image(tmp_path / "clean.tif").data
    for method in ("median", "diffusion", "nlm"):
        expected = psnr(clean, read_image(tmp_path / f"{method}.tif").data)
        assert float(rows[method]["psnr"]) == pytest.approx(expected, abs=1e-6)
    again = run_cli("compare", tmp_path / "noisy.tif", *names, "-o", tmp_path / "figure.png")
    assert again.returncode == 2 and "Traceback" not in again.stderr
