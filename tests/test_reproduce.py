"""Reproducing results: the generated commands, run as a user runs them, give the same data."""

import dataclasses
import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from et_denoise.cli.options import filter_owners, n2v_owners, params_from_args, params_options
from et_denoise.cli.parser import parse
from et_denoise.cli.reproduce import (SAMPLE_INPUT, ScriptEntry, model_folder, reproduce_commands,
                                      session_script, write_script)
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.n2v import N2VParams
from et_denoise.engine.sample import make_sample

SHAPE = (4, 48, 48)
MEDIAN = FILTERS["median"].params_type(size=3, footprint="disk")
DIFFUSION = FILTERS["diffusion"].params_type(iterations=7, kappa=1.7, gamma=0.1234567891, conduction="quadratic")


def run_bash(script: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_copied_command_run_in_a_shell_reproduces_the_result(tmp_path):
    folder = tmp_path / "my data"  # a space, so the paths must be quoted
    folder.mkdir()
    noisy = make_sample(SHAPE).noisy
    write_image(folder / "noisy.tif", noisy)
    expected = FILTERS["diffusion"].apply(noisy, DIFFUSION)
    [command] = reproduce_commands(str(folder / "noisy.tif"), str(folder / "result.tif"), DIFFUSION)
    done = run_bash(command, tmp_path)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(read_image(folder / "result.tif").data, expected, rtol=1e-6, atol=1e-6)


def test_a_session_script_on_the_sample_writes_the_sample_then_every_result(tmp_path):
    noisy = make_sample(SHAPE).noisy
    script = session_script(None, [ScriptEntry("Median", "median.tif", MEDIAN),
                                   ScriptEntry("Diffusion (2)", "diffusion 2.tif", DIFFUSION)], sample_shape=SHAPE)
    path = write_script(tmp_path / "session.sh", script)
    assert os.access(path, os.X_OK)
    done = subprocess.run([str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "median.tif" in done.stdout
    np.testing.assert_array_equal(read_image(tmp_path / SAMPLE_INPUT).data, noisy)
    np.testing.assert_allclose(read_image(tmp_path / "median.tif").data, FILTERS["median"].apply(noisy, MEDIAN),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(read_image(tmp_path / "diffusion 2.tif").data,
                               FILTERS["diffusion"].apply(noisy, DIFFUSION), rtol=1e-6, atol=1e-6)
    assert "# Diffusion (2)" in script and script.startswith("#!/usr/bin/env bash")


@pytest.mark.parametrize("method", list(FILTERS))
def test_every_parameter_is_written_and_reads_back_identical(method):
    params_type = FILTERS[method].params_type
    changed = {}
    for field in dataclasses.fields(params_type):
        if isinstance(field.default, bool):
            changed[field.name] = not field.default
        elif field.metadata.get("choices"):
            changed[field.name] = field.metadata["choices"][-1]
    params = params_type(**changed)
    [command] = reproduce_commands("in.tif", "out.tif", params)
    args = parse(shlex.split(command)[3:])
    assert (args.method, args.input, args.output) == (method, "in.tif", "out.tif")
    assert params_from_args(method, filter_owners(), args) == params


def test_booleans_and_floats_are_written_as_the_command_line_reads_them():
    nlm = FILTERS["nlm"].params_type(h=0.1 + 0.2, fast_mode=False)
    words = params_options(nlm)
    assert words[words.index("--h") + 1] == repr(0.1 + 0.2)
    assert "--no-fast-mode" in words and "--h-relative" in words


def test_n2v_results_are_reproduced_by_training_then_predicting():
    params = N2VParams(mask="vertical:5", epochs=3, seed=7, augment=False)
    train, denoise = reproduce_commands("tomo.mrc", "out/tomo_n2v.tif", params)
    args = parse(shlex.split(train)[3:])
    assert args.inputs == ["tomo.mrc"] and args.model == model_folder("out/tomo_n2v.tif") == "out/tomo_n2v_model"
    assert params_from_args("n2v", n2v_owners(), args) == params
    assert shlex.split(denoise)[3:] == ["denoise", "tomo.mrc", "-o", "out/tomo_n2v.tif", "--method", "n2v",
                                        "--model", "out/tomo_n2v_model"]


def test_results_without_command_line_parameters_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="no parameters"):
        reproduce_commands("in.tif", "out.tif", None)

    @dataclasses.dataclass(frozen=True)
    class Other:
        size: int = 1

    with pytest.raises(ParameterError, match="Other"):
        reproduce_commands("in.tif", "out.tif", Other())
    with pytest.raises(ParameterError, match="shape"):
        session_script(None, [ScriptEntry("m", "m.tif", MEDIAN)])
    script = session_script("in.tif", [ScriptEntry("Imported", "i.tif", None), ScriptEntry("m", "m.tif", MEDIAN)])
    assert "# Imported: not reproduced: this result has no parameters" in script
    assert script.rstrip().endswith("--method median --size 3 --footprint disk --mode 2d --overwrite")
    (tmp_path / "taken.sh").write_text("mine")
    with pytest.raises(FileExistsError):
        write_script(tmp_path / "taken.sh", "new")
    assert (tmp_path / "taken.sh").read_text() == "mine"


def test_a_result_name_with_a_newline_or_quotes_never_runs_as_code(tmp_path):
    noisy = make_sample(SHAPE).noisy
    write_image(tmp_path / "noisy.tif", noisy)
    hostile = "Median\ntouch pwned-by-name\x1b[2J\u202e"
    output = "out $(touch pwned-by-path) `touch pwned-by-tick`; touch pwned-by-semicolon '.tif"
    script = session_script(str(tmp_path / "noisy.tif"), [ScriptEntry(hostile, output, MEDIAN)])
    assert "# Median touch pwned-by-name[2J" in script.splitlines()
    done = run_bash(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert not [path.name for path in tmp_path.glob("pwned*")]
    np.testing.assert_allclose(read_image(tmp_path / output).data, FILTERS["median"].apply(noisy, MEDIAN),
                               rtol=1e-6, atol=1e-6)


def test_names_become_one_plain_line():
    from et_denoise.engine.describe import plain_text

    assert plain_text("a\tb\r\nc\u200f\u202e d\x00") == "a b c d"
