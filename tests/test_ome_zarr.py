"""OME-Zarr input and output: OME-NGFF 0.4 stores read lazily by chunks and written slab by slab, all or nothing."""

import json
import os

import numpy as np
import pytest
import zarr

from et_denoise.cli import main
from et_denoise.engine.errors import Cancelled, ImageError, OutputExistsError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import SUPPORTED_EXTENSIONS, ImageData, SlabStream, open_image_lazily, read_image, write_image
from et_denoise.engine.io.zarr_store import chunk_shape

VOLUME = np.random.default_rng(7).normal(size=(40, 64, 72)).astype(np.float32)


def blocks_of(volume, planes):
    return SlabStream(volume.shape, volume.dtype,
                      lambda: (volume[start:start + planes] for start in range(0, len(volume), planes)))


def ome_store(path, data, axes, scale=None, translation=None):
    """An OME-NGFF 0.4 store written with zarr itself (as other programs write them)."""
    root = zarr.open_group(str(path), mode="w")
    root.create_dataset("0", data=data, chunks=data.shape, dimension_separator="/")
    transforms = [{"type": "scale", "scale": scale or [1.0] * data.ndim}]
    if translation is not None:
        transforms.append({"type": "translation", "translation": translation})
    root.attrs["multiscales"] = [{"version": "0.4", "axes": axes,
                                  "datasets": [{"path": "0", "coordinateTransformations": transforms}]}]
    return path


def entries(folder):
    return sorted(os.listdir(folder))


def test_zarr_is_a_supported_extension_both_ways():
    assert ".zarr" in SUPPORTED_EXTENSIONS["read"] and ".zarr" in SUPPORTED_EXTENSIONS["write"]


def test_write_then_read_gives_the_volume_with_its_voxel_size_and_origin(tmp_path):
    path = write_image(tmp_path / "tomo.ome.zarr", VOLUME, voxel_size=(13.6, 13.5, 13.4), origin=(-20.0, 5.5, 0.25))
    assert entries(tmp_path) == ["tomo.ome.zarr"]
    image = read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME)
    assert image.data.dtype == np.float32 and not image.data.flags.writeable and not image.memory_mapped
    assert image.voxel_size == (13.6, 13.5, 13.4) and image.origin == (-20.0, 5.5, 0.25) and image.unit == "Å"
    [multiscale] = json.loads((path / ".zattrs").read_text())["multiscales"]
    assert multiscale["version"] == "0.4" and multiscale["name"] == "tomo"
    assert multiscale["axes"] == [{"name": name, "type": "space", "unit": "angstrom"} for name in "zyx"]
    assert multiscale["datasets"] == [{"path": "0", "coordinateTransformations": [
        {"type": "scale", "scale": [13.6, 13.5, 13.4]}, {"type": "translation", "translation": [-20.0, 5.5, 0.25]}]}]
    array = json.loads((path / "0" / ".zarray").read_text())
    assert array["zarr_format"] == 2 and array["dimension_separator"] == "/"
    assert array["compressor"]["id"] == "blosc" and array["compressor"]["cname"] == "zstd"
    assert tuple(array["chunks"]) == chunk_shape(VOLUME.shape, np.dtype(np.float32)) == (16, 64, 72)


def test_a_nanometre_input_is_written_in_nanometres_and_a_2d_image_as_y_x(tmp_path):
    like = ImageData(np.zeros((2, 2)), voxel_size=(34.0, 34.0, 34.0), unit="nm")
    plane = (VOLUME[0] * 1000).astype(np.uint16)
    path = write_image(tmp_path / "plane.zarr", plane, like=like)
    [multiscale] = json.loads((path / ".zattrs").read_text())["multiscales"]
    assert [axis["name"] for axis in multiscale["axes"]] == ["y", "x"]
    assert {axis["unit"] for axis in multiscale["axes"]} == {"nanometer"}
    assert multiscale["datasets"][0]["coordinateTransformations"] == [{"type": "scale", "scale": [3.4, 3.4]}]
    image = read_image(path)
    np.testing.assert_array_equal(image.data, plane)
    assert image.data.dtype == np.uint16 and image.voxel_size == (34.0, 34.0, 34.0) and image.unit == "nm"


def test_a_slab_stream_is_written_a_chunk_row_at_a_time_and_reads_back_equal(tmp_path, monkeypatch):
    written = []
    original = zarr.Array.__setitem__

    def recording(self, selection, value):
        written.append(selection)
        return original(self, selection, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", recording)
    path = write_image(tmp_path / "streamed.ome.zarr", blocks_of(VOLUME, 7), voxel_size=(10.0, 10.0, 10.0))
    assert written == [slice(0, 16), slice(16, 32), slice(32, 40)], "whole chunk rows, never a chunk twice"
    np.testing.assert_array_equal(read_image(path).data, VOLUME)
    assert read_image(path).voxel_size == (10.0, 10.0, 10.0)


def test_a_stream_in_float64_is_stored_as_float32(tmp_path):
    path = write_image(tmp_path / "wide.zarr", blocks_of(VOLUME.astype(np.float64), 9))
    image = read_image(path)
    assert image.data.dtype == np.float32 and image.voxel_size is None and image.origin is None
    np.testing.assert_array_equal(image.data, VOLUME)


def cancelled_after(planes):
    def make_blocks():
        yield VOLUME[:planes]
        raise Cancelled()

    return SlabStream(VOLUME.shape, VOLUME.dtype, make_blocks)


def test_a_cancelled_write_leaves_no_store_and_an_existing_one_untouched(tmp_path):
    with pytest.raises(Cancelled):
        write_image(tmp_path / "new.ome.zarr", cancelled_after(33))
    assert entries(tmp_path) == [], "no store, no partial folder"

    old = write_image(tmp_path / "old.ome.zarr", VOLUME[:3], voxel_size=(5.0, 5.0, 5.0))
    before = {name: (old / name).read_bytes() for name in (".zattrs", "0/.zarray", "0/0/0/0")}
    with pytest.raises(Cancelled):
        write_image(old, cancelled_after(33), overwrite=True)
    assert entries(tmp_path) == ["old.ome.zarr"]
    assert {name: (old / name).read_bytes() for name in before} == before
    np.testing.assert_array_equal(read_image(old).data, VOLUME[:3])


def test_a_failed_write_leaves_nothing(tmp_path):
    bad = VOLUME.copy()
    bad[30, 1, 2] = np.nan
    with pytest.raises(ImageError, match=r"nothing was saved: the result contains NaN .*slice 30"):
        write_image(tmp_path / "bad.zarr", blocks_of(bad, 5))
    assert entries(tmp_path) == []


def test_an_existing_store_is_replaced_whole_only_with_overwrite(tmp_path):
    path = write_image(tmp_path / "out.zarr", VOLUME[:2])
    zarr.open_group(str(path))["0"].attrs["user"] = 1
    zarr.open_group(str(path)).create_dataset("1", data=np.zeros((1, 2, 2)))
    with pytest.raises(OutputExistsError):
        write_image(path, VOLUME)
    np.testing.assert_array_equal(read_image(path).data, VOLUME[:2])
    write_image(path, VOLUME, overwrite=True)
    np.testing.assert_array_equal(read_image(path).data, VOLUME)
    assert entries(path) == [".zattrs", ".zgroup", "0"] and entries(tmp_path) == ["out.zarr"]
    (tmp_path / "file.zarr").write_bytes(b"x")
    with pytest.raises(ImageError, match="an OME-Zarr store is a folder"):
        write_image(tmp_path / "file.zarr", VOLUME, overwrite=True)


def test_lazy_reads_decompress_only_the_chunks_of_the_planes_asked_for(tmp_path, monkeypatch):
    path = write_image(tmp_path / "lazy.ome.zarr", VOLUME, voxel_size=(3.0, 3.0, 3.0))
    volume = open_image_lazily(path)
    assert volume.shape == VOLUME.shape and volume.dtype == np.float32 and volume.image.voxel_size == (3.0, 3.0, 3.0)
    read_keys = []
    original = zarr.DirectoryStore.__getitem__

    def recording(self, key):
        read_keys.append(key)
        return original(self, key)

    monkeypatch.setattr(zarr.DirectoryStore, "__getitem__", recording)
    np.testing.assert_array_equal(volume.read(17, 20), VOLUME[17:20])
    assert [key for key in read_keys if not key.endswith((".zarray", ".zattrs", ".zgroup"))] == ["0/1/0/0"]

    (path / "0" / "0" / "0" / "0").write_bytes(b"damaged")  # planes 0 to 15
    np.testing.assert_array_equal(volume.read(16, 40), VOLUME[16:])
    with pytest.raises(ImageError) as error:
        volume.read(14, 18)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_singleton_time_and_channel_axes_are_dropped_and_units_give_angstrom(tmp_path):
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"}] + [
        {"name": name, "type": "space", "unit": "nanometer"} for name in "zyx"]
    path = ome_store(tmp_path / "tczyx.ome.zarr", VOLUME[np.newaxis, np.newaxis, :5],
                     axes, scale=[1.0, 1.0, 2.0, 1.5, 1.5], translation=[0.0, 0.0, 10.0, 0.0, -1.0])
    image = read_image(path)
    np.testing.assert_array_equal(image.data, VOLUME[:5])
    assert image.voxel_size == (20.0, 15.0, 15.0) and image.origin == (100.0, 0.0, -10.0) and image.unit == "nm"
    np.testing.assert_array_equal(open_image_lazily(path).read(2, 4), VOLUME[2:4])


def test_a_plain_zarr_array_is_an_image_without_voxel_size(tmp_path):
    zarr.save_array(str(tmp_path / "plain.zarr"), VOLUME[:6, np.newaxis], chunks=(2, 1, 64, 72))
    volume = open_image_lazily(tmp_path / "plain.zarr")
    assert volume.shape == (6, 64, 72) and volume.image.voxel_size is None
    np.testing.assert_array_equal(volume.read(3, 5), VOLUME[3:5])
    np.testing.assert_array_equal(read_image(tmp_path / "plain.zarr").data, VOLUME[:6])


def test_a_store_with_two_time_points_is_refused_in_one_line(tmp_path):
    axes = [{"name": "t", "type": "time"}] + [{"name": name, "type": "space"} for name in "zyx"]
    path = ome_store(tmp_path / "movie.ome.zarr", np.stack([VOLUME[:3], VOLUME[:3]]), axes)
    for opener in (read_image, open_image_lazily):
        with pytest.raises(ImageError) as error:
            opener(path)
        assert str(error.value) == f"{path}: this image has 2 time points (axis 't'); save each time point as its own image"


@pytest.mark.parametrize("damage, message", [
    (lambda path: (path / ".zattrs").write_text("{}"), "has no OME-NGFF 'multiscales' metadata"),
    (lambda path: (path / ".zattrs").write_text('{"multiscales": [{"datasets": [{"path": "9"}]}]}'),
     "name the array '9', which the store does not hold"),
    (lambda path: (path / ".zattrs").write_text("{not json"), "cannot read the file"),
    (lambda path: (path / ".zgroup").unlink(), "not a Zarr store: it has no .zgroup or .zarray"),
    (lambda path: (path / "zarr.json").write_text("{}"), "Zarr v3 store"),
])
def test_bad_metadata_is_one_line_naming_the_store(tmp_path, damage, message):
    path = write_image(tmp_path / "broken.ome.zarr", VOLUME[:2])
    damage(path)
    for opener in (read_image, open_image_lazily):
        with pytest.raises(ImageError, match=message) as error:
            opener(path)
        assert "\n" not in str(error.value) and str(error.value).startswith(str(path))
    with pytest.raises(ImageError, match="file not found"):
        read_image(tmp_path / "missing.zarr")


def test_cli_denoises_an_ome_zarr_into_an_ome_zarr_as_the_median_in_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("et_denoise.cli.handlers.process_private_memory", lambda: 0)  # the budget is the slabs'
    source = write_image(tmp_path / "in.ome.zarr", VOLUME[:13], voxel_size=(8.0, 8.0, 8.0))
    output = tmp_path / "out.ome.zarr"
    assert main(["denoise", str(source), "-o", str(output), "--method", "median", "--mode", "3d",
                 "--memory", "600kB"]) == 0
    assert f"wrote {output} (13, 64, 72) float32" in capsys.readouterr().out
    expected = FILTERS["median"].apply(VOLUME[:13], FILTERS["median"].params_type(mode="3d"))
    result = read_image(output)
    np.testing.assert_array_equal(result.data, expected)
    assert result.voxel_size == (8.0, 8.0, 8.0)
    assert sorted(os.listdir(tmp_path)) == ["in.ome.zarr", "out.ome.zarr"]


def test_batch_takes_a_folder_of_stores_each_as_one_image_and_skips_them_when_rerun(tmp_path, capsys):
    inputs = tmp_path / "tomograms"
    inputs.mkdir()
    for name in ("a.ome.zarr", "b.zarr"):
        write_image(inputs / name, VOLUME[:6], voxel_size=(8.0, 8.0, 8.0))
    out = tmp_path / "denoised"
    assert main(["batch", str(inputs), "-o", str(out), "--method", "median"]) == 0
    expected = FILTERS["median"].apply(VOLUME[:6], FILTERS["median"].params_type())
    for name in ("a.ome.zarr", "b.zarr"):
        np.testing.assert_array_equal(read_image(out / name).data, expected)
    capsys.readouterr()
    assert main(["batch", str(inputs), "-o", str(out), "--method", "median"]) == 0
    summary = (out / "batch-summary.csv").read_text()
    assert summary.count("skipped") == 2, summary


def test_denoise_replaces_an_existing_store_only_with_overwrite(tmp_path, capsys):
    source = write_image(tmp_path / "in.zarr", VOLUME[:4])
    output = write_image(tmp_path / "out.zarr", np.zeros((2, 8, 8), np.float32))
    assert main(["denoise", str(source), "-o", str(output), "--method", "median"]) == 2
    assert "exists" in capsys.readouterr().err and read_image(output).data.shape == (2, 8, 8)
    assert main(["denoise", str(source), "-o", str(output), "--method", "median", "--overwrite"]) == 0
    assert read_image(output).data.shape == VOLUME[:4].shape
