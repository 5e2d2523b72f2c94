"""Faults during a build: two builds on one store, a lock left by a killed build, a full disk, another writer's
staging in tmp/. (A kill -9 at a random moment, then a rerun: tests/pipeline/test_build.py.)"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import generator.pipeline.build as build
import generator.pipeline.store as store_mod
from generator.cli import main
from generator.errors import AtlasError
from generator.pipeline.lock import store_lock
from generator.pipeline.store import Store
from generator.pipeline.video import probe_mp4
from tests.pipeline.test_build import LITE_CONFIG, write
from tests.tiny import tiny_model

# a real model for real processes, as little work as a build can be: 2 classes and the ladder's one stage
LITE = LITE_CONFIG.replace("classes = [1, 8, 130, 207, 291, 323]", "classes = [1, 8]")

SMALL = """
classes = [1, 2, 3, 4]
[model]
name = "tiny"
[recipe]
steps = 3
size = 32
frames = 3
[ladder]
stages = ["naive"]
[build]
batch = 1
"""


def holder_pid(store: Path) -> int | None:
    try:
        return json.loads((store / "lock").read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def wait_for(condition, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_a_second_build_is_refused_or_waits_while_the_first_completes(tmp_path, capsys):
    """Three real `atlas build` processes on one store: the first holds it (stopped for a while, so the others
    surely start while it does), the second is refused with the holder's pid, the third (--wait) queues behind it."""
    config, store = write(tmp_path, LITE), tmp_path / "store"
    cmd = [sys.executable, "-m", "generator", "build", "--config", str(config), "--store", str(store), "--no-site",
           "--device", "cpu"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: holder_pid(store) == first.pid)
        first.send_signal(signal.SIGSTOP)
        assert main(cmd[3:]) == 2  # in this process: refused before anything loads
        err = capsys.readouterr().err
        assert err.startswith(f"atlas: error: store {store} is in use by another build (pid {first.pid}, started ")
        assert "--wait" in err and err.count("\n") == 1
        third = subprocess.Popen(cmd + ["--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waiting = third.stderr.readline()  # its first line: it is queued now
    finally:
        first.send_signal(signal.SIGCONT)
    _, first_err = first.communicate(timeout=600)
    _, third_err = third.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert third.returncode == 0, waiting + third_err
    assert waiting == f"atlas: store {store} is in use by another build (pid {first.pid}, started " \
                      f"{waiting.split('started ')[1].split(')')[0]}); waiting for it to finish\n"
    assert "nothing to render: 3 of 3 jobs done" in third_err
    s = Store(store)
    assert all(s.status(k) == "done" for k in [c.key for c in s.read_manifest().classes])
    assert holder_pid(store) is None  # released: the file is empty


def test_a_lock_left_by_a_killed_build_is_taken_over(tmp_path):
    store = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from generator.pipeline.lock import store_lock\n"
                               f"with store_lock(Path({str(store)!r})):\n    print('held', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(AtlasError, match=rf"in use by another build \(pid {holder.pid}, started "):
        with store_lock(store):
            pass
    holder.kill()  # kill -9: no cleanup, the record stays in the file
    holder.wait()
    said = []
    with store_lock(store, say=said.append):
        assert holder_pid(store) == os.getpid()
    assert said == [f"atlas: taking over the lock on store {store} from a build that did not finish "
                    f"(pid {holder.pid}, started {said[0].split('started ')[1]}"]


def test_a_full_disk_during_a_job_is_one_line_and_keeps_finished_jobs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build, "load_build_model", lambda config, name, device: tiny_model())
    monkeypatch.setattr(build, "architecture_layers", lambda name: tiny_model().layer_channels())
    config, store = write(tmp_path, SMALL), tmp_path / "store"
    args = ["build", "--config", str(config), "--store", str(store), "--out", str(tmp_path / "site"), "--device", "cpu"]
    real_put, stored = Store.put, []

    def put(self, key, meta, files):
        if len(stored) == 2:  # the third job: its files are written, then the disk is full
            def full(path, data):
                path.write_bytes(b"{partial")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            monkeypatch.setattr(store_mod, "write_json_atomic", full)
        out = real_put(self, key, meta, files)
        stored.append(key)
        return out

    monkeypatch.setattr(Store, "put", put)
    assert main(args) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("atlas: error: no space left on device while storing ")
    assert "the 2 jobs stored this run are kept" in err[-1] and "Traceback" not in "\n".join(err)
    s = Store(store)
    assert [s.status(k) for k in stored] == ["done", "done"]
    for key in stored:
        probe_mp4(s.path(key, "progress.mp4"))
    assert list((store / "tmp").iterdir()) == [] and len(list((store / "jobs").iterdir())) == 2
    assert not (tmp_path / "site").exists()  # no site from a build that broke off

    monkeypatch.undo()
    monkeypatch.setattr(build, "load_build_model", lambda config, name, device: tiny_model())
    monkeypatch.setattr(build, "architecture_layers", lambda name: tiny_model().layer_channels())
    assert main(args) == 0  # space again: the rest is rendered, the first two are not
    assert "3 jobs to render (2 done" in capsys.readouterr().err


def test_cleaning_tmp_leaves_a_live_writers_staging_alone(tmp_path):
    store = Store(tmp_path).ensure_writable()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        theirs = store.tmp / f"k1.{live.pid}.abcd1234"
        killed = store.tmp / f"k2.{dead.pid}.abcd1234"
        older = store.tmp / "k3.abcd1234"  # named by an older version: no pid, an hour old
        fresh = store.tmp / "k4.abcd1234"
        for folder in (theirs, killed, older, fresh):
            folder.mkdir()
        os.utime(older, (time.time() - 7200, time.time() - 7200))
        store.clean_tmp()
        assert sorted(p.name for p in store.tmp.iterdir()) == sorted([theirs.name, fresh.name])
    finally:
        live.kill()
        live.wait()
