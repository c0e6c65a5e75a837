"""Faults while writing and reading (issue #12): a full disk, races, crafted files, bad paths.

Each case ends in one clear line (an ImageError or ModelError, or ``error: ...``
from the command line, never a traceback or a temporary name), the input is
unchanged, no partial file remains, and an existing output or model is intact.
"""

import hashlib
import os
import signal
import struct
import subprocess
import sys
import textwrap

import mrcfile
import numpy as np
import pytest
import tifffile

import et_denoise.engine.io.files
import et_denoise.engine.io.memory
from et_denoise.engine.errors import ImageError
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.io.partial_files import partial_path, remove_partial_files, staging_folder, tracked

VOLUME = np.random.default_rng(0).normal(100, 10, (8, 256, 256)).astype(np.float32)  # 2 MB: more than the disk


def checksum(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def hidden_files(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def assert_one_clear_line(message: str, *names) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message
    assert ".partial" not in message, "no temporary name in the message"
    for name in names:
        assert name in message


# ---------------------------------------------------------------- a full disk


@pytest.mark.parametrize("name", ["o.mrc", "o.rec", "o.tif"])
def test_full_disk_is_a_clear_error_and_leaves_nothing(small_disk, name):
    with pytest.raises(ImageError) as error:
        write_image(small_disk / name, VOLUME)
    assert_one_clear_line(str(error.value), name, "No space left on device")
    assert os.listdir(small_disk) == []


def test_full_disk_keeps_the_existing_output(small_disk, fill_disk):
    path = write_image(small_disk / "o.mrc", VOLUME[:1, :64, :64])
    before = checksum(path)
    fill_disk(small_disk)
    with pytest.raises(ImageError, match="No space left on device"):
        write_image(path, VOLUME, overwrite=True)
    assert checksum(path) == before
    assert hidden_files(small_disk) == []


def test_command_line_denoise_into_a_full_disk(small_disk, tmp_path):
    source = write_image(tmp_path / "in.mrc", VOLUME)
    before = checksum(source)
    run = subprocess.run([sys.executable, "-m", "et_denoise", "denoise", str(source), "-o",
                          str(small_disk / "o.mrc"), "--method", "median"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ")
    assert_one_clear_line(run.stderr, "o.mrc", "No space left on device")
    assert checksum(source) == before
    assert os.listdir(small_disk) == []


def test_self_test_with_a_full_temporary_folder_reports_and_exits(small_disk, fill_disk):
    fill_disk(small_disk, leave=64 * 1024)  # room for small files (tempfile checks it can write), not for images
    run = subprocess.run([sys.executable, "-m", "et_denoise", "--self-test"], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "TMPDIR": str(small_disk)})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "FAILED" in run.stdout and "No space left on device" in run.stdout
    assert hidden_files(small_disk) == []


# ---------------------------------------------------------------- a model into a full disk

TRAIN = ["train", "--patch-size", "32", "--epochs", "2", "--steps", "3", "--batch-size", "4",
         "--unet-depth", "2", "--unet-filters", "8"]


def train_command(source, model, *options, env=None):
    return subprocess.run([sys.executable, "-m", "et_denoise", *TRAIN, *options, "--model", str(model), str(source)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def test_training_into_a_full_disk_keeps_the_old_model_and_says_so(small_disk, fill_disk, tmp_path):
    """``train --overwrite`` with no room for the new model: one line, exit 2, the old model intact.

    The temporary folder is on the full disk too, where n2v's HDF5 checkpoints
    printed tracebacks and crashed the process (SIGSEGV).
    """
    source = write_image(tmp_path / "in.tif", VOLUME[0, :96, :112])
    before = checksum(source)
    model = small_disk / "model"
    first = train_command(source, model)
    assert first.returncode == 0, first.stderr
    saved = {path.name: checksum(path) for path in model.iterdir()}
    assert {"metadata.json", "config.json", "weights_best.h5", "mask.txt"} <= saved.keys()
    fill_disk(small_disk, leave=64 * 1024)

    second = train_command(source, model, "--overwrite", env={"TMPDIR": str(small_disk)})
    assert second.returncode == 2, second.stdout + second.stderr
    assert_one_clear_line(second.stderr, "error: cannot save the model to", "No space left on device",
                          "a model already there is kept as it was")
    assert "HDF5" not in second.stderr
    assert {path.name: checksum(path) for path in model.iterdir()} == saved
    assert hidden_files(small_disk) == []
    assert checksum(source) == before


def test_a_replaced_model_folder_keeps_the_users_own_files_and_a_failed_one_changes_nothing(tmp_path):
    folder = tmp_path / "model"
    with staging_folder(folder, owned=("mask.txt",)) as staging:
        (staging / "weights_best.h5").write_text("old weights")
        (staging / "mask.txt").write_text("1 1 1")
    (folder / "notes.txt").write_text("the user's notes")

    with pytest.raises(OSError):
        with staging_folder(folder, owned=("mask.txt",)) as staging:
            (staging / "weights_best.h5").write_text("half")
            raise OSError(28, "No space left on device")
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        "weights_best.h5": "old weights", "mask.txt": "1 1 1", "notes.txt": "the user's notes"}
    assert hidden_files(tmp_path) == []

    with staging_folder(folder, owned=("mask.txt",)) as staging:
        (staging / "weights_best.h5").write_text("new weights")  # a plain N2V model: no mask
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        "weights_best.h5": "new weights", "notes.txt": "the user's notes"}
    assert hidden_files(tmp_path) == []


def test_loading_a_model_again_and_again_keeps_memory_flat(tmp_path):
    """Measured in a fresh process, so that what other tests left behind does not count."""
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from et_denoise.engine.n2v import N2VParams, TrainedModel, train

        folder = {str(tmp_path / "model")!r}
        params = N2VParams(patch_size=32, epochs=1, steps_per_epoch=2, batch_size=4, unet_depth=2, unet_filters=8)
        train([np.random.default_rng(0).normal(size=(96, 112)).astype(np.float32)], params, model_dir=folder)

        def resident_mb():
            return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

        for _ in range(5):  # warm-up: allocator pools and caches settle
            TrainedModel.load(folder)
        start = resident_mb()
        for _ in range(12):
            TrainedModel.load(folder)
        print((resident_mb() - start) / 12)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout.split()[-1]) < 0.6, "each load grew memory by 1.9 MB before"


# ---------------------------------------------------------------- two writers


def test_a_file_created_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "o.mrc"
    write = et_denoise.engine.io.files.write_mrc

    def racing(stream, *args, **kwargs):
        write(stream, *args, **kwargs)
        path.write_bytes(b"the other process's result")

    monkeypatch.setattr(et_denoise.engine.io.files, "write_mrc", racing)
    with pytest.raises(ImageError) as error:
        write_image(path, VOLUME[0])
    assert_one_clear_line(str(error.value), "o.mrc", "another program created this file")
    assert path.read_bytes() == b"the other process's result"
    assert os.listdir(tmp_path) == ["o.mrc"]


# ---------------------------------------------------------------- partial files


def test_partial_of_a_killed_run_is_removed_by_the_next_write(tmp_path):
    """A writer killed with SIGKILL leaves its partial; the next write to the folder removes it."""
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import et_denoise.engine.io.files as files
        from et_denoise.engine.io import write_image

        def stuck(stream, *args):
            stream.write(b"x" * 4096); stream.flush()
            print("writing", flush=True)
            time.sleep(600)

        files._FORMATS[".mrc"] = files._FORMATS[".mrc"]._replace(write=stuck)
        write_image({str(tmp_path / "killed.mrc")!r}, np.zeros((4, 4), np.float32))
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    (partial,) = hidden_files(tmp_path)
    assert partial.startswith(".killed.") and ".partial" in partial
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert hidden_files(tmp_path) == [partial], "kill -9 leaves it"

    write_image(tmp_path / "next.tif", VOLUME[0])
    assert os.listdir(tmp_path) == ["next.tif"]


def test_partials_of_a_running_writer_are_kept_and_removed_on_request(tmp_path):
    """Another live process's partial is never touched; a SIGTERM handler removes this process's own."""
    live = tmp_path / f".other.00000000-{os.getppid()}-0123abcd.partial.mrc"
    live.write_bytes(b"busy")
    with tracked(partial_path(tmp_path / "mine.mrc")) as mine:
        mine.write_bytes(b"half")
        write_image(tmp_path / "next.tif", VOLUME[0])
        assert mine.exists() and live.exists()
        remove_partial_files()
        assert not mine.exists()
    assert live.exists()


def test_a_long_name_still_gets_a_valid_partial_name(tmp_path):
    name = "é" * 125 + ".mrc"  # 254 bytes, the longest a name may be
    path = write_image(tmp_path / name, VOLUME[0])
    assert os.listdir(tmp_path) == [name]
    np.testing.assert_array_equal(read_image(path).data, VOLUME[0])


# ---------------------------------------------------------------- what cannot be read back


def test_x_of_1_round_trips_through_tiff(tmp_path):
    data = VOLUME[:, :20, :1]
    path = write_image(tmp_path / "thin.tif", data, voxel_size=(2.0, 2.0, 2.0))
    np.testing.assert_array_equal(read_image(path).data, data)


@pytest.mark.parametrize("data, problem", [
    (np.full((16, 16), np.nan, np.float32), "NaN or infinite values"),
    (np.full((16, 16), np.inf, np.float32), "NaN or infinite values"),
    (np.full((4, 16, 16), 1e300), "values too large for float32"),
], ids=["all-nan", "all-inf", "float64-beyond-float32"])
@pytest.mark.parametrize("name", ["o.mrc", "o.tif"])
def test_non_finite_results_are_never_written(tmp_path, data, problem, name):
    with pytest.raises(ImageError) as error:
        write_image(tmp_path / name, data)
    assert_one_clear_line(str(error.value), name, problem, "nothing was saved")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("size", [1e-30, 1e30])
def test_tiff_voxel_size_out_of_range_is_refused_not_dropped(tmp_path, size):
    with pytest.raises(ImageError) as error:
        write_image(tmp_path / "o.tif", VOLUME[0], voxel_size=(size,) * 3)
    assert_one_clear_line(str(error.value), "cannot be stored in a TIFF file")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("size", [1e-5, 3.42, 5e8])
def test_tiff_voxel_size_is_kept_in_a_unit_that_holds_it(tmp_path, size):
    path = write_image(tmp_path / "o.tif", VOLUME[0], voxel_size=(size,) * 3)
    assert read_image(path).voxel_size == pytest.approx((size,) * 3, rel=1e-5)


@pytest.mark.parametrize("name", ["o.mrc", "o.tif"])
def test_big_endian_data_are_converted(tmp_path, name):
    path = write_image(tmp_path / name, VOLUME.astype(">f4"))
    np.testing.assert_array_equal(read_image(path).data, VOLUME)


# ---------------------------------------------------------------- crafted files


def test_mrc_announcing_a_huge_extended_header_is_refused_before_reading_it(tmp_path):
    path = tmp_path / "crafted.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(VOLUME[:2, :64, :64])
    raw = bytearray(path.read_bytes())
    struct.pack_into("<i", raw, 92, 2_000_000_000)  # nsymbt: 2 GB of extended header in a 33 kB file
    path.write_bytes(raw)
    before = checksum(path)
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert_one_clear_line(str(error.value), "crafted.mrc", "extended header of 2000000000 bytes")
    assert checksum(path) == before


def test_compressed_tiff_bigger_than_memory_is_refused_naming_both_sizes(tmp_path, monkeypatch):
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((3000, 3000), np.uint16), compression="zlib")  # 18 MB in 30 kB
    monkeypatch.setattr(et_denoise.engine.io.memory, "available_memory", lambda: 10 * 1000**2)
    with pytest.raises(ImageError) as error:
        read_image(path)
    assert_one_clear_line(str(error.value), "bomb.tif", "not enough memory", "18.0 MB", "10.0 MB")


def sparse_mrc(path, shape):
    """An int16 MRC file of ``shape`` whose data are a hole in the file (no disk used)."""
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((1, 1, 1), np.int16))
        mrc.header.nz = mrc.header.mz = shape[0]
        mrc.header.ny = mrc.header.my = shape[1]
        mrc.header.nx = mrc.header.mx = shape[2]
    with open(path, "r+b") as stream:
        stream.truncate(1024 + int(np.prod(shape, dtype=np.int64)) * 2)


def test_denoising_a_volume_whose_planes_do_not_fit_in_memory_is_refused_before_allocating(tmp_path):
    """A sparse 40 GB MRC of two 100000×100000 planes: even one plane (22 bytes a pixel for the median) is more than
    the memory budget."""
    path = tmp_path / "sparse.mrc"
    sparse_mrc(path, (2, 100_000, 100_000))
    run = subprocess.run([sys.executable, "-m", "et_denoise", "denoise", str(path), "-o", str(tmp_path / "o.mrc"),
                          "--method", "median"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert_one_clear_line(run.stderr, "error: ", "one slab of 100000×100000 planes needs 220.0 GB for Median",
                          "more than the memory budget of", "this machine has")
    assert sorted(os.listdir(tmp_path)) == ["sparse.mrc"]


def test_denoising_into_a_folder_without_room_for_the_result_is_refused_at_once(tmp_path):
    """A sparse 2 TB MRC is denoised in slabs, but its 4 TB float32 result cannot fit: refused before computing."""
    path = tmp_path / "sparse.mrc"
    sparse_mrc(path, (1_000_000, 1000, 1000))
    run = subprocess.run([sys.executable, "-m", "et_denoise", "denoise", str(path), "-o", str(tmp_path / "o.mrc"),
                          "--method", "median", "--memory", "1GB"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert_one_clear_line(run.stderr, "error: ", "not enough disk space for the result: it needs 4.0 TB")
    assert sorted(os.listdir(tmp_path)) == ["sparse.mrc"]


# ---------------------------------------------------------------- arguments that are not file names


@pytest.mark.parametrize("path, fragment", [
    (None, "a file name (text) is needed, not NoneType"),
    (3, "a file name (text) is needed, not int"),
    (b"image.mrc", "a file name (text) is needed, not bytes"),
    ("ima\0ge.mrc", "contains a NUL character"),
    ("", "no file name was given"),
    ("a" * 300 + ".mrc", "is 304 bytes long; the limit is 255"),
    ("a/" * 2100 + "b.mrc", "the limit is 4095"),
])
@pytest.mark.parametrize("action", ["read", "write"])
def test_bad_path_arguments_raise_image_error(tmp_path, monkeypatch, path, fragment, action):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageError) as error:
        read_image(path) if action == "read" else write_image(path, VOLUME[0])
    assert_one_clear_line(str(error.value), fragment)
    assert os.listdir(tmp_path) == []
