"""The same slab jobs on a real ``distributed.LocalCluster`` of 2 worker processes: results equal the local run."""

import mrcfile
import numpy as np
import pytest

from et_denoise.cli import main
from et_denoise.engine.errors import Cancelled, ImageError
from et_denoise.engine.filters import FILTERS
from et_denoise.engine.io import open_image_lazily, read_image, write_image
from et_denoise.engine.jobs import CancelToken
from et_denoise.engine.sample import make_sample
from et_denoise.engine.volume import denoise_to_file, method_job
from et_denoise.engine.volume.budget import slab_bytes
from et_denoise.engine.volume.cluster import denoise_on_cluster

SHAPE = (21, 48, 56)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as connected:
            yield connected


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("cluster") / "noisy.rec"
    return write_image(path, make_sample(shape=SHAPE, seed=4).noisy, voxel_size=(6.0, 6.0, 6.0), origin=(1, 2, 3))


@pytest.mark.parametrize("name, options", [("median", {"mode": "3d"}), ("dct", {"mode": "3d", "cube_size": 4})])
def test_a_cluster_run_equals_the_local_run_header_included(client, source, tmp_path, name, options):
    method = FILTERS[name]
    volume = open_image_lazily(source)
    job = method_job(method, method.params_type(**options), volume)
    memory = slab_bytes(volume.shape, 4, job, 4)  # 6 slabs over the 2 workers
    reports = []
    on_cluster = denoise_on_cluster(volume, tmp_path / "cluster.rec", job, client, memory=memory,
                                    progress=reports.append)
    local = denoise_to_file(volume, tmp_path / "local.rec", job, memory=memory)
    np.testing.assert_array_equal(read_image(on_cluster).data, read_image(local).data)
    with mrcfile.open(on_cluster, header_only=True) as a, mrcfile.open(local, header_only=True) as b:
        for field in ("dmin", "dmax", "dmean", "rms", "nx", "ny", "nz", "ispg"):
            assert float(a.header[field]) == pytest.approx(float(b.header[field]), rel=1e-12), field
    assert read_image(on_cluster).voxel_size == (6.0, 6.0, 6.0) and read_image(on_cluster).origin == (1.0, 2.0, 3.0)
    assert reports[-1] == 1.0 and reports.count(1.0) == 1 and len(reports) >= 2


def test_a_cancelled_cluster_run_leaves_no_file_and_the_old_output_untouched(client, source, tmp_path):
    out = tmp_path / "out.mrc"
    out.write_bytes(b"an earlier result")
    token = CancelToken()
    token.cancel()
    volume = open_image_lazily(source)
    job = method_job(FILTERS["nlm"], FILTERS["nlm"].params_type(mode="3d"), volume)
    with pytest.raises(Cancelled):
        denoise_on_cluster(volume, out, job, client, memory=slab_bytes(volume.shape, 4, job, 2), overwrite=True,
                           cancel=token)
    assert out.read_bytes() == b"an earlier result"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.mrc"]


def test_a_tiff_output_is_refused_on_a_cluster(client, source, tmp_path):
    volume = open_image_lazily(source)
    with pytest.raises(ImageError, match="name the output .mrc or .rec"):
        denoise_on_cluster(volume, tmp_path / "out.tif", method_job(FILTERS["median"], None, volume), client)


def test_denoise_with_scheduler_sends_the_job_to_the_cluster(client, source, tmp_path, capsys):
    out = tmp_path / "out.rec"
    address = client.scheduler.address
    assert main(["denoise", str(source), "-o", str(out), "--method", "diffusion", "--mode", "3d",
                 "--iterations", "4", "--memory", "600kB", "--scheduler", address]) == 0
    params = FILTERS["diffusion"].params_type(mode="3d", iterations=4)
    expected = FILTERS["diffusion"].apply(read_image(source).data, params)
    np.testing.assert_allclose(read_image(out).data, expected, rtol=0, atol=1e-5 * float(np.ptp(expected)))
    capsys.readouterr()
    assert main(["denoise", str(source), "-o", str(tmp_path / "o.tif"), "--method", "median",
                 "--scheduler", address]) == 2
    assert "name the output .mrc or .rec" in capsys.readouterr().err
    assert main(["denoise", str(source), "-o", str(tmp_path / "o.mrc"), "--method", "median",
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.slow
def test_n2v_prediction_on_the_cluster_equals_the_local_run_with_the_model_loaded_once_per_worker(
        client, source, tmp_path):
    from et_denoise.engine.n2v import N2VParams, TrainedModel, train
    from et_denoise.engine.volume import model_job
    from et_denoise.engine.volume.jobs import model_in_this_process

    params = N2VParams(patch_size=32, epochs=1, steps_per_epoch=3, batch_size=4, unet_depth=2, unet_filters=8,
                       mask="horizontal:3")
    train([read_image(source).data], params, model_dir=tmp_path / "model")
    model = TrainedModel.load(tmp_path / "model")
    volume = open_image_lazily(source)
    job = model_job(model, folder=tmp_path / "model")
    memory = slab_bytes(volume.shape, 4, job, 3)  # 7 slabs over the 2 workers
    on_cluster = denoise_on_cluster(volume, tmp_path / "cluster.rec", job, client, memory=memory)
    local = denoise_to_file(volume, tmp_path / "local.rec", model_job(model), memory=memory)
    expected = read_image(local).data
    np.testing.assert_allclose(read_image(on_cluster).data, expected, rtol=0, atol=1e-5 * float(np.ptp(expected)))
    loads = client.run(lambda: model_in_this_process.cache_info().misses)
    assert len(loads) == 2 and all(count <= 1 for count in loads.values()) and sum(loads.values()) >= 1

    out = tmp_path / "cli.rec"  # the command line sends the model's folder the same way
    assert main(["denoise", str(source), "-o", str(out), "--method", "n2v", "--model", str(tmp_path / "model"),
                 "--memory", str(memory), "--scheduler", client.scheduler.address]) == 0
    np.testing.assert_allclose(read_image(out).data, expected, rtol=0, atol=1e-5 * float(np.ptp(expected)))


def test_connecting_to_a_busy_shared_scheduler_retries_a_handshake_broken_by_a_broadcast(client):
    """Another client's cancellation is sent to every client, a new one included, before its stream-start."""
    from et_denoise.engine.volume.cluster import connect

    scheduler = client.cluster.scheduler

    class BroadcastFirst(dict):
        broken = 0

        def __setitem__(self, name, comm):
            if not BroadcastFirst.broken:
                BroadcastFirst.broken += 1
                comm.send({"op": "cancelled-keys", "keys": [], "reason": None, "msg": None})
            super().__setitem__(name, comm)

    scheduler.client_comms = BroadcastFirst(scheduler.client_comms)
    try:
        with connect(scheduler.address) as connected:
            assert connected.submit(sum, [1, 2]).result() == 3
    finally:
        scheduler.client_comms = dict(scheduler.client_comms)
    assert BroadcastFirst.broken == 1
