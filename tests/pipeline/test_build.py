"""The store and the build: atomic writes, resume after a kill, keys, corrupt folders, MP4s, config errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import generator.pipeline.store as store_mod
from generator.pipeline.build import run_build
from generator.pipeline.config import load_config
from generator.pipeline.plan import batches, hierarchy_order, make_plan
from generator.engine.render import frame_schedule
from generator.pipeline.runners import LocalRunner
from generator.pipeline.store import Store
from generator.pipeline.video import probe_mp4

TINY_CONFIG = """
title = "test atlas"
classes = [1, 2, 3]
[model]
name = "tiny"
[recipe]
stage = "full"
steps = 6
size = 32
frames = 4
[channels]
explicit = { "probe" = [0], "stem.0" = [2] }
[video]
hold_s = 0.5
[ladder]
target = "hen"
stages = ["naive", "full"]
[build]
batch = 4
"""


def write(tmp_path, text, name="atlas.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def build(tmp_path, tiny, config_text=TINY_CONFIG, **kw):
    config = load_config(write(tmp_path, config_text))
    return run_build(config, tmp_path / "store", None, model=tiny, runner_factory=LocalRunner, device_name="cpu",
                     batch_size=config.build.batch, **kw)


def test_build_records_done_and_failed_jobs_then_resumes_with_nothing_to_do(tmp_path, tiny, capsys):
    report = build(tmp_path, tiny)
    # 3 classes + 2 channels + ladder (naive, and full = the hen class job... hen is not in classes here)
    assert report.planned == 7 and report.rendered == 6 and report.failed == 1 and report.exit_code == 1
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    failed = [c for c in manifest.channels if c.layer == "probe"][0]
    meta = store.meta(failed.key)
    assert meta["status"] == "failed" and "NaN/Inf" in meta["error"]
    for entry in manifest.classes:
        meta = store.meta(entry.key)
        assert meta["status"] == "done" and meta["model"]["name"] == "tiny"
        video = probe_mp4(store.path(entry.key, "progress.mp4"))
        assert (video["codec"], video["pix_fmt"], video["faststart"], video["has_audio"]) == ("h264", "yuv420p", True, False)
        assert video["frames"] == len(frame_schedule(6, 4)) + round(0.5 * 20)
        assert video["width"] % 2 == 0 and meta["files"]["thumb"]["bytes"] <= 20_000
    capsys.readouterr()
    start = time.perf_counter()
    again = build(tmp_path, tiny)
    assert again.rendered == 0 and again.skipped == 7 and time.perf_counter() - start < 5
    assert "nothing to render" in capsys.readouterr().err
    assert build(tmp_path, tiny, retry_failed=True).failed == 1  # retried on request, fails again, recorded


def test_recipe_change_changes_keys_and_only_those_rerender(tmp_path, tiny):
    config = load_config(write(tmp_path, TINY_CONFIG))
    other = load_config(write(tmp_path, TINY_CONFIG.replace("steps = 6", "steps = 7"), "b.toml"))
    same = load_config(write(tmp_path, TINY_CONFIG, "c.toml"))
    jobs = make_plan(config, tiny).jobs
    keys = [j.key for j in jobs]
    assert keys == [j.key for j in make_plan(same, tiny).jobs]
    # the post's pixel stages have a step budget of their own (256): the atlas's steps leave their jobs alone
    own_steps = {j.key for j in jobs if j.role == "ladder" and j.recipe.stage == "naive"}
    assert own_steps and {j.recipe.steps for j in jobs if j.key in own_steps} == {256}
    assert set(keys) & {j.key for j in make_plan(other, tiny).jobs} == own_steps
    assert len(set(keys)) == len(keys)


def test_crash_mid_write_leaves_no_trusted_artifact(tmp_path, monkeypatch):
    store = Store(tmp_path).ensure_writable()
    meta = {"status": "done", "files": {"final": {"name": "final.png"}, "video": {"name": "progress.mp4"}}}

    def crash(*a, **k):
        raise KeyboardInterrupt  # Ctrl-C while meta.json is being written

    monkeypatch.setattr(store_mod, "write_json_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        store.put("k1", meta, {"final": b"png", "video": b"mp4"})
    assert store.status("k1") == "missing" and not (tmp_path / "jobs" / "k1").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_corrupt_or_partial_folders_count_as_missing(tmp_path):
    store = Store(tmp_path).ensure_writable()
    meta = {"status": "done", "files": {"final": {"name": "final.png"}, "video": {"name": "progress.mp4"}}}
    store.put("good", json.loads(json.dumps(meta)), {"final": b"png", "video": b"mp4 bytes"})
    assert store.status("good") == "done"
    (tmp_path / "jobs" / "partial").mkdir()
    (tmp_path / "jobs" / "partial" / "final.png").write_bytes(b"x")  # no meta.json: an old crash
    assert store.status("partial") == "missing"
    store.put("truncated", json.loads(json.dumps(meta)), {"final": b"png", "video": b"mp4 bytes"})
    (tmp_path / "jobs" / "truncated" / "progress.mp4").write_bytes(b"mp4")
    assert store.status("truncated") == "missing"
    store.put("badjson", json.loads(json.dumps(meta)), {"final": b"png", "video": b"mp4 bytes"})
    (tmp_path / "jobs" / "badjson" / "meta.json").write_text("{not json")
    assert store.status("badjson") == "missing"
    # valid JSON of the wrong shape is as corrupt as invalid JSON (the site would trip over it)
    for change in ({"files": []}, {"metrics": [1]}, {"error": 3}, {"target": "hen"}, {"status": "maybe"},
                   {"files": {"final": {"name": "/etc/hostname", "bytes": 3}}}):
        store.put("typed", json.loads(json.dumps(meta)), {"final": b"png", "video": b"mp4 bytes"})
        path = tmp_path / "jobs" / "typed" / "meta.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
        assert store.status("typed") == "missing", change
    # rewriting a corrupt folder replaces it whole
    store.put("badjson", json.loads(json.dumps(meta)), {"final": b"png2", "video": b"mp4 bytes"})
    assert store.status("badjson") == "done" and store.path("badjson", "final.png").read_bytes() == b"png2"


def test_corrupt_job_is_rendered_again(tmp_path, tiny):
    build(tmp_path, tiny)
    store = Store(tmp_path / "store")
    key = store.read_manifest().classes[0].key
    video = store.path(key, "progress.mp4")
    video.write_bytes(video.read_bytes()[:100])
    again = build(tmp_path, tiny)
    assert again.rendered == 1 and store.status(key) == "done"
    probe_mp4(video)


def test_hierarchy_order_covers_the_tree_early():
    order = hierarchy_order(list(range(1000)))
    assert sorted(order) == list(range(1000))
    first = order[:40]
    from generator.engine.targets import imagenet_classes

    heads = {imagenet_classes()[i]["path"][0] for i in first}
    assert len(heads) >= 4 and not all(i < 400 for i in first)  # not just the animals at 0..397


def test_batches_share_a_recipe():
    from generator.engine.recipe import stage_recipe
    from generator.pipeline.plan import Job
    from generator.engine.targets import class_target

    a, b = stage_recipe("full"), stage_recipe("naive")
    jobs = [Job(str(i), class_target(i), r, "class") for i, r in enumerate([a, a, b, a, a, a])]
    assert [[j.key for j in batch] for batch in batches(jobs, 2)] == [["0", "1"], ["2"], ["3", "4"], ["5"]]


def test_shipped_configs_load():
    for name in ["atlas.toml", "preview.toml"]:
        config = load_config(Path("content") / name)
        assert config.model.name == "resnet18" and config.model.fallback == "efficientnet_lite0"
    assert load_config(Path("content/atlas.toml")).classes == "all"


LITE_CONFIG = """
classes = [1, 8, 130, 207, 291, 323]
[model]
name = "efficientnet_lite0"
[recipe]
steps = 4
size = 48
frames = 3
[ladder]
stages = ["naive"]
[build]
batch = 1
"""


def test_killed_build_resumes_and_completes_every_job(tmp_path):
    """Kill a real `atlas build` process partway (SIGKILL: no cleanup at all), rerun, check every job."""
    config = write(tmp_path, LITE_CONFIG)
    cmd = [sys.executable, "-m", "generator", "build", "--config", str(config), "--store", str(tmp_path / "store"),
           "--out", str(tmp_path / "site"), "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    jobs = tmp_path / "store" / "jobs"
    deadline = time.time() + 300
    while time.time() < deadline and (not jobs.exists() or len(list(jobs.iterdir())) < 2):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = len(list(jobs.iterdir()))
    assert 2 <= first < 7, "the kill should land partway"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"{7 - first} jobs to render" in done.stderr or f"({first} done" in done.stderr
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    keys = [c.key for c in manifest.classes] + [s.key for s in manifest.ladder.stages]
    for key in keys:
        assert store.status(key) == "done"
        assert probe_mp4(store.path(key, "progress.mp4"))["codec"] == "h264"
    assert list((tmp_path / "store" / "tmp").iterdir()) == []
    assert (tmp_path / "site" / "index.html").exists()


def test_ctrl_c_stops_after_the_batch_and_keeps_work(tmp_path):
    config = write(tmp_path, LITE_CONFIG)
    cmd = [sys.executable, "-m", "generator", "build", "--config", str(config), "--store", str(tmp_path / "store"),
           "--no-site", "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jobs = tmp_path / "store" / "jobs"
    deadline = time.time() + 300
    while time.time() < deadline and (not jobs.exists() or not any(jobs.iterdir())):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "Run `make atlas` again to resume" in err and "Traceback" not in err
    store = Store(tmp_path / "store")
    assert all(store.status(p.name) == "done" for p in jobs.iterdir())


def test_time_budget_stops_before_a_batch_that_would_not_fit_and_a_rerun_continues(tmp_path, tiny, monkeypatch, capsys):
    from generator.pipeline.budget import TimeBudget

    # every batch "takes" 25 s: with 1 minute, two batches fit (0 + 25, 25 + 25 <= 60) and the third does not
    monkeypatch.setattr(TimeBudget, "estimate", lambda self, steps: 25.0)
    record = TimeBudget.record

    def count_batches(self, image_steps, seconds):
        record(self, image_steps, seconds)
        self.batches = getattr(self, "batches", 0) + 1

    monkeypatch.setattr(TimeBudget, "record", count_batches)
    monkeypatch.setattr(TimeBudget, "elapsed", lambda self: 25.0 * getattr(self, "batches", 0))
    config = TINY_CONFIG.replace("batch = 4", "batch = 1").replace('explicit = { "probe" = [0], "stem.0" = [2] }', "")
    first = build(tmp_path, tiny, config, time_budget=1)
    err = capsys.readouterr().err
    assert first.rendered == 2 and first.out_of_time and first.exit_code == 0
    assert "the time budget" in err and "run again to continue" in err
    assert f"{first.classes_done} of 3 classes done, {3 - first.classes_done} left" in err
    second = build(tmp_path, tiny, config, time_budget=1)
    assert second.rendered == 2 and second.done == 4  # continued where the first stopped
    third = build(tmp_path, tiny, config)
    assert third.rendered == 1 and not third.out_of_time and third.done == third.planned == 5
