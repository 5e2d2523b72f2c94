"""The redesign keeps every job key, the manifest and meta.json formats, and the site's URLs: checked against
golden data recorded with the code from before it (tests/fixtures/README.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torchvision

from generator.engine import recipe
from generator.engine.models import load_model
from generator.pipeline.build import run_build
from generator.pipeline.config import load_config
from generator.pipeline.manifest import Manifest
from generator.pipeline import plan as plan_module
from generator.pipeline.plan import make_plan
from generator.pipeline.runners import LocalRunner
from generator.publish.site.build import build_site
from tests.tiny import tiny_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = FIXTURES.parents[1]
GOLDEN = json.loads((FIXTURES / "job_keys.json").read_text())
OLD_STORE = FIXTURES / "store_before_redesign"
VARYING = ("timings", "created")  # wall-clock facts of one render
# The recipe every golden key was made with. A later recipe that changes the pixels (a new default) is meant to
# change its jobs' keys; what must never change them is how the same knobs become a key.
RECIPES_BEFORE = json.loads((FIXTURES / "recipes_before.json").read_text())


@pytest.fixture(autouse=True)
def recipes_before(monkeypatch):
    ladder = [recipe.Stage(s["name"], s["note"], s["changes"]) for s in RECIPES_BEFORE["ladder"]]  # all carried
    extra = {k: (v["note"], v["changes"]) for k, v in RECIPES_BEFORE["extra"].items()}
    notes = {s.name: s.note for s in ladder} | {k: v[0] for k, v in extra.items()} | {"full": recipe.STAGE_NOTES["full"]}
    monkeypatch.setattr(recipe, "LADDER", ladder)
    monkeypatch.setattr(recipe, "EXTRA", extra)
    monkeypatch.setattr(recipe, "FULL", RECIPES_BEFORE["full"])
    monkeypatch.setattr(plan_module, "STAGE_NOTES", notes)


@pytest.fixture(scope="module")
def models(lite0):
    resnet18 = load_model("resnet18", weights=None)  # the architecture decides the channels...
    resnet18.weights = str(torchvision.models.ResNet18_Weights.DEFAULT)  # ...and this identity the keys
    return {"resnet18": resnet18, "efficientnet_lite0": lite0, "tiny": tiny_model()}


def jobs_of(plan) -> list[list]:
    return [[j.key, j.role, j.target.id, j.recipe.stage, j.recipe.seed] for j in plan.jobs]


def manifest_json(plan) -> dict:
    data = plan.manifest.to_json()
    del data["schema"], data["updated"]  # the store adds them when it writes
    return json.loads(json.dumps(data))  # tuples -> lists, as in the file


@pytest.mark.parametrize("record", GOLDEN["plans"], ids=lambda r: f"{r['config']}-{r['model']['name']}")
def test_plans_give_the_same_keys_and_manifest_as_before(record, models):
    model = models[record["model"]["name"]]
    assert model.identity == record["model"]
    plan = make_plan(load_config(FIXTURES / record["config"]), model)
    if "sha256_of_keys" in record:  # the 1000-class atlas: a digest of every key, in render order
        keys = "\n".join(j.key for j in plan.jobs)
        assert (len(plan.jobs), jobs_of(plan)[:12]) == (record["count"], record["first"])
        assert hashlib.sha256(keys.encode()).hexdigest() == record["sha256_of_keys"]
        return
    assert jobs_of(plan) == record["jobs"]
    if "manifest" in record:
        assert manifest_json(plan) == record["manifest"]
    else:  # random-init weights: which classes a channel drives is noise here
        assert {k: v for k, v in manifest_json(plan).items() if k != "class_weights"} == \
            record["manifest_without_class_weights"]


def old_store(tmp_path: Path) -> Path:
    """The golden store, with files of the recorded sizes standing in for its media."""
    root = tmp_path / "store"
    shutil.copytree(OLD_STORE, root)
    for meta_path in (root / "jobs").glob("*/meta.json"):
        for info in json.loads(meta_path.read_text())["files"].values():
            (meta_path.parent / info["name"]).write_bytes(b"\0" * info["bytes"])
    return root


def test_the_manifest_reads_and_writes_back_unchanged():
    data = json.loads((OLD_STORE / "manifest.json").read_text())
    assert Manifest.from_json(data).to_json() == data


def test_a_store_from_before_the_redesign_needs_no_new_render(tmp_path, capsys):
    root = old_store(tmp_path)
    config = load_config(FIXTURES / "store.toml")
    report = run_build(config, root, None, model=tiny_model(), runner_factory=LocalRunner, device_name="cpu",
                       batch_size=config.build.batch)
    assert (report.planned, report.rendered, report.skipped, report.failed) == (7, 0, 7, 0)
    assert "nothing to render: 6 of 7 jobs done, 1 failed" in capsys.readouterr().err
    before = json.loads((OLD_STORE / "manifest.json").read_text())
    after = json.loads((root / "manifest.json").read_text())
    assert {**after, "updated": ""} == {**before, "updated": ""}
    for meta in OLD_STORE.glob("jobs/*/meta.json"):  # untouched
        assert (root / meta.relative_to(OLD_STORE)).read_text() == meta.read_text()


def test_the_site_of_an_old_store_has_the_same_files_and_urls(tmp_path):
    info = build_site(old_store(tmp_path), tmp_path / "site", content=REPO / "content",
                      templates=REPO / "templates")
    files = sorted(p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert files == (FIXTURES / "site_files_before_redesign.txt").read_text().split()
    assert (info["done"], info["failed"], info["pending"], info["warnings"]) == (4, 1, 0, [])


def shape(value):
    """A JSON value's structure: its keys, recursively, and the types of its leaves."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def test_a_new_render_writes_meta_json_as_before(tmp_path):
    config = load_config(FIXTURES / "store.toml")
    run_build(config, tmp_path / "store", None, model=tiny_model(), runner_factory=LocalRunner, device_name="cpu",
              batch_size=config.build.batch)
    old_keys = sorted(p.name for p in (OLD_STORE / "jobs").iterdir())
    assert sorted(p.name for p in (tmp_path / "store" / "jobs").iterdir()) == old_keys
    for key in old_keys:
        old = json.loads((OLD_STORE / "jobs" / key / "meta.json").read_text())
        new = json.loads((tmp_path / "store" / "jobs" / key / "meta.json").read_text())
        assert list(new) == list(old) and shape(new) == shape(old), key
        for field in ("schema", "key", "status", "role", "target", "model", "recipe", "code_version"):
            assert new[field] == old[field], (key, field)
        names = {role: {k: v for k, v in f.items() if k != "bytes"} for role, f in new["files"].items()}
        assert names == {role: {k: v for k, v in f.items() if k != "bytes"} for role, f in old["files"].items()}
