"""``main.py --self-test``: the installation check users and CI run (from source here)."""

import re

import numba

from et_denoise.cli import main
from et_denoise.engine.filters import FILTERS

#: One check per classic filter (every method in FILTERS), between numba and StructN2V.
CHECKS = ("sample", "numba", *FILTERS, "structn2v", "export", "tiff", "mrc", "ome-zarr", "slabs", "figure")


def self_test(capsys):
    code = main(["--self-test"])
    lines = capsys.readouterr().out.splitlines()
    return code, lines


def _broken_training(*args, **kwargs):
    raise RuntimeError("no network today")


def test_every_check_passes_from_source(capsys):
    code, lines = self_test(capsys)
    assert code == 0, "\n".join(lines)
    assert [line.split()[:2] for line in lines[:-1]] == [["ok", name] for name in CHECKS]
    assert lines[-1].startswith(f"self-test passed: {len(CHECKS)} checks")
    assert re.search(r"\((CPU|GPU)\b", next(line for line in lines if "structn2v" in line))  # names the device


def test_a_failing_check_is_named_in_the_verdict_and_exits_1(capsys, monkeypatch):
    monkeypatch.setattr("et_denoise.engine.n2v.train", _broken_training)
    code, lines = self_test(capsys)
    assert code == 1
    verdict = lines[-1]
    assert verdict.startswith("self-test FAILED: structn2v (RuntimeError: no network today); "
                              "export (skipped: structn2v failed); ")
    assert f"; {len(CHECKS) - 2} of {len(CHECKS)} passed in " in verdict
    assert not any("Traceback" in line for line in lines)
    assert [line.split()[1] for line in lines[:-1] if line.startswith("ok")] == \
        [name for name in CHECKS if name not in ("structn2v", "export")]


def test_unsafe_threading_layer_fails_numba_and_skips_the_filters(capsys, monkeypatch):
    monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
    monkeypatch.setattr("et_denoise.engine.n2v.train", _broken_training)
    code, lines = self_test(capsys)
    assert code == 1
    assert "threading layer 'workqueue' is not thread-safe" in lines[-1]
    for name in ("median", "diffusion", "nlm"):
        assert f"{name} (skipped: numba failed)" in lines[-1]
        assert f"SKIPPED {name:<11} needs numba" in lines

