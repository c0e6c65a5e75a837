"""Faults on the command line (issue #12): each is one clear line and exit code 2, found before computing.

Every case checks what a user would see and lose: the exit code, one line
naming the file and the problem (no traceback, no temporary file name), the
input unchanged, no partial file left and an existing output intact.  The
signal cases run ``main.py`` in a subprocess and send it real signals.
"""

import hashlib
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import tifffile
import pytest

from et_denoise.cli import main
from et_denoise.engine.io import read_image, write_image

ROOT = Path(__file__).resolve().parents[2]
IMAGE = np.random.default_rng(0).normal(100, 10, (4, 64, 64)).astype(np.float32)
TINY_TRAINING = ["--steps", "2", "--patch-size", "16", "--unet-depth", "1", "--unet-filters", "4",
                 "--batch-size", "2", "--mask", "horizontal:3", "--no-augment"]


def checksum(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def partials(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".partial" in name or name.startswith(".et-denoise"))


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with in.tif, an existing output kept.tif and a folder sub/."""
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "in.tif", IMAGE)
    (tmp_path / "kept.tif").write_bytes(b"an existing output")
    (tmp_path / "sub").mkdir()
    return tmp_path


def refused(capsys, folder, *args) -> str:
    """Run the command; assert exit 2, one clean line, input and existing output intact, nothing left behind."""
    before = {name: checksum(folder / name) for name in ("in.tif", "kept.tif")}
    listing = sorted(os.listdir(folder))
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    assert code == 2, err
    message = err.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error: "), err
    assert "Traceback" not in err and ".partial" not in err
    assert {name: checksum(folder / name) for name in before} == before
    assert sorted(os.listdir(folder)) == listing and not partials(folder)
    return message


@pytest.fixture
def read_only(tmp_path):
    """A folder holding kept.tif on a read-only file system (a real one where we may mount, else chmod)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    (folder / "kept.tif").write_bytes(b"an existing output")
    if mounted.returncode == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    elif os.geteuid() != 0:
        folder.chmod(0o555)
    else:
        pytest.skip("root without mount: no folder is read-only")
    try:
        yield folder
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        else:
            folder.chmod(0o755)


def test_a_read_only_output_folder_is_refused_before_the_input_is_read(capsys, work, read_only, monkeypatch):
    def not_to_be_read(*args, **kwargs):
        raise AssertionError("the input was read although the output cannot be written")

    monkeypatch.setattr("et_denoise.engine.io.read_image", not_to_be_read)
    for name in ("out.tif", "kept.tif"):
        message = refused(capsys, work, "denoise", "in.tif", "-o", read_only / name, "--method", "median",
                          "--overwrite")
        assert f"{read_only / name}: cannot write into the folder" in message
        assert "Read-only file system" in message or "Permission denied" in message
    assert (read_only / "kept.tif").read_bytes() == b"an existing output"
    assert os.listdir(read_only) == ["kept.tif"]


@pytest.mark.parametrize("args, expected", [
    (["denoise", "in.tif", "-o", "a" * 300 + ".tif", "--method", "median"], "is 304 bytes long; the limit is 255"),
    (["denoise", "in.tif", "-o", "sub", "--method", "median"], "sub: this is a folder; -o needs a file name"),
    (["denoise", "in.tif", "-o", "", "--method", "median"], "-o: no file name was given"),
    (["denoise", "in.tif", "-o", "kept.tif", "--method", "median"], "kept.tif already exists; add --overwrite"),
    (["denoise", "in.tif", "-o", "o.tif", "--method", "n2v", "--model", "in.tif"],
     "in.tif: this is a file; --model needs the model folder"),
    (["train", "in.tif", "--model", "in.tif"], "in.tif: this is a file; --model needs a folder"),
    (["autocorr", "in.tif", "-o", "missing/acf.png"], "missing/acf.png: the folder missing does not exist"),
    (["compare", "in.tif", "in.tif", "-o", "figure.png", "--csv", "missing/m.csv"],
     "missing/m.csv: the folder missing does not exist"),
    (["compare", "in.tif", "in.tif", "-o", "figure.png", "--csv", "kept.tif"], "kept.tif already exists"),
    (["compare", "in.tif", "in.tif", "-o", "same.png", "--csv", "same.png"], "same.png: given twice as an output"),
    (["sample", "-o", "in.tif"], "in.tif: this is a file; -o needs a folder"),
    (["sample", "-o", "s", "--seed", "-1"], "argument --seed: -1 is out of range"),
    (["sample", "-o", "s", "--shape", "4", "0", "64"], "argument --shape: 0 is out of range"),
    (["train", "in.tif", "--model", "m", "--mask", "square:99999999999"], "mask length must be an odd number"),
    (["autocorr", "in.tif", "--radius", "0"], "argument --radius: 0 is out of range"),
])
def test_bad_outputs_and_values_are_one_line_before_anything_is_written(capsys, work, args, expected):
    assert expected in refused(capsys, work, *args)


def test_an_mrc_header_with_a_negative_dimension_is_a_damaged_file(capsys, work):
    write_image(work / "neg.mrc", IMAGE)
    header = bytearray((work / "neg.mrc").read_bytes())
    header[0:4] = struct.pack("<i", -5)
    (work / "neg.mrc").write_bytes(bytes(header))
    message = refused(capsys, work, "denoise", "neg.mrc", "-o", "out.tif", "--method", "median")
    assert message.startswith("error: neg.mrc: ") and "damaged" in message


def test_float64_data_beyond_float32s_range_are_refused_before_an_infinite_result(capsys, work):
    tifffile.imwrite(work / "huge.tif", np.full((16, 16), 1e300))
    message = refused(capsys, work, "denoise", "huge.tif", "-o", "out.tif", "--method", "median")
    assert "holds values up to 1e+300, too large to compute with in float32" in message


# ---------------------------------------------------------------- signals, in a real process

def start(*args, driver: str = "", cwd) -> subprocess.Popen:
    """``main.py ARGS`` in a new process, after ``driver`` (Python run first, to slow a step down)."""
    if not driver:
        return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=cwd,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code = textwrap.dedent(f"""
        import runpy, sys
        sys.argv = ["main.py", *{[str(arg) for arg in args]!r}]
    """) + textwrap.dedent(driver) + f"\nrunpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')\n"
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def read_until(process: subprocess.Popen, start: str) -> None:
    """Read the process's output up to a line that starts with ``start``."""
    for line in process.stdout:
        if line.startswith(start):
            return
    raise AssertionError(f"no line starting with {start!r}; stderr: {process.stderr.read()}")


def wait_for(predicate, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_ctrl_c_during_start_up_and_during_the_write_stops_at_once_and_leaves_no_file(tmp_path):
    write_image(tmp_path / "in.tif", IMAGE)
    (tmp_path / "out.tif").write_bytes(b"an existing output")
    before = checksum(tmp_path / "in.tif"), checksum(tmp_path / "out.tif")

    early = start("denoise", "in.tif", "-o", "out.tif", "--method", "median", "--overwrite", cwd=tmp_path)
    time.sleep(0.5)  # Python is starting or importing numpy and scipy
    early.send_signal(signal.SIGINT)
    _, err = early.communicate(timeout=60)
    assert early.returncode in (130, -signal.SIGINT) and "Traceback" not in err

    slow_write = """
        import time
        import et_denoise.engine.io.files as files
        def slow(stream, *args):
            stream.write(b"half a file"); stream.flush()
            time.sleep(60)
        files.write_tiff = slow
    """
    writing = start("denoise", "in.tif", "-o", "out.tif", "--method", "median", "--overwrite", driver=slow_write,
                    cwd=tmp_path)
    wait_for(lambda: partials(tmp_path))
    writing.send_signal(signal.SIGINT)
    _, err = writing.communicate(timeout=10)
    assert writing.returncode == 130 and err.strip() == "cancelled"
    assert (checksum(tmp_path / "in.tif"), checksum(tmp_path / "out.tif")) == before
    assert not partials(tmp_path)


def test_ctrl_c_while_training_prepares_ends_at_once_and_saves_nothing(tmp_path):
    write_image(tmp_path / "in.tif", IMAGE)
    announce = """
        import et_denoise.engine.n2v.training as training
        make = training.make_training_data
        def announced(*args, **kwargs):
            print("preparing", flush=True)
            return make(*args, **kwargs)
        training.make_training_data = announced
    """
    run = start("train", "in.tif", "--model", "model", "--epochs", "1", *TINY_TRAINING, driver=announce,
                cwd=tmp_path)
    read_until(run, "preparing")
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and err.strip().endswith("cancelled") and "Traceback" not in err
    assert time.monotonic() - sent < 10  # 0.01 s here; it took 20 s when TensorFlow prepared the first batch first
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_sigterm_during_training_stops_it_like_ctrl_c_and_keeps_the_best_weights(tmp_path):
    write_image(tmp_path / "in.tif", IMAGE)
    run = start("train", "in.tif", "--model", "model", "--epochs", "500", *TINY_TRAINING, cwd=tmp_path)
    read_until(run, "epoch 1/500 ")
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "stopped early: the best weights so far are kept" in out and "saved model to model" in out
    from et_denoise.engine.n2v import TrainedModel

    model = TrainedModel.load(tmp_path / "model")
    assert 1 <= len(model.history.loss) < 500
    assert read_image(tmp_path / "in.tif").data.shape == IMAGE.shape
