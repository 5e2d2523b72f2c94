"""What a class is made of, in the build: two phases on the tiny model (the classes, then the channels their images
are made of), the measurement cache, reruns, partial builds, and more samples per class."""

from __future__ import annotations

import json

import pytest

import generator.pipeline.class_channels as class_channels
from generator.engine.contributions import measure
from generator.pipeline.build import run_build
from generator.pipeline.class_channels import CACHE, Contributions, cache_name, load_image
from generator.pipeline.config import load_config
from generator.pipeline.plan import make_plan
from generator.pipeline.runners import LocalRunner
from generator.pipeline.store import Store

CONFIG = """
classes = [1, 2, 3]
[model]
name = "tiny"
[recipe]
steps = 4
size = 32
frames = 2
[channels]
per_class = 2
[video]
hold_s = 0
[ladder]
stages = ["naive"]
[build]
batch = 4
"""


def build(tmp_path, tiny, text=CONFIG, **kw):
    path = tmp_path / "atlas.toml"
    path.write_text(text)
    config = load_config(path)
    return run_build(config, tmp_path / "store", None, model=tiny, runner_factory=LocalRunner, device_name="cpu",
                     batch_size=config.build.batch, **kw)


@pytest.fixture
def count_measured(monkeypatch):
    """How many images went through the measurement."""
    seen = []

    def counting(model, images, classes, k, layer=None):
        seen.extend(classes)
        return measure(model, images, classes, k, layer)

    monkeypatch.setattr(class_channels, "measure", counting)
    return seen


def by_hand(store: Store, tiny, index: int, key: str, k: int) -> list[int]:
    """A class's top-k channels, measured again on its stored final image."""
    return [p.channel for p in measure(tiny, load_image(store, key, tiny)[None], [index], k)[0]]


def test_two_phases_render_each_class_then_its_top_channels(tmp_path, tiny, capsys, count_measured):
    report = build(tmp_path, tiny)
    err = capsys.readouterr().err
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    tops = {e.index: by_hand(store, tiny, e.index, e.key, 2) for e in manifest.classes}
    expected = list(dict.fromkeys(c for rank in range(2) for i in (1, 2, 3) for c in [tops[i][rank]]))
    channels = [(e.layer, e.channel) for e in manifest.channels]
    assert sorted(channels) == sorted(("block.1", c) for c in expected)  # deduplicated across classes
    assert report.rendered == 1 + 3 + len(expected) and report.planned == report.done == report.rendered
    assert all(store.status(e.key) == "done" for e in manifest.channels)
    made_of = manifest.made_of
    assert made_of.layer == "block.1" and made_of.per_class == 2
    assert {i: [p.channel for p in parts] for i, parts in made_of.classes.items()} == tops
    for c in expected:  # every rendered channel knows its users, largest part first
        users = made_of.users[c]
        assert {u.index for u in users} >= {i for i in tops if c in tops[i]}
        assert [u.value for u in users] == sorted((u.value for u in users), reverse=True)
    assert sorted(count_measured) == [1, 2, 3]  # each class image measured once, as its batch was stored
    assert "then about" in err.splitlines()[0] and "channel jobs for what the classes are made of" in err.splitlines()[0]


def test_a_rerun_renders_nothing_and_measures_nothing(tmp_path, tiny, capsys, count_measured):
    build(tmp_path, tiny)
    cache = next((tmp_path / "store" / CACHE).glob("*.json"))
    before = (cache.read_bytes(), cache.stat().st_mtime_ns)
    count_measured.clear()
    capsys.readouterr()
    again = build(tmp_path, tiny)
    assert again.rendered == 0 and again.done == again.planned and not count_measured
    assert "nothing to render" in capsys.readouterr().err
    assert (cache.read_bytes(), cache.stat().st_mtime_ns) == before  # reused, not rewritten


@pytest.mark.parametrize("corrupt", ["{not json", "[1, 2]", "entries"])
def test_a_corrupt_cache_is_measured_again(tmp_path, tiny, count_measured, corrupt):
    build(tmp_path, tiny)
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    cache = tmp_path / "store" / CACHE / f"{cache_name(tiny, 'block.1')}.json"
    if corrupt == "entries":  # valid JSON, wrong shapes: a string, too few triples, a NaN, no such channel
        data = json.loads(cache.read_text())
        keys = [e.key for e in manifest.classes]
        data[keys[0]] = "x"
        data[keys[1]] = data[keys[1]][:3]
        data[keys[2]] = [[c, float("nan") if n == 0 else v, s] for n, (c, v, s) in enumerate(data[keys[2]])]
        data["another"] = [[99, 1.0, 0.1]] * 16
        cache.write_text(json.dumps(data))
    else:
        cache.write_text(corrupt)
    count_measured.clear()
    again = build(tmp_path, tiny)
    assert again.rendered == 0 and sorted(count_measured) == [1, 2, 3]
    assert store.read_manifest().made_of == manifest.made_of and store.read_manifest().channels == manifest.channels
    assert len(Contributions(tiny, store).cache) == 3


def test_a_partial_build_has_fewer_channels_and_the_next_one_completes_it(tmp_path, tiny):
    first = build(tmp_path, tiny, limit=2)  # the ladder and one class: phase 2 has no budget left
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    measured = set(manifest.made_of.classes)
    assert first.rendered == 2 and len(measured) == 1
    assert {e.channel for e in manifest.channels} == {p.channel for p in manifest.made_of.classes[measured.pop()]}
    assert all(store.status(e.key) == "missing" for e in manifest.channels)  # planned, pending on the site
    rest = build(tmp_path, tiny)
    manifest = store.read_manifest()
    assert set(manifest.made_of.classes) == {1, 2, 3} and rest.done == rest.planned
    assert all(store.status(e.key) == "done" for e in manifest.channels)


def test_without_per_class_nothing_is_measured(tmp_path, tiny, count_measured):
    report = build(tmp_path, tiny, CONFIG.replace("per_class = 2", "per_class = 0"))
    assert report.rendered == 4 and not count_measured
    assert Store(tmp_path / "store").read_manifest().made_of is None
    assert not (tmp_path / "store" / CACHE).exists()


def test_samples_add_seeds_after_the_main_image(tmp_path, tiny):
    plain = tmp_path / "plain.toml"
    plain.write_text(CONFIG)
    sampled = tmp_path / "sampled.toml"
    sampled.write_text(CONFIG.replace("[ladder]", "[samples]\nclasses = [2]\nseeds = [0, 5, 7]\n[ladder]"))
    a, b = make_plan(load_config(plain), tiny), make_plan(load_config(sampled), tiny)
    assert a.class_keys == b.class_keys  # the main images keep their keys
    entries = {e.index: e for e in b.manifest.classes}
    assert len(entries[2].seed_keys) == 3 and entries[2].seed_keys[0] == entries[2].key
    assert [len(entries[i].seed_keys) for i in (1, 3)] == [1, 1]
    keys = [j.key for j in b.jobs]
    assert keys[:len(a.jobs)] == [j.key for j in a.jobs]  # the extra samples come after every class
    assert [j.recipe.seed for j in b.jobs[len(a.jobs):]] == [5, 7]
    everything = tmp_path / "all.toml"
    everything.write_text(CONFIG.replace("[ladder]", '[samples]\nclasses = "all"\nseeds = [1]\n[ladder]'))
    assert all(len(e.seed_keys) == 2 for e in make_plan(load_config(everything), tiny).manifest.classes)


def test_max_caps_the_channel_jobs_keeping_every_class_first_channel(tmp_path, tiny):
    build(tmp_path, tiny, CONFIG.replace("per_class = 2", "per_class = 2\nmax = 2"))
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    tops = {e.index: by_hand(store, tiny, e.index, e.key, 2) for e in manifest.classes}
    ranked = list(dict.fromkeys(c for rank in range(2) for i in (1, 2, 3) for c in [tops[i][rank]]))
    assert len(ranked) > 2 and {e.channel for e in manifest.channels} == set(ranked[:2])


def test_a_resumed_build_renders_only_the_channels_it_keeps(tmp_path, tiny):
    """Channels planned from an earlier, partial measurement wait until this run's classes are measured: with a
    cap, the later classes' first channels displace earlier ones' second, and those are never rendered."""
    capped = CONFIG.replace("per_class = 2", "per_class = 2\nmax = 2")
    build(tmp_path, tiny, capped, limit=2)  # the ladder and class 1: its two channels planned, pending
    build(tmp_path, tiny, capped)
    store = Store(tmp_path / "store")
    manifest = store.read_manifest()
    kept = {e.key for e in manifest.channels}
    rendered = {p.name for p in (tmp_path / "store" / "jobs").iterdir()
                if json.loads((p / "meta.json").read_text())["role"] == "channel"}
    assert len(kept) == 2 and rendered == kept
