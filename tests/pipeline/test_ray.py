"""The Ray runner on a real local Ray cluster: same store as the local runner, faults, the install hint.

One cluster (``ray.init(num_cpus=2)``) serves the whole module; the runner reuses a connection it did
not make and leaves it running. Skipped when Ray is not installed (it is in the ``test`` extra).
"""

import os
import signal
import sys
import time

import pytest
import torch

from generator.pipeline.build import run_build
from generator.cli import main as atlas_main
from generator.pipeline.config import load_config
from generator.pipeline.runners import LocalRunner, make_runner_factory
from generator.pipeline.store import Store
from tests.pipeline.test_build import TINY_CONFIG, write
from tests.tiny import tiny_model

VARYING = ("timings", "created")  # wall-clock facts; everything else must match job for job


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install '.[ray]'")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20,
             logging_level="ERROR")
    yield ray
    ray.shutdown()


def build(tmp_path, model, factory, store="store", **kw):
    config = load_config(write(tmp_path, TINY_CONFIG))
    return run_build(config, tmp_path / store, None, model=model, runner_factory=factory, device_name="cpu",
                     batch_size=kw.pop("batch_size", config.build.batch), **kw)


def comparable(store: Store, key: str) -> dict:
    meta = {k: v for k, v in store.meta(key).items() if k not in VARYING}
    meta["metrics"] = {k: v for k, v in meta["metrics"].items() if k != "seconds"}
    return meta


def stored_keys(store: Store) -> set[str]:
    return {p.name for p in store.jobs.iterdir()}


def test_ray_build_stores_what_the_local_build_stores(tmp_path, tiny, ray_cluster, capsys):
    from generator.pipeline.runners.ray import RayRunner

    start = time.perf_counter()
    local = build(tmp_path, tiny, LocalRunner, store="local")
    local_s = time.perf_counter() - start
    runners = []

    def factory(model, video):  # the model loads on the worker, which uses the local runner's torch threads
        runners.append(RayRunner(model, video, loader=tiny_model))
        return runners[-1]

    start = time.perf_counter()
    remote = build(tmp_path, tiny, factory, store="ray")
    ray_s = time.perf_counter() - start
    assert (remote.planned, remote.rendered, remote.failed) == (local.planned, local.rendered, local.failed) == (7, 6, 1)
    a, b = Store(tmp_path / "local"), Store(tmp_path / "ray")
    assert stored_keys(a) == stored_keys(b) and len(stored_keys(a)) == 7
    assert a.read_manifest().classes == b.read_manifest().classes
    for key in stored_keys(a):
        assert comparable(a, key) == comparable(b, key), key
        for info in a.meta(key)["files"].values():  # final.png, progress.mp4, poster, thumb: the same bytes
            assert a.path(key, info["name"]).read_bytes() == b.path(key, info["name"]).read_bytes(), (key, info["name"])
    assert f"ray: 1 worker(s) (2 CPU each, torch threads {torch.get_num_threads()})" in capsys.readouterr().err
    assert runners[0].closed and not runners[0].actors
    print(f"\nsmall atlas (7 tiny jobs): local {local_s:.1f} s, ray {ray_s:.1f} s, ratio {ray_s / local_s:.1f}")

    # resume: only missing jobs are submitted; with none missing, no worker even starts
    again = build(tmp_path, tiny, factory, store="ray")
    assert (again.rendered, again.skipped) == (0, 7) and not runners[1].started


class KillAWorkerMidBuild:
    """Wraps a RayRunner: after the first finished batch, SIGKILLs the worker with the most work queued."""

    def __init__(self, runner):
        self.runner, self.killed = runner, None

    def run(self, batches, on_step=None):
        self.runner.start()
        self.pids = [info["pid"] for info in ray_get([a.ready.remote() for a in self.runner.actors])]
        for n, results in enumerate(self.runner.run(batches)):
            if n == 0:
                queued = [sum(slot == s for _, _, slot, _ in self.runner.inflight.values()) for s in range(len(self.pids))]
                victim = queued.index(max(queued))
                assert queued[victim] > 0, "the kill should land while the worker has work"
                os.kill(self.pids[victim], signal.SIGKILL)
                self.killed = self.pids[victim]
            yield results

    def close(self):
        self.runner.close()


def ray_get(refs):
    import ray

    return ray.get(refs)


def test_killed_worker_is_replaced_and_the_build_completes_every_job(tmp_path, tiny, ray_cluster):
    runners = []

    def factory(model, video):  # the CLI's factory: the driver's model travels through the object store
        runners.append(KillAWorkerMidBuild(make_runner_factory("ray")(model, video)))
        return runners[0]

    report = build(tmp_path, tiny, factory, batch_size=1)
    wrapper = runners[0]
    assert wrapper.killed and wrapper.runner.stats["replaced"] >= 1 and wrapper.runner.stats["retried"] >= 1
    assert (report.planned, report.rendered, report.failed, report.interrupted) == (7, 6, 1, False)
    store = Store(tmp_path / "store")
    for key in stored_keys(store):
        meta = store.meta(key)
        assert meta["status"] == "done" or "NaN/Inf" in meta["error"]  # only the NaN probe fails, as locally
    assert wrapper.runner.closed and not wrapper.runner.actors


def die(*_):
    os._exit(3)  # the worker process vanishes mid-render, as on a lost node or the OOM killer


def crashing_tiny():
    model = tiny_model()
    model.net.register_forward_pre_hook(die)
    return model


def test_a_batch_that_keeps_killing_its_worker_is_recorded_as_failed(tmp_path, tiny, ray_cluster):
    from generator.pipeline.runners.ray import RayRunner

    def factory(model, video):
        return RayRunner(model, video, loader=crashing_tiny, workers=1, max_retries=1)

    report = build(tmp_path, tiny, factory, limit=2, batch_size=2)
    assert (report.rendered, report.failed, report.interrupted, report.exit_code) == (0, 2, False, 1)
    store = Store(tmp_path / "store")
    errors = [store.meta(k)["error"] for k in stored_keys(store)]
    assert len(errors) == 2 and all(e.startswith("worker lost:") and "tried 2 times" in e for e in errors), errors
    # recorded failures are what --retry-failed renders again; the rest of the plan is still missing
    assert sum(store.status(j) == "missing" for j in [p.key for p in store.read_manifest().classes]) >= 1


def test_a_worker_with_other_weights_stops_the_build_with_the_reason(tmp_path, tiny, ray_cluster):
    from generator.errors import AtlasError
    from generator.pipeline.runners.ray import RayRunner

    other = tiny_model()
    other.weights = "something-else"
    runner = RayRunner(other, {"fps": 20, "hold_s": 0.5, "crf": 23}, loader=tiny_model, workers=1)
    try:
        with pytest.raises(AtlasError, match="could not load the model: .*planned with"):
            runner.start()
    finally:
        runner.close()
    assert not runner.actors


def test_without_ray_the_ray_runner_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.delitem(sys.modules, "generator.pipeline.runners.ray", raising=False)
    monkeypatch.setattr("generator.pipeline.build.architecture_layers", lambda name: tiny_model().layer_channels())
    config = write(tmp_path, TINY_CONFIG)
    code = atlas_main(["build", "--config", str(config), "--store", str(tmp_path / "store"), "--no-site", "--runner", "ray"])
    err = capsys.readouterr().err
    assert code == 2 and "--runner ray needs Ray: pip install '.[ray]'" in err and "Traceback" not in err
    assert not (tmp_path / "store").exists()  # checked before anything loads or writes
