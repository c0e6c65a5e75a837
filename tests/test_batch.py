"""``batch``: many files, one setting or recipe, resumable after a killed run, with a summary CSV."""

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.recipe import Recipe, load_recipe, save_recipe
from et_denoise.engine.sample import make_sample

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def inputs(tmp_path):
    """Three small tomograms: two MRC files in a folder and one TIFF beside it."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for seed, name in enumerate(("t2.mrc", "t10.mrc")):
        paths.append(write_image(folder / name, make_sample(shape=(6, 40, 48), seed=seed).noisy,
                                 voxel_size=(9.0, 9.0, 9.0)))
    paths.append(write_image(tmp_path / "t3.tif", make_sample(shape=(5, 32, 40), seed=7).noisy))
    return paths


def summary_rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_batch_denoises_folders_and_files_as_denoise_does_and_writes_a_summary(capsys, inputs, tmp_path, monkeypatch):
    # The 1 GB budget is the slabs', whatever this test worker holds already (a network another test loaded).
    monkeypatch.setattr("et_denoise.engine.io.memory.process_private_memory", lambda: 0)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "batch", inputs[0].parent, inputs[2], "-o", out, "--method", "median",
                            "--mode", "3d", "--size", "3", "--memory", "1GB")
    assert code == 0, err
    params = FILTERS["median"].params_type(mode="3d", size=3)
    for source in (inputs[0], inputs[1], inputs[2]):  # t2 before t10: natural order in a folder
        result = read_image(out / source.name)
        np.testing.assert_array_equal(result.data, FILTERS["median"].apply(read_image(source).data, params))
        assert result.voxel_size == read_image(source).voxel_size
    rows = summary_rows(out / "batch-summary.csv")
    assert [Path(row["file"]).name for row in rows] == ["t2.mrc", "t10.mrc", "t3.tif"]
    assert [row["status"] for row in rows] == ["done"] * 3 and rows[2]["shape"] == "5×32×40"
    assert all(row["method"] == "Median" and float(row["seconds"]) >= 0 for row in rows)
    assert "[1/3] t2.mrc: wrote" in stdout and "batch: 3 denoised, 0 skipped (complete), 0 failed" in stdout


def test_a_second_run_skips_complete_outputs_and_redoes_others(capsys, inputs, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, "batch", *inputs, "-o", out, "--method", "diffusion")[0] == 0
    stamp = (out / "t2.mrc").stat().st_mtime_ns
    write_image(out / "t10.mrc", np.zeros((2, 40, 48), np.float32), overwrite=True)  # not a result of t10.mrc
    code, stdout, _ = run(capsys, "batch", *inputs, "-o", out, "--method", "diffusion")
    assert code == 0
    assert (out / "t2.mrc").stat().st_mtime_ns == stamp
    assert "t2.mrc is complete, skipped" in stdout
    np.testing.assert_array_equal(read_image(out / "t10.mrc").data, FILTERS["diffusion"].apply(read_image(inputs[1]).data))
    assert [row["status"] for row in summary_rows(out / "batch-summary.csv")] == ["skipped: complete", "done",
                                                                                 "skipped: complete"]


def test_a_recipe_file_and_a_model_folder_are_recipes(capsys, inputs, tmp_path):
    recipe = Recipe("nlm", FILTERS["nlm"].params_type(h=0.7, mode="2d"))
    path = save_recipe(tmp_path / "nlm.json", recipe)
    assert load_recipe(path) == recipe
    out = tmp_path / "out"
    assert run(capsys, "batch", inputs[2], "-o", out, "--recipe", path)[0] == 0
    np.testing.assert_array_equal(read_image(out / "t3.tif").data,
                                  FILTERS["nlm"].apply(read_image(inputs[2]).data, recipe.params))
    model = tmp_path / "model"
    model.mkdir()
    (model / "metadata.json").write_text("{}")
    assert load_recipe(model) == Recipe("n2v", None, model)


@pytest.mark.parametrize("text, message", [
    ("not json", "the recipe is not JSON"),
    ('{"method": "median"}', "this is not an ET Denoise recipe"),
    ('{"format": "et-denoise-recipe", "method": "magic"}', "unknown method 'magic'"),
    ('{"format": "et-denoise-recipe", "method": "median", "params": {"sise": 3}}', "gives sise, which median"),
    ('{"format": "et-denoise-recipe", "method": "median", "params": {"size": 0}}', "Size must be at least 1"),
    ('{"format": "et-denoise-recipe", "format_version": 9, "method": "median"}', "newer ET Denoise"),
])
def test_a_bad_recipe_is_refused_naming_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "recipe.json"
    path.write_text(text)
    with pytest.raises(ParameterError, match=message) as error:
        load_recipe(path)
    assert str(path) in str(error.value)


def test_a_file_that_fails_is_reported_and_the_others_are_denoised(capsys, inputs, tmp_path):
    broken = tmp_path / "broken.mrc"
    broken.write_bytes(b"not an MRC file at all" * 100)
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "batch", inputs[2], broken, "-o", out, "--method", "median")
    assert code == 2
    rows = summary_rows(out / "batch-summary.csv")
    assert rows[0]["status"] == "done" and rows[1]["status"].startswith("failed: ")
    assert "1 denoised, 0 skipped (complete), 1 failed" in stdout and not (out / "broken.mrc").exists()


@pytest.mark.parametrize("args, message", [
    (["--method", "median", "--recipe", "r.json"], "either --recipe or --method"),
    ([], "give --method (with its options) or --recipe FILE"),
    (["--method", "n2v"], "--method n2v needs --model DIR"),
])
def test_conflicting_or_missing_settings_are_refused(capsys, inputs, tmp_path, args, message):
    code, _, err = run(capsys, "batch", inputs[2], "-o", tmp_path / "out", *args)
    assert code == 2 and message in err


def test_two_inputs_with_one_name_are_refused_before_anything_is_written(capsys, inputs, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    write_image(other / "t3.tif", np.zeros((3, 16, 16), np.float32))
    code, _, err = run(capsys, "batch", inputs[2], other / "t3.tif", "-o", tmp_path / "out", "--method", "median")
    assert code == 2 and "would both be written to" in err and not (tmp_path / "out").exists()


def test_a_killed_batch_resumes_where_it_stopped(inputs, tmp_path):
    """SIGKILL while the second file is written: the rerun keeps the first, redoes the second, does the third."""
    out = tmp_path / "out"
    stall = textwrap.dedent("""
        import time
        import et_denoise.engine.volume.pipeline as pipeline
        original = pipeline.denoise_to_file
        calls = []
        def stalled(volume, output, *args, progress=None, **kwargs):
            calls.append(output)

            def stall(fraction):  # the second file: stall once its partial file holds a header
                if len(calls) == 2:
                    output.with_name("." + output.name + ".stalled").write_text("")
                    time.sleep(600)
            return original(volume, output, *args, progress=stall, **kwargs)
        pipeline.denoise_to_file = stalled
        import et_denoise.cli.batch
    """)
    patch_import = "import et_denoise.engine.volume as volume_package\nvolume_package.denoise_to_file = pipeline.denoise_to_file\n"
    args = ["batch", *map(str, inputs), "-o", str(out), "--method", "median"]
    code = stall + patch_import + f"import sys\nsys.argv = ['main.py', *{args!r}]\n" + \
        f"import runpy\nrunpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')\n"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / ".t10.mrc.stalled").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (out / "t2.mrc").exists() and not (out / "t10.mrc").exists()
    assert [name for name in os.listdir(out) if ".partial" in name]  # killed: nothing could clean up
    assert [row["status"] for row in summary_rows(out / "batch-summary.csv")] == ["done"]
    first = (out / "t2.mrc").stat().st_mtime_ns

    rerun = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "t2.mrc").stat().st_mtime_ns == first
    assert [row["status"] for row in summary_rows(out / "batch-summary.csv")] == ["skipped: complete", "done", "done"]
    for source in inputs:
        np.testing.assert_array_equal(read_image(out / source.name).data, FILTERS["median"].apply(read_image(source).data))
    assert not [name for name in os.listdir(out) if ".partial" in name]
