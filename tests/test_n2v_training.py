"""Noise2Void training with TensorFlow: tiny models trained for a few steps."""

import json
import sys
import zipfile

import numpy as np
import pytest

from et_denoise.engine.errors import Cancelled, ImageError, ParameterError
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.n2v import EventKind, ModelError, N2VParams, StopReason, TrainedModel, train
from et_denoise.engine.n2v.export import export_bioimageio
from et_denoise.engine.n2v.network_thread import run_on_network_thread
from et_denoise.engine.n2v.tiling import predict_tiled

TINY = N2VParams(patch_size=32, epochs=2, steps_per_epoch=5, batch_size=4, unet_depth=2, unet_filters=8)


def _noisy(shape, seed=0):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.linspace(0, 3, n) for n in shape), indexing="ij")
    clean = 100 + 20 * np.sin(sum(grids))
    return (clean + rng.normal(0, 10, shape)).astype(np.float32)


@pytest.fixture(scope="module")
def image():
    return _noisy((96, 112))


@pytest.fixture(scope="module")
def trained(image, tmp_path_factory):
    """One training run shared by several tests: the model, its events and its saved folder."""
    events = []
    folder = tmp_path_factory.mktemp("models") / "tiny"
    model = train([image], TINY, progress=events.append, model_dir=folder, preview=image[:64, :80])
    return model, events, folder


def test_progress_reports_every_batch_and_one_epoch_event_per_epoch(trained):
    model, events, _ = trained
    epochs = [e for e in events if e.kind is EventKind.EPOCH]
    batches = [e for e in events if e.kind is EventKind.BATCH]
    assert [e.epoch for e in epochs] == [1, 2]
    assert len(batches) == 2 * 5 and [e.batch for e in batches[:5]] == [1, 2, 3, 4, 5]
    assert all(e.val_loss is not None and np.isfinite(e.val_loss) for e in epochs)
    assert all(e.val_loss is None for e in batches)
    assert all(np.isfinite(e.loss) for e in events)
    # the cosine schedule: from the initial rate down towards 0 over the 10 planned batches
    cosine = [4e-4 * 0.5 * (1 + np.cos(np.pi * step / 10)) for step in range(10)]
    assert [e.learning_rate for e in batches] == pytest.approx(cosine, rel=1e-5)
    assert [e.learning_rate for e in epochs] == pytest.approx([cosine[4], cosine[9]], rel=1e-5)
    fractions = [e.fraction for e in batches]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and epochs[-1].eta_s == 0.0
    assert model.history.loss == [e.loss for e in epochs] and model.history.stopped is None


def test_plateau_schedule_keeps_the_learning_rate_while_the_loss_improves(image):
    events = []
    train([image], TINY.replace(lr_schedule="plateau", epochs=1), progress=events.append)
    assert [e.learning_rate for e in events] == pytest.approx([4e-4] * 6)


def test_every_epoch_previews_the_image_with_the_weights_of_that_epoch(trained, image):
    model, events, _ = trained
    epochs = [e for e in events if e.kind is EventKind.EPOCH]
    assert all(e.preview.shape == (64, 80) and e.preview.dtype == np.float32 for e in epochs)
    assert all(e.preview is None for e in events if e.kind is EventKind.BATCH)
    assert not np.allclose(epochs[0].preview, epochs[1].preview)
    # the model keeps the best epoch's weights: that epoch's preview is what it predicts
    final = model.predict(image[:64, :80])
    assert min(np.abs(e.preview - final).max() for e in epochs) < 1e-4


def test_prediction_keeps_shape_and_scale(trained, image):
    model, _, _ = trained
    out = model.predict(image)
    assert out.shape == image.shape and out.dtype == np.float32
    assert abs(out.mean() - image.mean()) < 0.2 * image.std()


def test_saved_model_reloads_and_predicts_the_same(trained, image):
    model, _, folder = trained
    assert {p.name for p in folder.iterdir()} >= {"metadata.json", "config.json", "weights_best.h5", "mask.txt"}
    loaded = TrainedModel.load(folder)
    assert loaded.params == model.params and loaded.history == model.history
    np.testing.assert_array_equal(loaded.mask, model.mask)
    assert (loaded.mean, loaded.std) == (model.mean, model.std)
    np.testing.assert_allclose(loaded.predict(image), model.predict(image), atol=1e-5)


def test_an_n2v2_network_trains_and_reloads_predicting_the_same(image, tmp_path):
    params = TINY.replace(epochs=1, blur_pool=True, top_skip=False)
    model = train([image], params, model_dir=tmp_path / "n2v2")
    keras_model = model.network.n2v_model.keras_model
    layers = {type(layer).__name__ for layer in keras_model.layers}
    assert "MaxBlurPool2D" in layers and "MaxPooling2D" not in layers
    # without the top skip connection the last level concatenates nothing at full resolution
    assert sum(type(layer).__name__ == "Concatenate" for layer in keras_model.layers) == params.unet_depth - 1
    loaded = TrainedModel.load(tmp_path / "n2v2")
    assert loaded.params == params
    np.testing.assert_allclose(loaded.predict(image), model.predict(image), atol=1e-5)


def test_blur_pooling_is_refused_in_3d():
    with pytest.raises(ParameterError, match="2d mode only"):
        TINY.replace(mode="3d", blur_pool=True).validate()


def test_a_time_budget_ends_training_on_time_with_the_learning_rate_run_down(image):
    events = []
    model = train([image], TINY.replace(epochs=1000, minutes=0.1), progress=events.append)  # 6 s
    history = model.history
    assert history.stopped is StopReason.TIME_BUDGET and 1 <= len(history.loss) < 1000
    assert events[-1].elapsed_s >= 6  # not before the budget; the epoch count shows it stopped soon after
    assert events[-1].fraction == 1.0
    assert history.learning_rate[-1] < 0.2 * TINY.learning_rate  # the cosine followed the clock to its end


def test_a_model_saved_before_the_kernel_size_and_flips_were_recorded_loads_with_kernel_5_and_no_flips(trained, tmp_path):
    _, _, folder = trained
    copy = tmp_path / "old"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    meta = json.loads((copy / "metadata.json").read_text())
    del meta["params"]["unet_kernel"], meta["params"]["test_time_flips"]
    (copy / "metadata.json").write_text(json.dumps(meta))
    params = TrainedModel.load(copy).params
    assert params.unet_kernel == 5 and not params.test_time_flips


def test_tiles_give_the_same_result_as_one_piece(trained):
    model, _, _ = trained
    volume = _noisy((2, 100, 136), seed=5)
    reported = []
    whole = model.predict(volume, flips=False)
    tiled = model.predict(volume, tile_shape=(40, 48), progress=reported.append, flips=False)
    # 3 x 3 tiles, the two planes of each predicted in one call
    assert len(reported) == 3 * 3 + 1 and reported.count(1.0) == 1 and reported == sorted(reported)
    np.testing.assert_allclose(tiled, whole, atol=1e-4 * volume.std())
    plane_by_plane = np.stack([model.predict(plane, flips=False) for plane in volume])
    np.testing.assert_allclose(whole, plane_by_plane, atol=1e-5 * volume.std())
    # The comparison is sensitive: tiles without their margins differ at the borders.
    normalised = (volume - model.mean) / model.std
    bare = predict_tiled(model.network.predict, normalised, ndim=2, margin=0, multiple=4, filters=8,
                         tile_shape=(40, 48))
    assert np.abs(bare * model.std + model.mean - whole).max() > 1e-2 * volume.std()


def test_a_finished_network_predicts_as_keras_does_with_its_batch_norms_folded(trained):
    _, _, folder = trained
    model = TrainedModel.load(folder)
    keras_model = model.network.n2v_model.keras_model
    norms = [layer for layer in keras_model.layers if type(layer).__name__ == "BatchNormalization"]
    rng = np.random.default_rng(3)
    for norm in norms:  # statistics far from the initial ones, so that a wrong fold shows
        gamma, beta, mean, variance = norm.get_weights()
        norm.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(0, 1, beta.shape),
                          rng.normal(0, 1, mean.shape), rng.uniform(0.2, 3, variance.shape)])
    batch = _noisy((3, 64, 48), seed=7)
    eager = run_on_network_thread(lambda: np.asarray(keras_model(batch[..., None], training=False))[..., 0])
    folded = run_on_network_thread(model.network.predict, batch)
    assert norms and np.abs(folded - eager).max() <= 1e-5 * float(eager.max() - eager.min())


def test_prediction_with_flips_averages_the_flipped_predictions_flipped_back(trained):
    model, _, _ = trained  # mask horizontal: symmetric under both flips
    volume = _noisy((2, 64, 80), seed=9)
    reported = []
    assert model.params.test_time_flips  # the default
    averaged = model.predict(volume, progress=reported.append)
    by_hand = np.mean([np.flip(model.predict(np.flip(volume, axes), flips=False), axes)
                       for axes in ((), (-1,), (-2,), (-2, -1))], axis=0)
    np.testing.assert_allclose(averaged, by_hand, atol=1e-5 * volume.std())
    assert np.abs(averaged - model.predict(volume, flips=False)).max() > 1e-3 * volume.std()
    assert reported == sorted(reported) and reported.count(1.0) == 1 and reported[-1] == 1.0


def test_flips_keep_only_those_the_mask_shares():
    from et_denoise.engine.n2v.masks import flip_symmetries, parse_mask

    assert flip_symmetries(parse_mask("horizontal:5"), 3) == ((), (-2,), (-1,), (-2, -1))  # never Z
    assert flip_symmetries(np.array([[0, 1, 1]]), 2) == ((), (-2,))
    assert len(flip_symmetries(None, 2)) == 4


def test_cancelled_prediction_raises(trained, image):
    model, _, _ = trained
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        model.predict(image, cancel=token)


def test_prediction_refuses_bad_images(trained):
    model, _, _ = trained
    with pytest.raises(ImageError, match="NaN"):
        model.predict(np.full((32, 32), np.nan, np.float32))
    with pytest.raises(ImageError, match="must be a 2-D image or a 3-D stack"):
        model.predict(np.zeros((2, 2, 32, 32), np.float32))


def test_stop_during_training_ends_early_and_the_model_still_predicts(image):
    token = CancelToken()
    events = []

    def progress(event):
        events.append(event)
        if event.kind is EventKind.BATCH and event.batch == 2:
            token.cancel()

    model = train([image], TINY.replace(epochs=50), progress=progress, cancel=token)
    assert model.history.stopped is StopReason.CANCELLED
    assert max(e.epoch for e in events) == 1 and sum(e.kind is EventKind.BATCH for e in events) == 2
    assert np.isfinite(model.predict(image)).all()


def test_training_prints_nothing_and_runs_without_console_streams(image, capfd, monkeypatch):
    # A windowed frozen build has sys.stdout = sys.stderr = None; n2v prints and shows progress bars.
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    model = train([image], TINY.replace(epochs=1, steps_per_epoch=2))
    monkeypatch.undo()
    assert model.history.loss and capfd.readouterr().out == ""


def test_stop_before_training_raises_cancelled(image):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train([image], TINY, cancel=token)


def test_3d_model_trains_and_predicts_a_small_volume(tmp_path):
    volume = _noisy((20, 40, 48), seed=2)
    params = N2VParams(mode="3d", patch_size=16, masked_fraction=1.0, epochs=1, steps_per_epoch=3, batch_size=2,
                       unet_depth=1, unet_filters=8, mask="horizontal:5")
    model = train([volume], params, model_dir=tmp_path / "m3d")
    assert model.mask.shape == (1, 1, 5)
    out = TrainedModel.load(tmp_path / "m3d").predict(volume)
    assert out.shape == volume.shape and np.isfinite(out).all()
    np.testing.assert_allclose(out, model.predict(volume), atol=1e-5)
    with pytest.raises(ImageError, match="3-D volume"):
        model.predict(volume[0])


def test_nan_loss_gives_a_clear_error(image, monkeypatch, poison_training_data):
    poison_training_data(monkeypatch)
    with pytest.raises(ModelError, match="loss became NaN in epoch 1, batch 1; lower the learning rate"):
        train([image], TINY)


def test_missing_or_corrupt_model_folder_gives_a_clear_error(trained, tmp_path):
    _, _, folder = trained
    with pytest.raises(ModelError, match="no such model folder"):
        TrainedModel.load(tmp_path / "absent")
    with pytest.raises(ModelError, match="metadata.json is missing"):
        TrainedModel.load(tmp_path)

    def damaged(name, edit):
        copy = tmp_path / name
        copy.mkdir()
        for path in folder.iterdir():
            (copy / path.name).write_bytes(path.read_bytes())
        edit(copy)
        return copy

    cases = {
        "garbled-json": (lambda d: (d / "metadata.json").write_text("{not json"), "damaged"),
        "bad-params": (lambda d: (d / "metadata.json").write_text(json.dumps(
            {**json.loads((folder / "metadata.json").read_text()), "params": {"epochs": -1}})), "damaged"),
        "no-weights": (lambda d: (d / "weights_best.h5").unlink(), "weights_best.h5 is missing"),
        "cut-weights": (lambda d: (d / "weights_best.h5").write_bytes(b"\x89HDF\r\n"), "cannot be loaded"),
        # A std of 0 would turn every prediction into NaN.
        "zero-std": (lambda d: (d / "metadata.json").write_text(json.dumps(
            {**json.loads((folder / "metadata.json").read_text()), "normalization": {"mean": 1.0, "std": 0.0}})),
            r"normalisation is damaged \(mean 1, std 0; the std must be a positive number\)"),
    }
    for name, (edit, message) in cases.items():
        with pytest.raises(ModelError, match=message):
            TrainedModel.load(damaged(name, edit))


def test_too_little_memory_is_refused_before_training_or_predicting_naming_both_sizes(trained, image,
                                                                                     monkeypatch):
    import et_denoise.engine.io.memory

    model, _, _ = trained
    monkeypatch.setattr(et_denoise.engine.io.memory, "available_memory", lambda: 50_000)
    with pytest.raises(ImageError, match=r"^not enough memory to train on 10,752 pixels \(their patches as float32, "
                                         r"twice while they are gathered\): it needs 86.0 kB, 50.0 kB are available$"):
        train([image], TINY)
    with pytest.raises(ImageError, match=r"^not enough memory to denoise this 96×112 image with the network "
                                         r"\(a float32 copy, the result, the sum over flips and one tile's activations\): "
                                         r"it needs [\d.]+ MB, "
                                         r"50.0 kB are available$"):
        model.predict(image)


def test_bioimageio_package_reproduces_the_model(trained, image, tmp_path):
    model, _, _ = trained
    path = export_bioimageio(model, tmp_path / "tiny.bioimage.io.zip", image, authors=["Tester"])
    from bioimageio.spec import load_model_description
    import tensorflow as tf

    description = load_model_description(path)
    assert description.name == "ET Denoise Noise2Void" and description.weights.tensorflow_saved_model_bundle
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(folder)
    zipfile.ZipFile(folder / "tf_model.zip").extractall(folder / "saved_model")
    network = tf.saved_model.load(str(folder / "saved_model")).signatures["serving_default"]
    test_input, test_output = np.load(folder / "test_input.npy"), np.load(folder / "test_output.npy")
    assert test_input.shape == (1, 96, 112, 1)
    normalised = tf.constant((test_input - model.mean) / model.std, tf.float32)
    output = next(iter(network(normalised).values())).numpy() * model.std + model.mean
    np.testing.assert_allclose(output, test_output, atol=1e-4 * image.std())
    np.testing.assert_allclose(test_output[0, ..., 0], model.predict(test_input[0, ..., 0], flips=False),
                               atol=1e-4 * image.std())


@pytest.mark.parametrize("mode, shape", [("2d", (96, 112)), ("3d", (40, 48, 48))])
def test_masked_pixels_percent_is_the_share_of_blind_spots_in_2d_and_3d(mode, shape):
    from et_denoise.engine.n2v.data import make_training_data
    from et_denoise.engine.n2v.n2v_backend import _training_sequence, _validation_pair

    params = N2VParams(mode=mode, patch_size=16, masked_fraction=1.0, batch_size=4, validation_fraction=0.2)
    data = make_training_data([_noisy(shape)], params)
    sequence = _training_sequence(data, params, params.blind_spot_mask, length=2)
    _, targets = sequence[0]
    _, validation_targets = _validation_pair(data, params, params.blind_spot_mask, sequence)
    for hidden in (targets[..., 1], validation_targets[..., 1]):
        assert 0.005 < hidden.mean() < 0.015  # about 1 % of the pixels (voxels) are blind spots
