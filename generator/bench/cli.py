"""Quality and speed benchmark: `atlas bench` / `make bench`.

Quality mode (the default) renders a fixed, seeded sample of ImageNet classes, spread evenly over the
WordNet hierarchy, with the render model (efficientnet_lite0, 224 px) for every recipe stage, and
scores every final image with a held-out judge that never takes part in rendering or tuning:
efficientnet_lite2 (its own 260 px input and mean = std = 0.5 normalization). Per stage it reports

    judge_top1 / judge_top5   share of images the judge classifies as their class (top-1 / top-5)
    judge_p                   mean judge softmax probability of the target class
    own_top1                  share the render model itself classifies as the class (untransformed image)
    hf_share                  share of luminance power above 0.25 cycles/px (Nyquist = 0.5): natural
                              photos ~2-5 %, uniform pixel noise ~80 %
    s_per_class               wall seconds of rendering per class (batched; includes frame recording)
    s_per_image_step          s_per_class / steps

It also renders the full recipe with each of its improvements switched off in turn (rows "full w/o
gray-init", "... robust", "... l2", "... blur", "... coarse"; kind "without"), so the table shows what
each one adds. Then the same numbers for a peer on the same classes, model and image size: Lucent 0.1.8 with its
defaults (decorrelated FFT image, its standard transforms, Adam lr 0.05, 512 steps), and the
our/Lucent time ratio. It also measures what freezing the weights saves (requires_grad_(False) on
every weight vs not, forward + backward of the input, lite0, 224 px, batch 8).

Speed mode (`--speed resnet18`) times class jobs only (no judge) on a torchvision model with random
weights (weights=None), for the post's recipe ('blur', the whole ladder), the tuned 'full', and Lucent,
and reports seconds per class and classes per minute. For a GPU: `--speed resnet18 --device cuda
--classes 1000 --batch 64 --amp`.

The peer is for the benchmark only, not a project dependency; peers.py says how to install it (`make bench`
does). When `lucent` is not importable, its rows are skipped with a message.

Outputs (``--out``, default bench/results/): ``bench-<date>.json`` and ``latest.json`` (the same
content), ``latest.md`` (the Markdown table), and ``sheet-<stage>.jpg`` contact sheets of the first
8 classes. latest.json: {"schema": 1, "mode": "quality"|"speed", "command", "date", "machine",
"model", "judge", "classes": [index...], "rows": [{"name", "kind": "stage"|"without"|"peer"|"subset", "steps", "size",
"batch", "view", "judge_top1", "judge_top5", "judge_p", "own_top1", "hf_share", "s_per_class",
"s_per_image_step", "recipe", "per_class": [...]}], "lucent_time_ratio", "frozen"}. Shares are
fractions in [0, 1]; times are seconds. A "subset" row repeats a stage's quality on the classes Lucent
ran on, when ``--lucent-classes`` limits Lucent to part of the sample.

On a slow or shared machine, split the run: ``--part 0/2`` and ``--part 1/2`` (e.g. in two processes
with ``--threads 1``), then ``--merge A.json B.json`` writes the combined tables.

Modules: sampling (the class samples), metrics (judge, HF share, frozen weights, contact sheets), peers
(Lucent), report (rows, tables, merging parts) and this one, the command. The benchmark is a tool, not a
test: tests/bench/ only checks that it runs on 2 classes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from generator.arguments import Parser, part, positive
from generator.bench.metrics import contact_sheet, frozen_speedup, sync_device
from generator.bench.peers import LUCENT_LR, LUCENT_STEPS, lucent_available, render_lucent
from generator.bench.report import machine, make_row, merge_reports, now_stamp, pct, subset_row, write_report
from generator.bench.sampling import bench_classes, tuning_classes
from generator.engine.models import check_device, load_model
from generator.engine.recipe import STAGES, WITHOUT, stage_recipe, without_name, without_recipe
from generator.engine.render import render_batch
from generator.engine.targets import class_target
from generator.errors import AtlasError
from generator.pipeline.config import parse_sets

RENDER_MODEL = "efficientnet_lite0"
JUDGE_MODEL = "efficientnet_lite2"
SPEED_STAGES = ["blur", "full"]  # speed mode's default: the post's recipe and the tuned one


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="atlas bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--classes", type=positive, help="sample size (default 48; speed mode 16)")
    p.add_argument("--stages", help=f"comma-separated stages (default all: {','.join(STAGES)}; speed mode "
                   f"{','.join(SPEED_STAGES)})")
    p.add_argument("--steps", type=positive, help="override every stage's steps (quick runs); Lucent gets 4x these")
    p.add_argument("--size", type=positive, default=224, help="image size, px (default 224)")
    p.add_argument("--batch", type=positive, help="targets per forward pass (default 8 on CPU, 64 on GPU)")
    p.add_argument("--without", default=",".join(WITHOUT), metavar="LIST",
                   help=f"leave-one-out rows: the full recipe with each of these switched off (default all: "
                   f"{','.join(WITHOUT)}; '' for none)")
    p.add_argument("--no-lucent", action="store_true", help="skip the Lucent peer")
    p.add_argument("--lucent-classes", type=positive, help="run Lucent on only the first N classes of the sample (its time "
                   "per class is class-independent; its quality is then compared on those N)")
    p.add_argument("--lucent-steps", type=positive, help=f"Lucent's steps (default {LUCENT_STEPS}, or 4x --steps)")
    p.add_argument("--speed", metavar="MODEL", help="speed-only mode on this torchvision model (weights=None), e.g. resnet18")
    p.add_argument("--out", default="bench/results", help="output folder (default bench/results)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.add_argument("--threads", type=positive, default=2, help="torch CPU threads (default 2; on a machine shared with other "
                   "busy processes 1 can be several times faster: spinning OpenMP threads wait on each other)")
    p.add_argument("--amp", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--tuning", action="store_true", help="use the tuning sample (disjoint from the benchmark's 48)")
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE", help="override a recipe knob for every stage")
    p.add_argument("--part", metavar="K/N", type=part, help="run only part K of N of the sample (classes K, K+N, ...); "
                   "combine the parts' reports with --merge")
    p.add_argument("--merge", nargs="+", metavar="JSON", help="combine the reports of --part runs into one (renders nothing)")
    p.add_argument("--no-frozen", action="store_true", help="skip the frozen-weights timing")
    p.add_argument("--reuse", metavar="JSON", action="append", default=[],
                   help="take rows from an earlier report whose recipe, classes and batch match (repeatable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run(args, argv)
    finally:
        torch.set_num_threads(threads)


def names(text: str, known, what: str) -> list[str]:
    """A comma-separated list of names, each one of ``known``."""
    out = [s.strip() for s in text.split(",") if s.strip()]
    for s in out:
        if s not in known:
            raise AtlasError(f"bench: unknown {what} {s!r}; known: {', '.join(known)}")
    return out


def chosen_stages(args: argparse.Namespace) -> list[str]:
    """--stages, else every stage (quality mode) or SPEED_STAGES (speed mode)."""
    default = SPEED_STAGES if args.speed else STAGES
    return names(args.stages if args.stages is not None else ",".join(default), STAGES, "stage")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """``argv`` is recorded in the report as the command that made it."""
    if args.merge:
        return write_report(merge_reports([read_report(f) for f in args.merge], argv), Path(args.out))
    device = torch.device(check_device(args.device))
    batch = args.batch or (64 if device.type == "cuda" else 8)
    speed = bool(args.speed)
    stages, without = chosen_stages(args), names(args.without, WITHOUT, "--without")
    overrides = parse_sets(args.set)
    overrides["size"] = args.size
    if args.steps:
        overrides["steps"] = args.steps
    n_classes = args.classes or (16 if speed else 48)
    if speed:
        indices = [i % 1000 for i in range(n_classes)]
        model = load_model(args.speed, weights=None, device=device)
        judge, without = None, []
    else:
        indices = tuning_classes(n_classes) if args.tuning else bench_classes(n_classes)
        model = load_model(RENDER_MODEL, device=device)
        judge = load_model(JUDGE_MODEL, device=device)
    if args.part:
        k, n = args.part
        indices = indices[k::n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"schema": 1, "mode": "speed" if speed else "quality", "command": "atlas bench " + " ".join(argv),
              "date": now_stamp(), "machine": machine(device), "model": model.name,
              "judge": None if speed else JUDGE_MODEL, "classes": indices, "rows": []}
    log(f"bench: {report['mode']}, {model.name} on {device}, {len(indices)} classes, stages {','.join(stages)}, batch {batch}")
    if not speed and not args.no_frozen and not args.reuse:
        report["frozen"] = frozen_speedup(model, size=args.size, batch=8)
        log(f"  frozen weights: {report['frozen']}")
    reuse = reusable_rows(args.reuse, indices, model.name, report)
    if stages:  # warm-up: the first call pays for lazy initialisation; keep it out of the timings
        render_batch(model, [class_target(i) for i in indices[:batch]], stage_recipe(stages[0], **overrides).with_(steps=1))
    recipes = [(s, stage_recipe(s, **overrides)) for s in stages] + \
        [(without_name(w), without_recipe(w, **overrides)) for w in without]
    for stage, recipe in recipes:
        old = reuse.get(stage)
        if old and old["recipe"] == json.loads(json.dumps(recipe.knobs())) and old["batch"] == min(batch, len(indices)):
            report["rows"].append(old)
            log(f"  {stage}: reused from {old['reused_from']}")
            continue
        images, own, seconds = render_ours(model, indices, recipe, batch, amp=args.amp)
        row = make_row(stage, "stage" if stage in STAGES else "without", indices, images, own, seconds, recipe.steps,
                       recipe.size, min(batch, len(indices)), judge, recipe=recipe.knobs(), view=recipe.view)
        report["rows"].append(row)
        contact_sheet(images, out / f"sheet-{stage.replace(' ', '-').replace('/', '')}.jpg")
        log(f"  {stage}: top1 {pct(row['judge_top1'])} top5 {pct(row['judge_top5'])} own {pct(row['own_top1'])} "
            f"hf {pct(row['hf_share'])} {row['s_per_class']:.2f} s/class")
    if not args.no_lucent:
        add_lucent_rows(report, args, model, judge, indices, batch, reuse.get("lucent"), out)
    if args.part:
        report["part"] = "/".join(map(str, args.part))
    return write_report(report, out)


def read_report(path: str) -> dict:
    """An earlier report (--merge, --reuse); one line when it is missing or not a report."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AtlasError(f"bench: cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise AtlasError(f"bench: {path} is not JSON ({exc})") from None
    fields = {"command": str, "classes": list, "rows": list}
    if not isinstance(data, dict) or not all(isinstance(data.get(k), t) for k, t in fields.items()):
        raise AtlasError(f"bench: {path} is not a benchmark report (no command, classes and rows)")
    return data


def log(message: str) -> None:
    print(message, flush=True)


def reusable_rows(paths: list[str], indices: list[int], model_name: str, report: dict) -> dict[str, dict]:
    """Rows of earlier reports on the same classes and model, by name (--reuse); their frozen timing too."""
    reuse = {}
    for path in paths:
        old = read_report(path)
        if old.get("classes") == indices and old.get("model") == model_name:
            reuse.update({r["name"]: dict(r, reused_from=r.get("reused_from") or old["date"])
                          for r in old["rows"] if r["kind"] != "subset"})
            report.setdefault("frozen", old.get("frozen"))
    return reuse


def render_ours(model, indices: list[int], recipe, batch: int, amp: bool = False):
    """Render every class with ``recipe`` in batches; returns (images, own_top1 hits, seconds)."""
    images, own, seconds = [], [], 0.0
    for s in range(0, len(indices), batch):
        chunk = [class_target(i) for i in indices[s:s + batch]]
        sync_device(model.device)
        t = time.perf_counter()
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=amp):
            results = render_batch(model, chunk, recipe)
        sync_device(model.device)
        seconds += time.perf_counter() - t
        for r in results:
            if not r.ok:
                raise AtlasError(f"bench: {recipe.stage} failed on {r.target.label}: {r.error}")
            images.append(r.image)
            own.append(bool(r.top5) and r.top5[0]["index"] == r.target.index)
        log(f"  {recipe.stage}: {min(s + batch, len(indices))}/{len(indices)} classes, {seconds:.1f}s")
    return images, own, seconds


def add_lucent_rows(report: dict, args, model, judge, indices: list[int], batch: int, old: dict | None,
                    out: Path) -> None:
    """Lucent's row (or why it was skipped), our stages on its classes when it ran on fewer, and the time ratio."""
    why = lucent_available()
    if why:
        report["lucent_skipped"] = f"lucent not importable ({why}); see `generator/bench/peers.py` for how to install it"
        log(f"  {report['lucent_skipped']}")
        return
    steps = args.lucent_steps or (4 * args.steps if args.steps else LUCENT_STEPS)
    lucent_idx = indices[:args.lucent_classes] if args.lucent_classes else indices
    if old and old["steps"] == steps and old["batch"] == min(batch, len(lucent_idx)) and old["size"] == args.size \
            and [c["index"] for c in old["per_class"]] == lucent_idx:
        row = old
        log(f"  lucent: reused from {old['reused_from']}")
    else:
        images, own, seconds = render_lucent(model, lucent_idx, args.size, steps, batch, amp=args.amp, log=log)
        row = make_row("lucent", "peer", lucent_idx, images, own, seconds, steps, args.size,
                       min(batch, len(lucent_idx)), judge,
                       recipe={"param": "fft decorrelated sigmoid", "transforms": "standard_transforms",
                               "optimizer": "adam", "lr": LUCENT_LR, "steps": steps})
        contact_sheet(images, out / "sheet-lucent.jpg")
    report["rows"].append(row)
    if len(lucent_idx) < len(indices):  # quality of ours on Lucent's subset, side by side
        for r in [r for r in report["rows"] if r["kind"] == "stage"]:
            report["rows"].append(subset_row(r, lucent_idx))
        report["rows"].append(report["rows"].pop(report["rows"].index(row)))
    report["lucent_time_ratio"] = {
        r["name"]: round(r["s_per_class"] / row["s_per_class"], 4) for r in report["rows"] if r["kind"] == "stage"
    }
    log(f"  lucent: top1 {pct(row['judge_top1'])} hf {pct(row['hf_share'])} {row['s_per_class']:.2f} s/class")


if __name__ == "__main__":
    raise SystemExit(main())
