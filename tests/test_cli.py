"""The command line as a user runs it: real files and exit codes, main(argv) called in-process.

One smoke test starts ``main.py`` in a subprocess; the faults (read-only
folders, signals) are in tests/faults/test_cli_faults.py.
"""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.cli.parser import COMMANDS
from et_denoise.engine.compare.metrics import psnr
from et_denoise.engine.io import read_image, write_image

ROOT = Path(__file__).resolve().parents[1]
SHAPE = ["4", "64", "64"]


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``et-denoise ARGS``."""
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module", params=["tif", "mrc"])
def sample_dir(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"sample_{request.param}")
    assert main(["sample", "-o", str(folder), "--format", request.param, "--shape", *SHAPE]) == 0
    return folder, request.param


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """A working folder holding in.tif (16 x 16 noise) and notimage.tif (text)."""
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "in.tif", np.random.default_rng(0).random((64, 64)).astype(np.float32))
    (tmp_path / "notimage.tif").write_text("this is not a TIFF")
    return tmp_path


def test_the_entry_script_runs_a_command_in_its_own_process(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "sample", "-o", str(tmp_path), "--2d"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "noisy.tif").data.ndim == 2


@pytest.mark.parametrize("method, options", [
    ("median", ["--size", "3"]),
    ("diffusion", ["--iterations", "20"]),
    ("nlm", []),
])
def test_denoise_writes_float32_of_same_shape_that_beats_the_noisy_input(capsys, sample_dir, method, options):
    folder, ext = sample_dir
    out = folder / f"{method}.{ext}"
    code, _, err = run(capsys, "denoise", folder / f"noisy.{ext}", "-o", out, "--method", method, *options)
    assert code == 0, err
    noisy, clean, denoised = (read_image(folder / f"{n}.{ext}") for n in ("noisy", "clean", method))
    assert denoised.data.dtype == np.float32
    assert denoised.data.shape == noisy.data.shape
    assert psnr(clean.data, denoised.data) > psnr(clean.data, noisy.data) + 1.0
    assert denoised.voxel_size == pytest.approx(noisy.voxel_size)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_works_for_the_program_and_every_subcommand(capsys, command):
    code, out, _ = run(capsys, *([command] if command else []), "--help")
    assert code == 0 and out.startswith("usage:")
    if command in ("denoise", "train"):  # the parameters' options, with their help texts (one holds a %)
        assert "--iterations" in out or "--masked-fraction" in out


def test_a_mistyped_subcommand_is_refused_not_opened_as_a_file(capsys, in_tmp):
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "unknown command 'frobnicate'" in err and "denoise" in err


@pytest.mark.parametrize("args, message", [
    (["denoise", "missing.tif", "-o", "out.tif", "--method", "median"], "missing.tif"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "magic"], "invalid choice"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "median", "--iterations", "5"], "--iterations does not apply"),
    (["denoise", "in.tif", "-o", "out.tif", "--method", "median", "--size", "0"], "Size must be at least"),
    (["denoise", "in.tif", "-o", "in.tif", "--method", "median", "--overwrite"], "overwrite the input"),
    (["denoise", "in.tif", "-o", "out.tif"], "--method"),
    (["denoise", "notimage.tif", "-o", "out.tif", "--method", "median"], "notimage.tif"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "n2v"], "needs --model"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "n2v", "--model", "nowhere"], "nowhere"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "median", "--model", "m"], "--model applies only"),
    (["train", "in.tif", "--model", "m", "--mask", "diagonal:3"], "diagonal"),
    (["train", "in.tif", "--model", "m", "--mask", "none", "--mask-file", "x.txt"], "either --mask or --mask-file"),
    (["autocorr", "in.tif", "--region", "0:128;0:256"], "0:128;0:256"),
    (["compare", "in.tif", "in.tif", "-o", "f.png", "--data-range", "2"], "--data-range goes with --reference"),
])
def test_bad_arguments_and_input_exit_2_with_one_line(capsys, in_tmp, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert message in err


def test_existing_output_is_not_overwritten_without_asking(capsys, in_tmp):
    (in_tmp / "out.tif").write_bytes(b"precious")
    code, _, err = run(capsys, "denoise", "in.tif", "-o", "out.tif", "--method", "median")
    assert code == 2 and err.strip() == "error: out.tif already exists; add --overwrite to replace it"
    assert (in_tmp / "out.tif").read_bytes() == b"precious"
    assert run(capsys, "denoise", "in.tif", "-o", "out.tif", "--method", "median", "--overwrite")[0] == 0
    assert read_image(in_tmp / "out.tif").data.shape == (64, 64)


def test_train_then_denoise_with_the_model(capsys, tmp_path):
    assert run(capsys, "sample", "-o", tmp_path, "--shape", "4", "64", "64")[0] == 0
    model = tmp_path / "model"
    tiny = ["--epochs", "2", "--steps", "3", "--patch-size", "32", "--unet-depth", "1", "--unet-filters", "8",
            "--batch-size", "4", "--mask", "horizontal:5"]
    code, out, err = run(capsys, "train", tmp_path / "noisy.tif", "--model", model, *tiny)
    assert code == 0, err
    assert out.count("epoch ") == 2
    assert out.splitlines()[-1].startswith("Under-trained: 6 batches saw 25 k pixels")  # 6 × 4 × 32²
    code, _, err = run(capsys, "denoise", tmp_path / "noisy.tif", "-o", tmp_path / "n2v.tif", "--method", "n2v",
                       "--model", model)
    assert code == 0, err
    result = read_image(tmp_path / "n2v.tif")
    assert result.data.dtype == np.float32 and result.data.shape == (4, 64, 64)
    code, _, err = run(capsys, "train", tmp_path / "noisy.tif", "--model", model, *tiny)
    assert code == 2 and "--overwrite" in err


def test_autocorr_suggests_a_horizontal_mask_on_the_sample_and_saves_a_heat_map(capsys, tmp_path):
    assert run(capsys, "sample", "-o", tmp_path, "--2d")[0] == 0
    code, out, err = run(capsys, "autocorr", tmp_path / "noisy.tif", "--region", "0:128,0:256",
                         "-o", tmp_path / "acf.png")
    assert code == 0, err
    assert "--mask horizontal:" in out
    assert (tmp_path / "acf.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*partial*"))


def test_denoise_auto_tunes_and_reports_the_choice(capsys, tmp_path):
    assert run(capsys, "sample", "-o", tmp_path, "--2d")[0] == 0
    out_file = tmp_path / "median.tif"
    code, out, err = run(capsys, "denoise", tmp_path / "noisy.tif", "-o", out_file, "--method", "median", "--auto")
    assert code == 0, err
    assert "auto-tuned Median: size" in out
    clean, noisy = read_image(tmp_path / "clean.tif").data, read_image(tmp_path / "noisy.tif").data
    assert psnr(clean, read_image(out_file).data) > psnr(clean, noisy) + 3.0
    code, _, err = run(capsys, "denoise", tmp_path / "noisy.tif", "-o", tmp_path / "x.tif", "--method", "median",
                       "--auto", "--size", "3")
    assert code == 2 and "--auto chooses --size" in err


def test_compare_writes_a_figure_and_a_csv_whose_psnr_matches_the_engine(capsys, tmp_path):
    assert run(capsys, "sample", "-o", tmp_path, "--shape", "4", "64", "64")[0] == 0
    names = []
    for method in ("median", "diffusion", "nlm"):
        assert run(capsys, "denoise", tmp_path / "noisy.tif", "-o", tmp_path / f"{method}.tif",
                   "--method", method)[0] == 0
        names.append(tmp_path / f"{method}.tif")
    code, _, err = run(capsys, "compare", tmp_path / "noisy.tif", *names, "-o", tmp_path / "figure.png",
                       "--reference", tmp_path / "clean.tif", "--csv", tmp_path / "metrics.csv")
    assert code == 0, err
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"
    rows = {row["image"]: row for row in csv.DictReader((tmp_path / "metrics.csv").open())}
    clean = read_image(tmp_path / "clean.tif").data
    for method in ("median", "diffusion", "nlm"):
        expected = psnr(clean, read_image(tmp_path / f"{method}.tif").data)
        assert float(rows[method]["psnr"]) == pytest.approx(expected, abs=1e-6)
    code, _, err = run(capsys, "compare", tmp_path / "noisy.tif", *names, "-o", tmp_path / "figure.png")
    assert code == 2 and "figure.png already exists; add --overwrite" in err


def test_compare_against_a_constant_reference_takes_a_data_range(capsys, tmp_path):
    flat = np.zeros((64, 64), np.float32)
    write_image(tmp_path / "flat.tif", flat)
    write_image(tmp_path / "noisy.tif", flat + np.random.default_rng(1).normal(0, 0.1, flat.shape).astype(np.float32))
    args = ["compare", tmp_path / "noisy.tif", tmp_path / "noisy.tif", "-o", tmp_path / "f.png",
            "--reference", tmp_path / "flat.tif", "--csv", tmp_path / "m.csv"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "flat.tif: the reference is constant" in err
    assert not (tmp_path / "f.png").exists()
    code, _, err = run(capsys, *args, "--data-range", "1")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert float(rows[0]["psnr"]) == pytest.approx(20.0, abs=0.5)  # 10 log10(1 / 0.1²)


def test_sample_noise_models_and_autocorr_mask_out_that_train_reads_back_equal(capsys, tmp_path):
    from et_denoise.engine.n2v.masks import parse_mask

    assert run(capsys, "sample", "-o", tmp_path, "--shape", "32", "64", "64", "--noise", "fbp")[0] == 0
    noisy, clean = read_image(tmp_path / "noisy.tif").data, read_image(tmp_path / "clean.tif").data
    noise = noisy - clean
    assert np.mean(noise[..., 1:] * noise[..., :-1]) < -0.1 * np.mean(noise * noise)  # fbp's negative side lobe
    mask_file = tmp_path / "mask.txt"
    code, out, err = run(capsys, "autocorr", tmp_path / "noisy.tif", "--residual", tmp_path / "clean.tif", "--3d",
                         "--mask-out", mask_file)
    assert code == 0, err
    assert f"wrote {mask_file}" in out and "train in 3-D" in out
    mask = parse_mask(str(mask_file))
    assert mask.ndim == 3 and mask[tuple(s // 2 for s in mask.shape)] == 1
    model = tmp_path / "model"
    tiny = ["--mode", "3d", "--epochs", "1", "--steps", "2", "--patch-size", "16", "--unet-depth", "1",
            "--unet-filters", "4", "--batch-size", "2"]
    code, _, err = run(capsys, "train", tmp_path / "noisy.tif", "--model", model, "--mask-file", mask_file, *tiny)
    assert code == 0, err
    np.testing.assert_array_equal(parse_mask(str(model / "mask.txt")), mask)
    code, _, err = run(capsys, "sample", "-o", tmp_path / "x", "--noise", "ramp")
    assert code == 2 and "fbp" in err
