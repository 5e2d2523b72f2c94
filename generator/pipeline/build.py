"""`make atlas`: plan -> render what is missing -> store -> (re)build the site as jobs finish.

Safe to stop at any moment: jobs land in the store atomically; Ctrl-C finishes the current batch,
keeps everything done so far and says how to resume (a second Ctrl-C stops at once, still safely).
A full disk stops the build with one line (BuildAborted), the finished jobs intact. The caller holds the
store's lock (lock.py) around the build. The site is built by the ``publish`` function the caller passes (the
CLI passes the publish side's ``build_site``), so the pipeline never imports the publish side.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from generator.engine.lanes import render_in_lanes
from generator.engine.models import architecture_layers, load_model
from generator.errors import EXIT_DONE, EXIT_INTERRUPTED, EXIT_JOBS_FAILED, AtlasError, BuildAborted, disk_full
from generator.pipeline.budget import TimeBudget, image_steps
from generator.pipeline.config import AtlasConfig, check_layers, load_config
from generator.pipeline.phases import coming_channels, contributions_for, first_phase, measure_done, plan_build
from generator.pipeline.plan import Plan, batches
from generator.pipeline.store import Store


@dataclass
class BuildReport:
    planned: int = 0
    rendered: int = 0
    failed: int = 0  # failed this run
    skipped: int = 0
    interrupted: bool = False
    out_of_time: bool = False  # --time-budget: stopped before a batch that would not have fit; the next run continues
    seconds: float = 0.0
    classes: int = 0  # the atlas's classes, and how many of them are done at the end
    classes_done: int = 0
    done: int = 0  # of the planned jobs, at the end (earlier runs' included)
    failed_jobs: list[dict] = field(default_factory=list)  # every planned job that is failed at the end: target, error

    @property
    def exit_code(self) -> int:
        """130 interrupted; 1 when any planned job is failed (this run's or an earlier one's: the site shows them all)."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_JOBS_FAILED if self.failed or self.failed_jobs else EXIT_DONE

    def to_json(self) -> dict:
        """For `atlas build --report FILE` (the Pages workflow decides from it whether to deploy)."""
        return {**asdict(self), "failed_total": len(self.failed_jobs), "exit_code": self.exit_code,
                "summary": self.summary()}

    def summary(self, most: int = 50) -> str:
        """Markdown for a CI job summary: the counts, then the failed jobs and why."""
        pending = self.planned - self.done - len(self.failed_jobs)
        stopped = " (interrupted)" if self.interrupted else " (time budget used: the next run continues)" \
            if self.out_of_time else ""
        lines = [f"{self.planned} jobs planned: {self.done} done, {len(self.failed_jobs)} failed, {pending} pending; "
                 f"{self.rendered} rendered this run{stopped}; {self.classes_done} of {self.classes} classes done", ""]
        lines += [f"- failed: {j['target']} ({j['role']}): {j['error']}" for j in self.failed_jobs[:most]]
        if len(self.failed_jobs) > most:
            lines.append(f"- and {len(self.failed_jobs) - most} more")
        return "\n".join(lines).rstrip()

    def write(self, path: Path) -> None:
        try:
            Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")
        except OSError as exc:
            raise AtlasError(f"cannot write the build report {path}: {exc.strerror or exc}") from None


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


PROBE_STEPS = 16  # enough for the recipe's own mix of cheap coarse and full steps (5/8 coarse: 10 + 6)


def seconds_per_image_step(model, plan_jobs, batch_size: int) -> float:
    """Time a short run of a full batch: seconds per image-step, the first ETA's rate. The probe keeps the
    recipe's coarse/full proportion (two steps, one of each, overestimated a 5/8-coarse build by 1.27x)."""
    if not plan_jobs:
        return 0.0
    sample = plan_jobs[-1]  # a class or channel job: the common recipe
    probe = [sample.target] * min(batch_size, len(plan_jobs))
    steps = min(PROBE_STEPS, sample.recipe.steps)
    render_in_lanes(model, probe, sample.recipe.with_(steps=2, frames=2))  # warm-up: both views, both shapes
    start = time.perf_counter()
    render_in_lanes(model, probe, sample.recipe.with_(steps=steps, frames=2))
    return (time.perf_counter() - start) / steps / len(probe)


def fmt_duration(s: float) -> str:
    s = int(s)
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def run_build(config: AtlasConfig, store_root: Path, site_out: Path | None, *, model, runner_factory,
              device_name: str, batch_size: int, retry_failed: bool = False, limit: int | None = None,
              out=None, only_stages: list[str] | None = None, publish=None,
              time_budget: float | None = None) -> BuildReport:
    """``site_out``: where ``publish(store_root, site_out)`` (re)builds the site; None: no site.
    ``only_stages``: render only these ladder stages (`make post-videos`); None: the whole plan, in two phases
    (phases.py): the ladder and the classes, then the channels they are made of, planned once this run's classes
    are measured (a run with no class left renders its channels at once). ``time_budget``: minutes; no batch
    starts that is expected to end after it (its duration estimated from the batches before it), and the site is
    then built from what is done."""
    if site_out is not None and publish is None:
        raise TypeError("run_build: a site_out needs the publish function that builds the site")
    out = out or sys.stderr
    start = time.perf_counter()
    budget = TimeBudget.minutes(time_budget)
    store = Store(store_root).ensure_writable()
    store.clean_tmp()  # what killed builds left (the caller holds the lock: no other build is writing)
    links = None if only_stages is not None else contributions_for(config, model, store, lambda m: print(m, file=out))
    plan: Plan = plan_build(config, model, links)
    store.write_manifest(plan.manifest)

    jobs = plan.jobs
    if only_stages is not None:
        wanted = {s.key for s in plan.manifest.ladder.stages if s.stage in only_stages}
        jobs = [j for j in plan.jobs if j.key in wanted]
    states = {j.key: store.status(j.key) for j in jobs}
    todo = first_phase(to_render(jobs, states, retry_failed, limit), links)
    coming = coming_channels(config, model, links, plan, store, todo) if limit is None else []
    report = BuildReport(planned=len(jobs), skipped=len(jobs) - len(todo))
    done_before = sum(s == "done" for s in states.values())
    failed_before = sum(s == "failed" for s in states.values())
    fallback = f" (fallback for {model.requested})" if model.requested else ""
    if not todo:
        print(f"atlas: nothing to render: {done_before} of {len(jobs)} jobs done, {failed_before} failed "
              f"({model.name}{fallback})", file=out)
    else:
        budget.per_image_step = seconds_per_image_step(model, todo + coming, batch_size)
        eta = budget.estimate(image_steps(todo + coming))
        more = (f", then about {len(coming)} channel jobs for what the classes are made of (a guess from the "
                f"classifier's weights until they are measured)") if coming else ""
        print(f"atlas: {len(todo)} jobs to render ({done_before} done, {failed_before} failed){more}, with "
              f"{model.name}{fallback} on {device_name}, recipe {config.recipe.stage} ({config.recipe.steps} steps, "
              f"{config.recipe.size} px), batch {batch_size}; estimated {fmt_duration(eta)}", file=out)

    def rebuild_site():
        if site_out is not None:
            publish(store.root, site_out)

    def after_batch(n: int, done: list) -> None:
        measure_done(links, plan, done)  # one forward pass: a stopped build keeps its measurements too
        if n % config.build.site_every == 0 and not stop.requested:
            if links is not None:  # the site shows what the classes measured so far are made of
                store.write_manifest(plan_build(config, model, links, measure=False).manifest)
            rebuild_site()

    runner = runner_factory(model, plan.manifest.video)
    rendered = list(todo)
    with StopAfterBatch() as stop, tqdm(total=len(todo) + len(coming), unit="job", file=out, disable=not todo,
                                        dynamic_ncols=True) as bar:
        try:
            report.interrupted = render_jobs(runner, todo, batch_size, store, report, bar, stop, out, after_batch,
                                             budget)
            if links is not None and not report.interrupted and not budget.exhausted:  # phase 2: the channels the classes are made of
                plan = plan_build(config, model, links)
                store.write_manifest(plan.manifest)
                tried = {j.key for j in rendered}
                new = [j for j in plan.jobs if j.key not in tried]
                more = to_render(new, {j.key: store.status(j.key) for j in new}, retry_failed,
                                 None if limit is None else limit - len(todo))
                bar.total = bar.n + len(more)
                bar.refresh()
                rendered += more
                jobs = plan.jobs
                report.interrupted = render_jobs(runner, more, batch_size, store, report, bar, stop, out, after_batch,
                                                 budget)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            close = getattr(runner, "close", None)
            if close:
                close()
    report.out_of_time = budget.exhausted and not report.interrupted
    if links is not None and (report.interrupted or report.out_of_time):  # the measured classes' channels, pending
        plan = plan_build(config, model, links, measure=False)
        store.write_manifest(plan.manifest)
        jobs = plan.jobs
    rebuild_site()  # includes the blog post's videos, site/blog/app1.mp4 ... (generator/publish/post_videos.py)
    report.seconds = time.perf_counter() - start
    report.planned, report.skipped = len(jobs), len(jobs) - len(rendered)
    for j in jobs:
        meta = store.meta(j.key)
        if meta is not None and meta["status"] == "done":
            report.done += 1
        elif meta is not None:
            report.failed_jobs.append({"target": j.target.label, "role": j.role, "key": j.key, "error": meta.get("error")})
    classes = {e.key for e in plan.manifest.classes}
    report.classes = len(classes)
    report.classes_done = sum(store.status(k) == "done" for k in classes)
    where = f"; site in {site_out}/" if site_out is not None else ""
    if report.out_of_time:
        left = report.classes - report.classes_done
        print(f"atlas: rendered {report.rendered} jobs in {fmt_duration(report.seconds)}, the time budget; "
              f"{report.classes_done} of {report.classes} classes done, {left} left"
              f"{', and channels' if left == 0 and report.done < report.planned else ''}: run again to continue"
              f"{where}", file=out)
    elif report.interrupted:
        print(f"atlas: stopped: {report.rendered} jobs rendered this run, all finished work kept{where}. "
              f"Run `make atlas` again to resume.", file=out)
    elif rendered:
        failed = f", {report.failed} failed (recorded; rerun with --retry-failed)" if report.failed else ""
        print(f"atlas: rendered {report.rendered} jobs in {fmt_duration(report.seconds)}{failed}{where}", file=out)
    return report


def to_render(jobs: list, states: dict, retry_failed: bool, limit: int | None) -> list:
    """The jobs that are missing from the store (or failed, with --retry-failed), at most ``limit``."""
    todo = [j for j in jobs if states[j.key] == "missing" or (retry_failed and states[j.key] == "failed")]
    return todo if limit is None else todo[:max(0, limit)]


def render_jobs(runner, jobs: list, batch_size: int, store: Store, report: BuildReport, bar, stop, out,
                after_batch, budget: TimeBudget) -> bool:
    """Render ``jobs`` batch by batch into the store, while the budget allows the next batch; ``after_batch(n, jobs)``
    after each. True when stopped by Ctrl-C."""
    last = time.monotonic()
    for n, results in enumerate(runner.run(within(budget, batches(jobs, batch_size))), 1):
        now = time.monotonic()
        done = [job for job, _, _ in results]
        budget.record(image_steps(done), now - last)
        last = now
        for job, meta, files in results:
            store_result(store, job, meta, files, report, out)
            bar.update(1)
        after_batch(n, done)
        if stop.requested:
            return True
    return False


def within(budget: TimeBudget, work):
    """The batches of ``work`` while each is expected to end within the budget (a runner pulls them one by one)."""
    for batch in work:
        if not budget.allows(image_steps(batch)):
            return
        yield batch


def store_result(store: Store, job, meta: dict, files: dict, report: BuildReport, out) -> None:
    """One finished job into the store. A full disk ends the build in one line; the jobs stored before stay whole
    (each landed by one rename) and the half-written one leaves nothing behind (Store.put cleans its staging)."""
    try:
        if meta["status"] == "failed":
            store.put_failed(job.key, meta)
        else:
            store.put(job.key, meta, files)
    except OSError as exc:
        if not disk_full(exc):
            raise
        raise BuildAborted(f"no space left on device while storing {job.target.label} in {store.root}; the "
                           f"{report.rendered + report.failed} jobs stored this run are kept: free some space and run "
                           f"the build again") from None
    if meta["status"] == "failed":
        report.failed += 1
        tqdm.write(f"atlas: {job.target.label}: failed: {meta['error']}", file=out)
    else:
        report.rendered += 1


def load_checked_config(path: Path, model_name: str | None = None) -> AtlasConfig:
    """The config, checked whole before any weights load: keys, types and ranges (config.py), then the ladder
    target and the explicit channels against the model's layers, from its architecture alone."""
    config = load_config(path)
    check_layers(config, architecture_layers, model_name)
    return config


def load_build_model(config: AtlasConfig, model_name: str | None, device: str):
    """The config's model may fall back offline; a model named on the command line never does."""
    name = model_name or config.model.name
    fallback = None if model_name else (config.model.fallback or None)
    return load_model(name, fallback=fallback, device=device, warn=lambda m: print(m, file=sys.stderr))


def batch_size_for(config: AtlasConfig, device: str, override: int | None = None) -> int:
    """--batch, else the config's batch for a GPU (gpu_batch) or a CPU (batch)."""
    return override or (config.build.gpu_batch if str(device).startswith("cuda") else config.build.batch)
