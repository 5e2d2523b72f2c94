"""The manifest: one dataclass, one schema, read only through the store, with defaults for what older builds
did not write, and one clear line for everything else."""

from __future__ import annotations

import json

import pytest

from generator.errors import AtlasError
from generator.pipeline.config import LadderConfig
from generator.pipeline.manifest import Manifest
from generator.pipeline.store import Store

MINIMAL = {"schema": 1, "model": {"name": "tiny"}, "recipe": {"size": 32},
           "classes": [{"index": 8, "key": "k8"}], "channels": [{"layer": "stem.0", "channel": 2, "key": "kc"}],
           "ladder": {"class": 8, "stages": [{"stage": "naive", "key": "kn"}]}}


def write(tmp_path, data) -> Store:
    (tmp_path / "manifest.json").write_text(json.dumps(data) if isinstance(data, dict) else data)
    return Store(tmp_path)


def test_keys_older_builds_did_not_write_read_as_defaults(tmp_path):
    m = write(tmp_path, MINIMAL).read_manifest()
    assert (m.title, m.video, m.class_weights, m.updated, m.size) == ("Feature Atlas", {}, {}, "", 32)
    assert m.classes[0].seed_keys == ("k8",) and m.channels[0].seed_keys == ("kc",)
    assert m.ladder.stages[0].note == "" and m.ladder.stage_keys() == {"naive": "kn"}
    assert (m.ladder.post_dir, m.ladder.post_videos) == (LadderConfig().post_dir, LadderConfig().post_videos)


def test_the_store_writes_what_it_reads(tmp_path):
    store = write(tmp_path, MINIMAL)
    m = store.read_manifest()
    store.write_manifest(m)
    again = store.read_manifest()
    assert again.updated and again == Manifest(**{**m.__dict__, "updated": again.updated})
    assert json.loads((tmp_path / "manifest.json").read_text()) == again.to_json()


@pytest.mark.parametrize("data, message", [
    (None, "no manifest.json"),
    ("[1, 2]", "not a JSON object"),
    ('{"schema": 1, "classes": [', "corrupt manifest"),
    ({**MINIMAL, "schema": 2}, "manifest schema 2, but this atlas reads schema 1"),
    ({**MINIMAL, "model": "tiny"}, "'model' and 'recipe' must be objects"),
    ({**MINIMAL, "classes": [{"index": "eight", "key": "k"}]}, "bad entry (ValueError"),
    ({**MINIMAL, "channels": [{"layer": "stem.0", "key": "k"}]}, "bad entry (KeyError"),
    ({**MINIMAL, "ladder": {"stages": [1]}}, "bad entry (TypeError"),
])
def test_every_mistake_is_one_line(tmp_path, data, message):
    store = Store(tmp_path) if data is None else write(tmp_path, data)
    with pytest.raises(AtlasError) as info:
        store.read_manifest()
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not store.has_manifest() if data is None else store.has_manifest()


MADE_OF = {"layer": "layer4.1", "pooled": "layer4.1", "per_class": 2,
           "classes": {"8": [[37, 2.5, 0.14], [12, 1.1, 0.06]]}, "weights": {"8": [[37, 0.21], [99, 0.2]]},
           "users": {"37": [[8, 2.5, 0.14]], "12": [[8, 1.1, 0.06]]}}


def test_made_of_is_one_optional_field(tmp_path):
    """Older manifests have none and write back without one; a new one reads and writes back as it was."""
    store = write(tmp_path, MINIMAL)
    m = store.read_manifest()
    assert m.made_of is None and "made_of" not in m.to_json()
    data = {**MINIMAL, "made_of": MADE_OF, "class_weights": {}, "title": "t", "video": {}, "updated": "u"}
    m = Manifest.from_json(data)
    assert m.made_of.layer == "layer4.1" and m.made_of.classes[8][0].channel == 37
    assert m.made_of.weights[8][1] == (99, 0.2) and m.made_of.users[12][0].index == 8
    assert m.to_json()["made_of"] == MADE_OF
    store.write_manifest(m)
    assert store.read_manifest().made_of == m.made_of


def test_a_malformed_made_of_is_one_line(tmp_path):
    store = write(tmp_path, {**MINIMAL, "made_of": {**MADE_OF, "classes": {"8": [[37, "lots"]]}}})
    with pytest.raises(AtlasError) as info:
        store.read_manifest()
    assert "bad entry (ValueError" in str(info.value) and "\n" not in str(info.value)
