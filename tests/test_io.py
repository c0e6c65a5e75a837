"""Image I/O: files written by write_image reload equal, with their voxel size, and bad files fail clearly."""

import io
import os

import mrcfile
import numpy as np
import pytest
import tifffile

from et_denoise import engine
from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.io import SUPPORTED_EXTENSIONS, ImageData, read_image, write_image

VOXEL = (2.5, 3.42, 3.42)
ORIGIN = (-10.5, 20.25, 1234.5)
IMOD_STAMP = 1146047817


def sample(shape, dtype, seed=0):
    """Random data spanning most of the range of ``dtype``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.normal(size=shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def assert_reloads_equal(path, data, voxel_size, origin=None):
    image = read_image(path)
    assert image.data.dtype == data.dtype
    np.testing.assert_array_equal(image.data, data)
    assert image.voxel_size == pytest.approx(voxel_size, rel=1e-6)
    assert image.origin == (None if origin is None else pytest.approx(origin, rel=1e-6))
    assert image.is_volume == (data.ndim == 3)
    assert image.path == path
    assert not image.data.flags.writeable
    assert sorted(os.listdir(path.parent)) == [path.name], "no partial file is left behind"
    return image


# ---------------------------------------------------------------- TIFF


@pytest.mark.parametrize("shape", [(40, 50), (6, 40, 50)], ids=["2d", "3d"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_tiff_round_trip_keeps_data_and_voxel_size(tmp_path, dtype, shape):
    data = sample(shape, dtype)
    path = write_image(tmp_path / "image.tif", data, voxel_size=VOXEL)
    image = assert_reloads_equal(path, data, VOXEL)
    assert image.unit == "nm"
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej, "ImageJ opens the file with its calibration"


@pytest.mark.parametrize("imagej_unit, angstrom_per_unit, written_unit", [
    ("micron", 1e4, "micron"), ("\\u00B5m", 1e4, "micron"), ("nm", 10.0, "nm"),
    ("\\u00C5", 1.0, "\\u00C5"),
])
def test_tiff_unit_is_converted_to_angstrom_and_written_back(tmp_path, imagej_unit, angstrom_per_unit,
                                                             written_unit):
    data = sample((3, 20, 30), np.uint16)
    source = tmp_path / "in" / "source.tif"
    source.parent.mkdir()
    tifffile.imwrite(source, data, imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"axes": "ZYX", "spacing": 0.75, "unit": imagej_unit})
    image = read_image(source)
    assert image.voxel_size == pytest.approx((0.75 * angstrom_per_unit, 0.5 * angstrom_per_unit,
                                              0.25 * angstrom_per_unit))
    output = write_image(tmp_path / "out.tiff", image.data, like=image)
    with tifffile.TiffFile(output) as tif:
        assert tif.imagej_metadata["unit"] == written_unit, "ImageJ's own spelling of the input unit"
    assert read_image(output).voxel_size == pytest.approx(image.voxel_size)


@pytest.mark.parametrize("layout", [{"compression": "zlib"}, {"tile": (16, 16)},
                                    {"compression": "zlib", "tile": (16, 32)}],
                         ids=["zlib", "tiled", "zlib-tiled"])
def test_compressed_and_tiled_tiff_round_trip(tmp_path, layout):
    data = sample((4, 48, 64), np.float32)
    source = tmp_path / "in" / "source.tif"
    source.parent.mkdir()
    # plain (not ImageJ) TIFF: 3.42 Å pixels as pixels per centimetre
    tifffile.imwrite(source, data, photometric="minisblack", resolution=(1e8 / 3.42, 1e8 / 3.42),
                     resolutionunit="CENTIMETER", **layout)
    image = read_image(source, mmap_threshold_bytes=0)
    assert not image.memory_mapped, "compressed or tiled data cannot be mapped, so it is loaded"
    np.testing.assert_array_equal(image.data, data)
    assert image.voxel_size == pytest.approx((3.42, 3.42, 3.42)), "z taken equal to x"
    output = write_image(tmp_path / "out.tif", image.data, like=image)
    assert read_image(output).voxel_size == pytest.approx(image.voxel_size)
    np.testing.assert_array_equal(read_image(output).data, data)


def test_imagej_hyperstack_with_singleton_time_and_channel_axes(tmp_path):
    data = sample((1, 5, 1, 30, 40), np.uint16)
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(10.0, 10.0),
                     metadata={"axes": "TZCYX", "spacing": 0.2, "unit": "nm"})
    image = read_image(path)
    assert image.data.shape == (5, 30, 40)
    np.testing.assert_array_equal(image.data, data[0, :, 0])
    assert image.voxel_size == pytest.approx((2.0, 1.0, 1.0))


@pytest.mark.parametrize("extension", [".tif", ".mrc"])
def test_big_endian_file_is_read_in_native_byte_order(tmp_path, extension):
    data = sample((3, 20, 30), np.float32)
    path = tmp_path / f"big_endian{extension}"
    if extension == ".tif":
        tifffile.imwrite(path, data, byteorder=">", photometric="minisblack")
    else:
        with mrcfile.new(path) as mrc:
            mrc.set_data(data.astype(">f4"))
    image = read_image(path, mmap_threshold_bytes=0)
    assert image.data.dtype == np.float32 and image.data.dtype.isnative
    np.testing.assert_array_equal(image.data, data)


def test_tiff_without_calibration_has_no_voxel_size(tmp_path):
    path = write_image(tmp_path / "plain.tif", sample((20, 30), np.uint8))
    image = read_image(path)
    assert image.voxel_size is None and image.unit is None


# ---------------------------------------------------------------- MRC

MRC_TYPES = {np.int8: 0, np.uint8: 0, np.int16: 1, np.float32: 2, np.uint16: 6, np.float16: 12}


@pytest.mark.parametrize("extension, space_group", [(".mrc", 1), (".rec", 1), (".st", 0), (".mrcs", 0)])
@pytest.mark.parametrize("dtype", list(MRC_TYPES), ids=[np.dtype(t).name for t in MRC_TYPES])
def test_mrc_round_trip_and_header_for_imod(tmp_path, dtype, extension, space_group):
    data = sample((5, 24, 36), dtype)
    path = write_image(tmp_path / f"volume{extension}", data, voxel_size=VOXEL, origin=ORIGIN)
    assert_reloads_equal(path, data, VOXEL, ORIGIN)
    with mrcfile.open(path) as mrc:
        header = mrc.header
        assert int(header.mode) == MRC_TYPES[dtype]
        assert (int(header.nx), int(header.ny), int(header.nz)) == (36, 24, 5)
        assert int(header.ispg) == space_group
        assert (float(header.origin.z), float(header.origin.y), float(header.origin.x)) == ORIGIN
        assert mrc.voxel_size.x == pytest.approx(3.42) and mrc.voxel_size.z == pytest.approx(2.5)
        assert float(header.dmin) == data.min() and float(header.dmax) == data.max()
        assert float(header.dmean) == pytest.approx(data.astype(np.float64).mean(), rel=1e-5)
        assert float(header.rms) == pytest.approx(data.astype(np.float64).std(), rel=1e-5)
        stamp, flags = np.frombuffer(header.tobytes(), dtype="<i4", count=2, offset=152)
    if np.dtype(dtype).itemsize == 1:
        # IMOD reads mode 0 as unsigned unless its flags say the bytes are signed
        assert stamp == IMOD_STAMP and bool(flags & 1) == (dtype == np.int8)
    if dtype not in (np.uint8, np.float16):
        # mrcfile's own statistics read uint8 as int8 and overflow float16 sums
        assert mrcfile.validate(path, print_file=io.StringIO())


def test_mrc_2d_image_round_trip(tmp_path):
    data = sample((24, 36), np.float32)
    path = write_image(tmp_path / "image.mrc", data, voxel_size=(3.42, 3.42, 3.42))
    assert_reloads_equal(path, data, (3.42, 3.42, 3.42), (0.0, 0.0, 0.0))
    with mrcfile.open(path) as mrc:
        assert int(mrc.header.ispg) == 0 and int(mrc.header.nz) == 1


def test_mrc_written_like_its_input_keeps_header_details(tmp_path):
    data = sample((3, 16, 20), np.int16)
    source = tmp_path / "in" / "tilts.st"
    source.parent.mkdir()
    tilt_angles = np.zeros(3, dtype=[("tilt", "<i2"), ("rest", "V30")])
    tilt_angles["tilt"] = [-6000, 0, 6000]
    with mrcfile.new(source) as mrc:
        mrc.set_data(data)
        mrc.set_image_stack()
        mrc.voxel_size = (4.0, 4.0, 4.0)
        mrc.header.origin = (1.0, 2.0, 3.0)
        mrc.header.nxstart, mrc.header.nystart, mrc.header.nzstart = -8, -10, 0
        mrc.set_extended_header(tilt_angles)
        mrc.header.exttyp = b"SERI"
        mrc.header.label[0] = b"tilt series from SerialEM"
        mrc.header.nlabl = 1
    image = read_image(source)
    assert image.mrc_header.image_stack and image.origin == (3.0, 2.0, 1.0)

    output = write_image(tmp_path / "denoised.mrc", image.data.astype(np.float32), like=image)
    with mrcfile.open(output) as mrc:
        assert int(mrc.header.ispg) == 0, ".mrc written like a stack stays a stack"
        assert mrc.extended_header.tobytes() == tilt_angles.tobytes()
        assert mrc.header.exttyp == b"SERI"
        assert (int(mrc.header.nxstart), int(mrc.header.nystart)) == (-8, -10)
        labels = [label.decode() for label in mrc.header.label[:int(mrc.header.nlabl)]]
    assert labels[0] == "tilt series from SerialEM" and labels[1].startswith("ET Denoise")
    assert read_image(output).voxel_size == (4.0, 4.0, 4.0)

    cropped = write_image(tmp_path / "cropped.rec", image.data[:, :8], like=image)
    with mrcfile.open(cropped) as mrc:
        assert int(mrc.header.ispg) == 1 and int(mrc.header.nsymbt) == 0, \
            "a new shape drops per-section metadata"


def test_unsigned_bytes_written_by_imod_are_read_as_uint8(tmp_path):
    data = sample((4, 10, 12), np.uint8)
    path = tmp_path / "bytes.rec"
    with mrcfile.new(path) as mrc:
        mrc.set_data(data.view(np.int8))
        extra2 = bytearray(mrc.header.extra2.tobytes())
        extra2[40:48] = np.array([IMOD_STAMP, 0], "<i4").tobytes()
        mrc.header.extra2 = bytes(extra2)
    np.testing.assert_array_equal(read_image(path).data, data)


# ---------------------------------------------------------------- folders, memory mapping, writing


def test_folder_of_slices_is_read_in_natural_order(tmp_path):
    slices = {name: np.full((20, 30), value, np.uint16)
              for value, name in enumerate(["s1.tif", "s2.tif", "s10.TIF", "s11.tiff"])}
    for name, plane in slices.items():
        tifffile.imwrite(tmp_path / name, plane, imagej=True, resolution=(0.5, 0.5),
                         metadata={"unit": "nm"})
    (tmp_path / ".s0.tif").write_bytes(b"macOS resource fork")
    (tmp_path / "notes.txt").write_text("ignored")
    image = read_image(tmp_path)
    np.testing.assert_array_equal(image.data, np.stack(list(slices.values())))
    assert image.voxel_size == (20.0, 20.0, 20.0) and image.path == tmp_path


@pytest.mark.parametrize("odd_one, fragment", [
    (np.zeros((20, 31), np.uint16), "same size"),
    (np.zeros((20, 30), np.float32), "same size and type"),
    (np.zeros((2, 20, 30), np.uint16), "one 2-D image per file"),
])
def test_folder_with_an_unequal_slice_is_refused(tmp_path, odd_one, fragment):
    tifffile.imwrite(tmp_path / "a1.tif", np.zeros((20, 30), np.uint16))
    tifffile.imwrite(tmp_path / "a2.tif", odd_one)
    with pytest.raises(ImageError, match=fragment) as error:
        read_image(tmp_path)
    assert "a2.tif" in str(error.value) and str(tmp_path) in str(error.value)


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ImageError, match="no TIFF files"):
        read_image(tmp_path)


@pytest.mark.parametrize("extension", [".tif", ".mrc"])
def test_large_file_is_memory_mapped(tmp_path, extension):
    data = sample((6, 32, 40), np.float32)
    path = write_image(tmp_path / f"big{extension}", data, voxel_size=VOXEL)
    assert not read_image(path).memory_mapped, "small files are loaded"
    image = read_image(path, mmap_threshold_bytes=1000)
    assert image.memory_mapped and isinstance(image.data, np.memmap)
    assert not image.data.flags.writeable
    np.testing.assert_array_equal(image.data, data)
    assert image.voxel_size == pytest.approx(VOXEL)

    # Writing the mapped input over itself replaces the file only once the new one is complete.
    write_image(path, image.data + 1, like=image, overwrite=True)
    np.testing.assert_array_equal(read_image(path).data, data + 1)


def test_nan_in_a_late_slab_of_a_mapped_file_is_found(tmp_path, monkeypatch):
    data = np.zeros((6, 16, 16), np.float32)
    data[5, 3, 4] = np.nan
    path = tmp_path / "nan.mrc"
    with mrcfile.new(path) as mrc:  # write_image refuses NaN
        mrc.set_data(data)
    monkeypatch.setattr(engine.io.checks, "SLAB_BYTES", 2 * 16 * 16 * 4)
    with pytest.raises(ImageError, match=r"NaN or infinite values \(first in slice 5\)"):
        read_image(path, mmap_threshold_bytes=0)


def test_existing_file_is_not_overwritten_without_permission(tmp_path):
    path = tmp_path / "result.mrc"
    path.write_bytes(b"precious data")
    with pytest.raises(ImageError, match="already exists") as error:
        write_image(path, sample((8, 8), np.float32))
    assert "result.mrc" in str(error.value)
    assert path.read_bytes() == b"precious data"
    write_image(path, sample((8, 8), np.float32), overwrite=True)
    assert read_image(path).data.shape == (8, 8)


@pytest.mark.parametrize("extension", [".tif", ".mrc"])
@pytest.mark.parametrize("dtype, written", [(np.float64, np.float32), (np.bool_, np.uint8)])
def test_types_without_a_file_mode_are_converted(tmp_path, extension, dtype, written):
    data = sample((4, 10, 12), np.float32) > 0 if dtype == np.bool_ else sample((4, 10, 12), dtype)
    image = read_image(write_image(tmp_path / f"converted{extension}", data))
    assert image.data.dtype == written
    np.testing.assert_array_equal(image.data, data.astype(written))


@pytest.mark.parametrize("name, data, fragment", [
    ("int32.tif", np.zeros((4, 4), np.int32), "cannot save int32 data"),
    ("complex.mrc", np.zeros((4, 4), np.complex64), "cannot save complex64 data"),
    ("4d.mrc", np.zeros((2, 2, 4, 4), np.float32), "2-D image or 3-D stack"),
    ("empty.tif", np.zeros((0, 4), np.float32), "2-D image or 3-D stack"),
    ("image.png", np.zeros((4, 4), np.float32), "unsupported file type '.png'"),
    ("missing/image.tif", np.zeros((4, 4), np.float32), "does not exist"),
])
def test_write_refuses_what_it_cannot_write(tmp_path, name, data, fragment):
    with pytest.raises(ImageError, match=fragment) as error:
        write_image(tmp_path / name, data)
    assert name.split("/")[-1] in str(error.value)


@pytest.mark.parametrize("keyword, value", [
    ("voxel_size", (1.0, 0.0, 1.0)), ("voxel_size", (1.0, 2.0)), ("origin", (0.0, np.nan, 0.0)),
])
def test_write_refuses_bad_voxel_size_or_origin(tmp_path, keyword, value):
    with pytest.raises(ParameterError, match=keyword):
        write_image(tmp_path / "out.mrc", np.zeros((4, 4), np.float32), **{keyword: value})


def test_supported_extensions_for_file_dialogs():
    for extensions in (SUPPORTED_EXTENSIONS["read"], SUPPORTED_EXTENSIONS["write"]):
        assert {".tif", ".tiff", ".mrc", ".rec", ".st", ".mrcs"} <= set(extensions)


def test_image_data_is_volume():
    assert ImageData(np.zeros((2, 3, 4))).is_volume
    assert not ImageData(np.zeros((3, 4))).is_volume


# ---------------------------------------------------------------- bad input


def _truncate(path, keep):
    content = path.read_bytes()
    path.write_bytes(content[:int(len(content) * keep)])


def text_file(path):
    path.write_text("x" * 2000)


def empty_file(path):
    path.write_bytes(b"")


def truncated_imagej_stack(path):
    tifffile.imwrite(path, np.zeros((8, 64, 64), np.uint16), imagej=True)
    _truncate(path, 0.5)


def truncated_single_page(path):
    tifffile.imwrite(path, np.zeros((200, 300), np.uint16))
    _truncate(path, 0.5)


def truncated_compressed(path):
    tifffile.imwrite(path, sample((200, 300), np.uint16), compression="zlib")
    _truncate(path, 0.9)


def truncated_mrc(path):
    write_image(path, np.zeros((4, 32, 32), np.float32))
    _truncate(path, 0.9)


def rgb_tiff(path):
    tifffile.imwrite(path, np.zeros((20, 30, 3), np.uint8), photometric="rgb")


def two_channel_hyperstack(path):
    tifffile.imwrite(path, np.zeros((3, 2, 20, 30), np.uint16), imagej=True,
                     metadata={"axes": "ZCYX"})


def complex_tiff(path):
    tifffile.imwrite(path, np.zeros((20, 30), np.complex64))


def complex_mrc(path):
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((20, 30), np.complex64))


def four_d_tiff(path):
    tifffile.imwrite(path, np.zeros((2, 5, 20, 30), np.float32))


def volume_stack_mrc(path):
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((2, 5, 20, 30), np.float32))


def zero_size_mrc(path):
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((0, 20, 30), np.float32))


def nan_tiff(path):
    data = np.zeros((5, 20, 30), np.float32)
    data[2, 5, 5] = np.nan
    tifffile.imwrite(path, data)


def inf_mrc(path):
    data = np.zeros((20, 30), np.float32)
    data[7, 0] = np.inf
    with mrcfile.new(path) as mrc:  # write_image refuses infinity
        mrc.set_data(data)


def two_sizes_tiff(path):
    tifffile.imwrite(path, np.zeros((20, 30), np.uint8))
    tifffile.imwrite(path, np.zeros((10, 10), np.uint8), append=True)


def png_file(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))


def nothing(path):
    pass


@pytest.mark.parametrize("threshold", [None, 0], ids=["loaded", "mapped"])
@pytest.mark.parametrize("name, make, fragment", [
    ("text.tif", text_file, "not a TIFF file"),
    ("text.mrc", text_file, "not an MRC file"),
    ("empty.tif", empty_file, "file is empty"),
    ("empty.mrc", empty_file, "file is empty"),
    ("cut.tif", truncated_imagej_stack, "damaged or truncated"),
    ("cut_page.tif", truncated_single_page, "damaged or truncated"),
    ("cut_zlib.tif", truncated_compressed, "damaged or truncated"),
    ("cut.mrc", truncated_mrc, "truncated"),
    ("rgb.tif", rgb_tiff, "colour image"),
    ("channels.tif", two_channel_hyperstack, "2 channels"),
    ("complex.tif", complex_tiff, "complex numbers"),
    ("complex.mrc", complex_mrc, "complex numbers"),
    ("4d.tif", four_d_tiff, "4 dimensions"),
    ("4d.mrc", volume_stack_mrc, "4 dimensions"),
    ("zero.mrc", zero_size_mrc, "axis of length 0"),
    ("nan.tif", nan_tiff, "NaN or infinite values (first in slice 2)"),
    ("inf.mrc", inf_mrc, "NaN or infinite values (first in row 7)"),
    ("sizes.tif", two_sizes_tiff, "2 images of different sizes"),
    ("missing.tif", nothing, "file not found"),
    ("picture.png", png_file, "unsupported file type '.png'"),
])
def test_bad_input_raises_image_error_naming_file_and_problem(tmp_path, name, make, fragment, threshold):
    path = tmp_path / name
    make(path)
    with pytest.raises(ImageError) as error:
        read_image(path, mmap_threshold_bytes=threshold)
    message = str(error.value)
    assert name in message and fragment in message
    assert error.value.path == str(path)
