"""`make atlas`: plan -> render what is missing -> store -> (re)build the site as jobs finish.

Safe to stop at any moment: jobs land in the store atomically; Ctrl-C finishes the current batch,
keeps everything done so far and says how to resume (a second Ctrl-C stops at once, still safely).
The site is built by the ``publish`` function the caller passes (the CLI passes the publish side's
``build_site``), so the pipeline never imports the publish side.
"""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from generator.engine.models import load_model
from generator.engine.render import render_batch
from generator.pipeline.config import AtlasConfig
from generator.pipeline.plan import Plan, batches, make_plan
from generator.pipeline.store import Store


@dataclass
class BuildReport:
    planned: int = 0
    rendered: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)


class StopAfterBatch:
    """First Ctrl-C: finish the current batch, then stop. Second Ctrl-C: stop now."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, *_):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("atlas: stopping after the current batch (Ctrl-C again to stop now; finished work is kept)")

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def estimate_seconds(model, plan_jobs, batch_size: int) -> float:
    """Time two optimization steps of a full batch -> seconds per image-step, times steps and jobs: a first ETA."""
    if not plan_jobs:
        return 0.0
    sample = plan_jobs[-1]  # a class or channel job: the common recipe
    probe = [sample.target] * min(batch_size, len(plan_jobs))
    recipe = sample.recipe.with_(steps=2, frames=2)
    render_batch(model, probe, recipe)  # warm-up
    start = time.perf_counter()
    render_batch(model, probe, recipe)
    per_image_step = (time.perf_counter() - start) / 2 / len(probe)
    return per_image_step * sum(j.recipe.steps for j in plan_jobs)


def fmt_duration(s: float) -> str:
    s = int(s)
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def run_build(config: AtlasConfig, store_root: Path, site_out: Path | None, *, model, runner_factory,
              device_name: str, batch_size: int, retry_failed: bool = False, limit: int | None = None,
              out=None, only_stages: list[str] | None = None, publish=None) -> BuildReport:
    """``site_out``: where ``publish(store_root, site_out)`` (re)builds the site; None: no site.
    ``only_stages``: render only these ladder stages (`make post-videos`); None: the whole plan."""
    if site_out is not None and publish is None:
        raise TypeError("run_build: a site_out needs the publish function that builds the site")
    out = out or sys.stderr
    start = time.perf_counter()
    store = Store(store_root).ensure_writable()
    store.clean_tmp()
    plan: Plan = make_plan(config, model)
    store.write_manifest(plan.manifest)

    jobs = plan.jobs
    if only_stages is not None:
        wanted = {s.key for s in plan.manifest.ladder.stages if s.stage in only_stages}
        jobs = [j for j in plan.jobs if j.key in wanted]
    states = {j.key: store.status(j.key) for j in jobs}
    todo = [j for j in jobs if states[j.key] == "missing" or (retry_failed and states[j.key] == "failed")]
    if limit is not None:
        todo = todo[:limit]
    report = BuildReport(planned=len(jobs), skipped=len(jobs) - len(todo))
    done_before = sum(s == "done" for s in states.values())
    failed_before = sum(s == "failed" for s in states.values())
    fallback = f" (fallback for {model.requested})" if model.requested else ""
    if not todo:
        print(f"atlas: nothing to render: {done_before} of {len(jobs)} jobs done, {failed_before} failed "
              f"({model.name}{fallback})", file=out)
    else:
        eta = estimate_seconds(model, todo, batch_size)
        print(f"atlas: {len(todo)} jobs to render ({done_before} done, {failed_before} failed) with {model.name}{fallback} "
              f"on {device_name}, recipe {config.recipe.stage} ({config.recipe.steps} steps, {config.recipe.size} px), "
              f"batch {batch_size}; estimated {fmt_duration(eta)}", file=out)

    def rebuild_site():
        if site_out is not None:
            publish(store.root, site_out)

    work = batches(todo, batch_size)
    runner = runner_factory(model, plan.manifest.video)
    with StopAfterBatch() as stop, tqdm(total=len(todo), unit="job", file=out, disable=not todo, dynamic_ncols=True) as bar:
        try:
            for n, results in enumerate(runner.run(work), 1):
                for job, meta, files in results:
                    if meta["status"] == "failed":
                        store.put_failed(job.key, meta)
                        report.failed += 1
                        tqdm.write(f"atlas: {job.target.label}: failed: {meta['error']}", file=out)
                    else:
                        store.put(job.key, meta, files)
                        report.rendered += 1
                    bar.update(1)
                if stop.requested:
                    report.interrupted = True
                    break
                if n % config.build.site_every == 0:
                    rebuild_site()
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            close = getattr(runner, "close", None)
            if close:
                close()
    rebuild_site()  # includes the blog post's videos, site/blog/app1.mp4 ... (generator/publish/post_videos.py)
    report.seconds = time.perf_counter() - start
    where = f"; site in {site_out}/" if site_out is not None else ""
    if report.interrupted:
        print(f"atlas: stopped: {report.rendered} jobs rendered this run, all finished work kept{where}. "
              f"Run `make atlas` again to resume.", file=out)
    elif todo:
        failed = f", {report.failed} failed (recorded; rerun with --retry-failed)" if report.failed else ""
        print(f"atlas: rendered {report.rendered} jobs in {fmt_duration(report.seconds)}{failed}{where}", file=out)
    return report


def load_build_model(config: AtlasConfig, model_name: str | None, device: str):
    """The config's model may fall back offline; a model named on the command line never does."""
    name = model_name or config.model.name
    fallback = None if model_name else (config.model.fallback or None)
    return load_model(name, fallback=fallback, device=device, warn=lambda m: print(m, file=sys.stderr))


def batch_size_for(config: AtlasConfig, device: str, override: int | None = None) -> int:
    """--batch, else the config's batch for a GPU (gpu_batch) or a CPU (batch)."""
    return override or (config.build.gpu_batch if str(device).startswith("cuda") else config.build.batch)
