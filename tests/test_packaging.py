"""The package ships its templates: a wheel holds the top-level templates/ as generator/_templates/, and an
installed (non-editable) atlas builds a site with them, from any folder, with no repository in reach."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.synthetic_store import make_store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a clean copy of the sources (a stale build/ folder in the checkout cannot leak in)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("generator", "templates"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                          str(src), "-w", str(root / "dist")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return next((root / "dist").glob("feature_atlas-*.whl"))


def test_the_wheel_holds_every_module_and_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = [p.relative_to(REPO / "templates").as_posix() for p in (REPO / "templates").rglob("*") if p.is_file()]
    assert {"home.html", "static/atlas.css", "shortcodes/atlas_video.html"} <= set(templates)
    assert {f"generator/_templates/{t}" for t in templates} <= names
    modules = [p.relative_to(REPO).as_posix() for p in (REPO / "generator").rglob("*.py")]
    assert set(modules) <= names  # a new package missing from pyproject.toml's list shows here
    assert "generator/data/imagenet_classes.json" in names


def test_an_installed_atlas_builds_a_site_without_the_repository(wheel, tmp_path):
    installed = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(installed)
    store = make_store(tmp_path / "store", classes=[8, 9, 134], channels=False)
    elsewhere = tmp_path / "elsewhere"  # no templates/ or content/ here
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed)}
    code = ("import json, generator; from generator.publish.site.templating import find_templates; "
            "print(json.dumps({'package': generator.__file__, 'templates': str(find_templates())}))")
    where = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env,
                           timeout=120)
    assert where.returncode == 0, where.stderr
    found = json.loads(where.stdout)
    assert Path(found["package"]).is_relative_to(installed) and Path(found["templates"]).is_relative_to(installed)
    run = subprocess.run([sys.executable, "-m", "generator", "site", "--store", str(store), "--out", "site"],
                         capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (elsewhere / "site" / "index.html").is_file() and (elsewhere / "site" / "classes" / "134.html").is_file()
    assert (elsewhere / "site" / "static" / "atlas.css").read_bytes() == (REPO / "templates/static/atlas.css").read_bytes()


def test_templates_are_found_from_any_folder(tmp_path, monkeypatch):
    from generator.publish.site.templating import PACKAGED_TEMPLATES, find_content, find_templates, in_checkout

    monkeypatch.chdir(tmp_path)
    if in_checkout("templates") is None and not PACKAGED_TEMPLATES.is_dir():
        pytest.skip("neither an editable install nor an installed package: run from the checkout")
    assert (find_templates() / "home.html").is_file()  # the checkout's (editable install) or the package's
    (tmp_path / "templates").mkdir()
    (tmp_path / "content").mkdir()
    assert find_templates() == Path("templates") and find_content() == Path("content")  # the project's own win
