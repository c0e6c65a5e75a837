"""``denoise --memory``: the command line denoises in slabs within the budget, and says when one slab cannot fit."""

import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``et-denoise ARGS``."""
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def holding(monkeypatch):
    """``holding(nbytes)``: the process holds that much memory besides the slabs (0 unless a test says)."""
    def hold(nbytes):
        monkeypatch.setattr("et_denoise.cli.handlers.process_private_memory", lambda: nbytes)

    hold(0)  # budgets of a few kB below: the test process's own hundreds of MB are not the point
    return hold


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    assert main(["sample", "-o", str(folder), "--format", "mrc", "--shape", "13", "40", "48"]) == 0
    return folder / "noisy.mrc"


@pytest.mark.parametrize("method, options", [("median", ["--mode", "3d"]), ("diffusion", ["--mode", "3d", "--iterations", "4"]),
                                             ("nlm", ["--mode", "3d", "--patch-size", "3", "--patch-distance", "2"])])
def test_a_small_budget_gives_the_result_of_the_default_budget_and_of_the_whole_volume(
        capsys, sample, tmp_path, method, options):
    small, default = tmp_path / "small.mrc", tmp_path / "default.mrc"
    code, out, err = run(capsys, "denoise", sample, "-o", small, "--method", method, *options, "--memory", "300kB")
    assert code == 0, err
    assert run(capsys, "denoise", sample, "-o", default, "--method", method, *options)[0] == 0
    extra = {"nlm": {"patch_size": 3, "patch_distance": 2}, "diffusion": {"iterations": 4}}.get(method, {})
    params = FILTERS[method].params_type(mode="3d", **extra)
    expected = FILTERS[method].apply(read_image(sample).data, params)
    data = read_image(sample).data
    tolerance = 0 if method == "median" else 1e-5 * float(np.ptp(data))
    np.testing.assert_allclose(read_image(small).data, read_image(default).data, rtol=0, atol=tolerance)
    np.testing.assert_allclose(read_image(small).data, expected, rtol=0, atol=tolerance)
    assert f"wrote {small} (13, 40, 48) float32" in out


def test_a_budget_below_one_slab_is_one_line_naming_the_budget_it_needs(capsys, sample, tmp_path):
    code, out, err = run(capsys, "denoise", sample, "-o", tmp_path / "o.mrc", "--method", "median", "--mode", "3d",
                         "--memory", "10kB")
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and line.startswith(f"error: {sample}: one slab of 40×48 planes with its halo of 2 planes")
    assert "more than the memory budget of 10.0 kB; give --memory" in line and "or use 2-D mode" in line
    assert not (tmp_path / "o.mrc").exists()


def test_the_memory_the_program_holds_counts_against_the_budget(capsys, sample, tmp_path, holding):
    holding(999_990_000)
    code, _, err = run(capsys, "denoise", sample, "-o", tmp_path / "o.mrc", "--method", "median", "--memory", "1GB")
    assert code == 2
    assert "more than the memory budget of 1.0 GB less the 1000.0 MB the program holds; give --memory 1.1GB" in err
    holding(0)
    assert run(capsys, "denoise", sample, "-o", tmp_path / "o.mrc", "--method", "median", "--memory", "1GB")[0] == 0


@pytest.mark.parametrize("text", ["lots", "-4GB", "4 parsecs", "0"])
def test_a_memory_size_that_is_not_one_is_refused(capsys, sample, tmp_path, text):
    code, _, err = run(capsys, "denoise", sample, "-o", tmp_path / "o.mrc", "--method", "median", f"--memory={text}")
    assert code == 2 and "a memory size needs a positive number and a unit, such as 4GB" in err
