"""How parameters and durations read in the interface, reports and tile titles."""

from et_denoise.engine.describe import choice_text, describe_params, format_seconds
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.n2v import N2VParams


def test_durations_read_naturally():
    assert [format_seconds(s) for s in (0.034, 2.44, 65.2)] == ["0.03 s", "2.4 s", "1 min 05 s"]


def test_every_parameter_is_named_by_its_label():
    described = describe_params(FILTERS["median"].params_type(size=7))
    assert described.startswith("Size 7") and "2-D" in described
    assert describe_params(None) == ""
    assert choice_text("3d") == "3-D" and choice_text("cross:9") == "cross:9"


def test_key_parameters_name_what_tells_results_apart():
    assert describe_params(FILTERS["median"].params_type(size=5), key=3) == "Size 5"
    diffusion = FILTERS["diffusion"].params_type(kappa=1.5)
    assert describe_params(diffusion, key=3) == "Iterations 15 · κ 1.5 · Step γ 0.15"
    # past the first three, only what differs from the default is named
    assert describe_params(N2VParams(), key=3) == "Blind-spot mask horizontal:11 · Patch size 64 · Epochs 10"
    assert describe_params(N2VParams(learning_rate=1e-3, seed=7), key=3) == (
        "Blind-spot mask horizontal:11 · Patch size 64 · Epochs 10 · Learning rate 0.001 · Random seed 7")
    assert describe_params(None, key=3) == ""


def test_a_trained_model_reads_with_its_mask_by_shape_and_the_epochs_it_ran(tmp_path):
    from et_denoise.engine.n2v.model import TrainedModel
    from et_denoise.engine.n2v.monitor import History

    def shown(mask_rows, epochs_run):
        path = tmp_path / f"mask{len(list(tmp_path.iterdir()))}.txt"
        path.write_text("\n".join(mask_rows))
        params = N2VParams(mask=str(path), epochs=10)
        model = TrainedModel(params, params.blind_spot_mask, 0.0, 1.0, History(loss=[1.0] * epochs_run), None, "n2v")
        return describe_params(params, key=3, shown=model.shown_values())

    # a file holding a preset is named by the preset; the epochs say training stopped early
    assert shown(["1" * 11], 2) == "Blind-spot mask horizontal:11 · Patch size 64 · Epochs 2 of 10"
    assert shown(["010", "111", "111", "010", "010"], 10) == "Blind-spot mask custom 5×3 · Patch size 64 · Epochs 10"
    assert str(tmp_path) not in shown(["111"], 10)
