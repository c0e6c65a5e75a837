"""A result's recipe: its filter and parameters, or the folder its N2V model was saved in, and why not."""

import json

import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.engine.errors import ParameterError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import read_image, write_image
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.masks import mask_to_text
from et_denoise.engine.recipe import Recipe, check_model_folder, load_recipe, recipe_of, recipe_refusal, save_recipe
from et_denoise.engine.sample import make_sample


def _model_folder(folder, params, mask=None):
    """A model folder as far as a recipe reads it: the description, and the mask file of a custom mask."""
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"format": "et-denoise-n2v", "params": params.as_dict()}))
    if mask is not None:
        (folder / "mask.txt").write_text(mask_to_text(mask))
    return folder


def test_a_filter_result_is_its_method_and_parameters_and_runs_the_same_in_batch(tmp_path, capsys):
    params = FILTERS["median"].params_type(size=3, footprint="disk", mode="3d")
    path = save_recipe(tmp_path / "median.json", recipe_of("median", params))
    assert load_recipe(path) == Recipe("median", params)
    tomogram = write_image(tmp_path / "tomo.mrc", make_sample(shape=(5, 32, 40), seed=2).noisy)
    assert main(["batch", str(tomogram), "-o", str(tmp_path / "out"), "--recipe", str(path)]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "tomo.mrc").data,
                                  FILTERS["median"].apply(read_image(tomogram).data, params))
    capsys.readouterr()


def test_a_recipe_file_is_replaced_only_when_allowed_and_leaves_no_partial(tmp_path):
    path = tmp_path / "r.json"
    save_recipe(path, recipe_of("diffusion", FILTERS["diffusion"].params_type()))
    with pytest.raises(ValueError, match="already exists"):
        save_recipe(path, recipe_of("median", FILTERS["median"].params_type()))
    save_recipe(path, recipe_of("median", FILTERS["median"].params_type()), overwrite=True)
    assert load_recipe(path).method == "median" and [entry.name for entry in tmp_path.iterdir()] == ["r.json"]


def test_results_of_no_method_and_parameters_of_another_method_are_refused():
    assert recipe_refusal("median") is None and recipe_refusal("n2v") is None
    with pytest.raises(ParameterError, match=r"not made by a denoising method \('loaded'\)"):
        recipe_of("loaded", None)
    with pytest.raises(ParameterError, match="a median recipe needs MedianParams"):
        recipe_of("median", FILTERS["diffusion"].params_type())


def test_an_n2v_result_is_the_folder_its_model_was_saved_in(tmp_path):
    params = N2VParams(mask="vertical:3", epochs=4)
    with pytest.raises(ParameterError, match="model was never saved"):
        recipe_of("n2v", params)
    folder = _model_folder(tmp_path / "model", params)
    recipe = recipe_of("n2v", params, folder)
    assert recipe == Recipe("n2v", None, folder.absolute())
    path = save_recipe(tmp_path / "n2v.json", recipe)
    assert json.loads(path.read_text())["model"] == "model"
    assert load_recipe(path) == recipe


def test_a_custom_mask_matches_the_folders_copy_of_it_by_its_cells(tmp_path):
    mask = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    drawn = tmp_path / "drawn.txt"
    drawn.write_text(mask_to_text(mask))
    params = N2VParams(mask=str(drawn))
    check_model_folder(_model_folder(tmp_path / "same", params, mask), params)
    with pytest.raises(ParameterError, match="its mask differs"):
        check_model_folder(_model_folder(tmp_path / "other", params, np.array([[1, 1, 1]], np.uint8)), params)


@pytest.mark.parametrize("saved, message", [
    (None, "is not a model folder"),
    ("{not json", "the model description cannot be read"),
    (json.dumps({"params": N2VParams(epochs=9).as_dict()}), "its epochs differs"),
    (json.dumps({"params": N2VParams(mask="cross:3").as_dict()}), "its mask differs"),
])
def test_a_folder_that_does_not_hold_the_results_model_is_refused_saying_why(tmp_path, saved, message):
    folder = tmp_path / "model"
    folder.mkdir()
    if saved is not None:
        (folder / "metadata.json").write_text(saved)
    with pytest.raises(ParameterError, match=message):
        recipe_of("n2v", N2VParams(), folder)
