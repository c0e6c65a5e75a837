"""Noise2Void without TensorFlow: blind-spot masks, parameters, training patches, bad input messages."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.n2v import N2VParams, parse_mask, preset_mask
from et_denoise.engine.n2v.data import grid_starts, make_training_data
from et_denoise.engine.n2v.masks import apply_symmetry, mask_to_text, read_mask_file, symmetries
from et_denoise.engine.n2v.training import auto_steps_per_epoch

ROOT = Path(__file__).resolve().parents[1]


def test_importing_engine_n2v_does_not_load_tensorflow():
    code = ("import sys, et_denoise.engine.n2v, et_denoise.engine.n2v.n2v_backend\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'n2v', 'csbdeep') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("spec, expected", [
    ("horizontal:9", np.ones((1, 9))),
    ("vertical:5", np.ones((5, 1))),
    ("square:3", np.ones((3, 3))),
    ("cross:3", [[0, 1, 0], [1, 1, 1], [0, 1, 0]]),
    (" Horizontal: 3 ", np.ones((1, 3))),
])
def test_presets_from_text(spec, expected):
    mask = parse_mask(spec)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.uint8


def test_none_is_plain_n2v():
    assert parse_mask("none") is None and preset_mask("none", 0) is None
    assert N2VParams(mask="none").blind_spot_mask is None


def test_mask_file_rows_with_or_without_spaces(tmp_path):
    path = tmp_path / "mask.txt"
    path.write_text("0 1 0\n1 1 1\n0 1 0\n")
    np.testing.assert_array_equal(parse_mask(str(path)), parse_mask("cross:3"))
    path.write_text("00100\n11111\n00100\n")
    assert parse_mask(str(path)).shape == (3, 5)


def test_mask_file_with_blank_lines_is_3d_and_round_trips(tmp_path):
    path = tmp_path / "mask3d.txt"
    path.write_text("000\n010\n000\n\n010\n111\n010\n\n000\n010\n000\n")
    mask = read_mask_file(path)
    assert mask.shape == (3, 3, 3) and mask.sum() == 7
    path.write_text(mask_to_text(mask))
    np.testing.assert_array_equal(read_mask_file(path), mask)


def test_2d_mask_lies_in_the_yx_plane_for_3d_training():
    assert N2VParams(mode="3d", mask="horizontal:5").blind_spot_mask.shape == (1, 1, 5)


@pytest.mark.parametrize("spec, message", [
    ("horizontal:8", "odd"),
    ("horizontal:1", "odd number of at least 3"),
    ("vertical:x", "vertical:LENGTH"),
    ("diagonal:3", "neither a preset"),
    ("no/such/mask.txt", "neither a preset"),
])
def test_bad_mask_text_says_what_is_wrong(spec, message):
    with pytest.raises(ParameterError, match=message):
        parse_mask(spec)


@pytest.mark.parametrize("content, message", [
    ("010\n020\n010\n", "only 0 and 1"),
    ("010\n01\n010\n", "same length"),
    ("0000\n0110\n", "odd"),
    ("000\n010\n000\n", "hides no pixel besides the centre"),
    ("\n\n", "empty"),
])
def test_bad_mask_file_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "mask.txt"
    path.write_text(content)
    with pytest.raises(ParameterError, match=message):
        parse_mask(str(path))


@pytest.mark.parametrize("changes, message", [
    (dict(mask="horizontal:65", patch_size=64), "larger than the patch"),
    (dict(patch_size=36, unet_depth=3), "multiple of 8"),
    (dict(mask="horizontal:5", manipulator="median"), "only with mask 'none'"),
    (dict(patch_size=16, masked_fraction=0.198), "too small for 16-pixel patches"),
    (dict(epochs=0), "at least 1"),
    (dict(unet_kernel=4), "Kernel size must be odd, got 4"),
])
def test_bad_parameters_say_what_is_wrong(changes, message):
    with pytest.raises(ParameterError, match=message):
        N2VParams(**changes)


def test_3d_mask_needs_3d_mode(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("010\n\n111\n\n010\n")
    with pytest.raises(ParameterError, match="3-D mask needs 3-D training"):
        N2VParams(mask=str(path))
    assert N2VParams(mode="3d", mask=str(path)).blind_spot_mask.shape == (3, 1, 3)


def test_augmentation_keeps_a_horizontal_mask_horizontal():
    mask = preset_mask("horizontal", 5)
    transforms = symmetries(mask)
    assert len(transforms) == 4 and (0, False) in transforms
    assert all(apply_symmetry(mask, t).shape == (1, 5) for t in transforms)
    # Noise correlated along X stays correlated along X under every allowed transform.
    rows = np.repeat(np.arange(4.0)[:, None], 4, axis=1)
    assert all(np.ptp(apply_symmetry(rows, t), axis=1).max() == 0 for t in transforms)
    assert len(symmetries(None)) == 8 and len(symmetries(preset_mask("cross", 5))) == 8


def test_patches_cover_the_image_are_normalised_and_split():
    rng = np.random.default_rng(1)
    image = rng.normal(5.0, 2.0, size=(100, 70)).astype(np.float32)
    data = make_training_data([image], N2VParams(patch_size=32, validation_fraction=0.2))
    assert grid_starts(100, 32) == [0, 32, 64, 68] and grid_starts(70, 32) == [0, 32, 38]
    assert data.train.shape[1:] == (32, 32, 1) and len(data.train) + len(data.validation) == 12
    assert len(data.validation) == 2
    assert data.mean == pytest.approx(image.mean(), rel=1e-5) and data.std == pytest.approx(image.std(), rel=1e-5)
    assert abs(data.train.mean()) < 0.1 and data.train.std() == pytest.approx(1.0, abs=0.1)


def test_volume_gives_plane_patches_in_2d_and_cubes_in_3d():
    volume = np.random.default_rng(2).normal(size=(16, 32, 32)).astype(np.float32)
    flat = make_training_data([volume], N2VParams(patch_size=32))
    cubes = make_training_data([volume], N2VParams(mode="3d", patch_size=16, masked_fraction=1.0))
    assert len(flat.train) + len(flat.validation) == 16 and flat.train.shape[1:] == (32, 32, 1)
    assert len(cubes.train) + len(cubes.validation) == 4 and cubes.train.shape[1:] == (16, 16, 16, 1)


def test_several_images_of_different_sizes_are_pooled():
    rng = np.random.default_rng(3)
    data = make_training_data([rng.normal(size=(32, 32)), rng.normal(size=(2, 64, 32))], N2VParams(patch_size=32))
    assert len(data.train) + len(data.validation) == 5


@pytest.mark.parametrize("images, params, message", [
    ([np.zeros((20, 100))], N2VParams(patch_size=32), r"20 x 100 pixels\) is smaller than the training patch"),
    ([np.full((64, 64), np.nan)], N2VParams(patch_size=32), "NaN or infinite"),
    ([np.ones((64, 64))], N2VParams(patch_size=32), "constant"),
    ([np.random.default_rng(0).normal(size=(64, 64))], N2VParams(mode="3d", patch_size=32), "needs a 3-D volume"),
    ([np.random.default_rng(0).normal(size=(32, 32))], N2VParams(patch_size=32), "only one 32-pixel patch"),
    ([], N2VParams(), "no image"),
])
def test_bad_training_images_say_what_is_wrong(images, params, message):
    with pytest.raises(ImageError, match=message):
        make_training_data(images, params)


def test_automatic_steps_make_one_pass_over_the_augmented_patches():
    params = N2VParams(batch_size=16, mask="horizontal:9")
    assert auto_steps_per_epoch(160, params) == 40  # 160 patches x 4 orientations / 16
    assert auto_steps_per_epoch(160, params.replace(mask="none")) == 80
    assert auto_steps_per_epoch(1, params) == 10 and auto_steps_per_epoch(10**6, params) == 400


def test_masks_are_the_same_whatever_their_dtype_and_none_only_equals_none():
    from et_denoise.engine.n2v.masks import same_mask

    assert same_mask(preset_mask("horizontal", 3), np.ones((1, 3), bool))
    assert not same_mask(preset_mask("horizontal", 3), preset_mask("vertical", 3))
    assert not same_mask(preset_mask("horizontal", 3), np.ones((1, 5), bool))
    assert same_mask(None, None) and not same_mask(None, np.ones((1, 1), bool))
