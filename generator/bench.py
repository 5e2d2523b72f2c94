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

The peer is for the benchmark only, not a project dependency. Install it without letting pip touch torch:

    .venv/bin/pip install torch-lucent==0.1.8 --no-deps
    .venv/bin/pip install kornia==0.4.1 decorator --no-deps

(Lucent's param and transform modules need only kornia; its objectives need `decorator`.) When
`lucent` is not importable, its rows are skipped with a message.

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

The benchmark is a tool, not a test: tests/test_bench.py only checks that it runs on 2 classes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from generator.config import parse_sets
from generator.errors import AtlasError
from generator.recipe import STAGES, WITHOUT, stage_recipe, without_name, without_recipe
from generator.targets import class_target, imagenet_classes

RENDER_MODEL = "efficientnet_lite0"
JUDGE_MODEL = "efficientnet_lite2"
BENCH_SEED = 0
LUCENT_STEPS = 512
LUCENT_LR = 0.05
HF_CUTOFF = 0.25  # cycles per pixel


# ---------------------------------------------------------------- samples


def _by_hierarchy() -> list[int]:
    """Class indices sorted by their WordNet path: neighbours in this order are relatives."""
    return [c["index"] for c in sorted(imagenet_classes(), key=lambda c: (c["path"], c["index"]))]


def _spread(pool: list[int], n: int) -> list[int]:
    n = min(n, len(pool))
    return [pool[int((k + 0.5) * len(pool) / n)] for k in range(n)]


def bench_classes(n: int = 48) -> list[int]:
    """The benchmark sample: n classes evenly spaced along the hierarchy (fixed, no randomness)."""
    return _spread(_by_hierarchy(), n)


def tuning_classes(n: int = 16, bench_n: int = 48) -> list[int]:
    """A tuning sample disjoint from the benchmark's ``bench_n`` classes, also spread over the hierarchy."""
    taken = set(bench_classes(bench_n))
    return _spread([i for i in _by_hierarchy() if i not in taken], n)


EVAL_SEED = 20261127  # drawn once, on 2026-11-27, before any tuning against it; recorded in bench/README.md
TUNING_SIZES = (8, 16, 32)  # every tuning sample used so far (bench/tuning.md)


def eval_classes(n: int = 96) -> list[int]:
    """The evaluation sample: n classes drawn at random (fixed seed) from those in no tuning sample and not
    in the benchmark's 48. Recipes are never tuned on it; it is where the default's numbers are reported."""
    import random

    taken = set(bench_classes(48)).union(*(tuning_classes(k) for k in TUNING_SIZES))
    return sorted(random.Random(EVAL_SEED).sample([i for i in range(1000) if i not in taken], n))


# ---------------------------------------------------------------- metrics


def hf_share(image: np.ndarray, cutoff: float = HF_CUTOFF) -> float:
    """Share of luminance power (mean removed) at radial frequency > cutoff cycles/px; image (H, W, 3)."""
    x = np.asarray(image, dtype=np.float64)
    if x.max() > 1.0:
        x = x / 255.0
    lum = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    lum = lum - lum.mean()
    power = np.abs(np.fft.fft2(lum)) ** 2
    fy = np.fft.fftfreq(lum.shape[0])[:, None]
    fx = np.fft.fftfreq(lum.shape[1])[None, :]
    total = power.sum()
    if total <= 0:
        return 0.0
    return float(power[np.sqrt(fx * fx + fy * fy) > cutoff].sum() / total)


@torch.no_grad()
def judge_scores(judge, images: list[np.ndarray], indices: list[int], batch: int = 16) -> list[dict]:
    """Judge top-1/top-5 hit and p(target) per image; images uint8 (H, W, 3), resized to the judge's input."""
    out = []
    device = judge.device
    for s in range(0, len(images), batch):
        x = torch.from_numpy(np.stack(images[s:s + batch])).permute(0, 3, 1, 2).float().div(255).to(device)
        size = judge.input_size
        if x.shape[-1] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        probs = torch.softmax(judge(x).float(), dim=1)
        top5 = probs.topk(5, dim=1).indices.cpu()
        for row, idx in enumerate(indices[s:s + batch]):
            out.append({"top1": int(top5[row, 0]) == idx, "top5": idx in top5[row].tolist(),
                        "p": float(probs[row, idx]), "judge_pred": int(top5[row, 0])})
    return out


# ---------------------------------------------------------------- renderers


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def render_ours(model, indices: list[int], recipe, batch: int, amp: bool = False, log=print):
    """Render every class with ``recipe`` in batches; returns (images, own_top1 hits, seconds)."""
    from generator.render import render_batch

    images, own, seconds = [], [], 0.0
    for s in range(0, len(indices), batch):
        chunk = [class_target(i) for i in indices[s:s + batch]]
        _sync(model.device)
        t = time.perf_counter()
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=amp):
            results = render_batch(model, chunk, recipe)
        _sync(model.device)
        seconds += time.perf_counter() - t
        for r in results:
            if not r.ok:
                raise AtlasError(f"bench: {recipe.stage} failed on {r.target.label}: {r.error}")
            images.append(r.image)
            own.append(bool(r.top5) and r.top5[0]["index"] == r.target.index)
        log(f"  {recipe.stage}: {min(s + batch, len(indices))}/{len(indices)} classes, {seconds:.1f}s")
    return images, own, seconds


def lucent_available() -> str | None:
    """None when Lucent's param and transform modules import; else the reason."""
    try:
        from lucent.optvis import param, transform  # noqa: F401
    except Exception as exc:  # ImportError, or a missing sub-dependency
        return f"{type(exc).__name__}: {exc}"
    return None


def render_lucent(model, indices: list[int], size: int, steps: int, batch: int, amp: bool = False, log=print):
    """Lucent's defaults: param.image (decorrelated FFT, sigmoid), standard_transforms, Adam 0.05.

    Same loop as lucent.optvis.render.render_vis (loss = -logit of the class), written out here so a
    whole batch of classes shares one forward pass, as ours does. ``model`` normalizes its own input
    (the place of Lucent's ``preprocess`` step), so every model gets its correct normalization.
    """
    from lucent.optvis import param, transform

    device = model.device
    # Lucent's transforms put their tensors on its module-level device (cuda when available)
    transform.device = device
    transform_f = transform.compose(list(transform.standard_transforms))
    images, own, seconds = [], [], 0.0
    for s in range(0, len(indices), batch):
        chunk = indices[s:s + batch]
        torch.manual_seed(BENCH_SEED + s)
        np.random.seed(BENCH_SEED + s)
        _sync(device)
        t = time.perf_counter()
        with torch.device(device):
            params, image_f = param.image(size, batch=len(chunk))
        optimizer = torch.optim.Adam(params, lr=LUCENT_LR)
        target = torch.tensor(chunk, device=device)
        rows = torch.arange(len(chunk), device=device)
        for _ in range(steps):
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(transform_f(image_f()))
            loss = -logits[rows, target].float().sum()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            final = image_f().detach().float()
            x = final if final.shape[-1] == model.input_size else F.interpolate(
                final, size=(model.input_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
            pred = model(x).argmax(dim=1).cpu().tolist()
        _sync(device)
        seconds += time.perf_counter() - t
        images.extend(final.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        own.extend(p == i for p, i in zip(pred, chunk))
        log(f"  lucent: {min(s + batch, len(indices))}/{len(indices)} classes, {seconds:.1f}s")
    return images, own, seconds


def frozen_speedup(model, size: int = 224, batch: int = 8, reps: int = 5) -> dict:
    """Seconds per forward+backward of the input with frozen weights vs with weight gradients on.

    The two are measured alternately and each keeps its fastest repetition, so a burst of load from
    another process on a shared machine does not land on one side only.
    """
    x = torch.rand(batch, 3, size, size, device=model.device, requires_grad=True)
    params = list(model.net.parameters())

    def once(frozen: bool) -> float:
        for p in params:
            p.requires_grad_(not frozen)
        _sync(model.device)
        t = time.perf_counter()
        model(x)[:, 0].sum().backward()
        _sync(model.device)
        return time.perf_counter() - t

    try:
        once(True), once(False)  # warm-up
        times = {True: [], False: []}
        for _ in range(reps):
            for frozen in (True, False):
                times[frozen].append(once(frozen))
    finally:
        for p in params:
            p.requires_grad_(False)
            p.grad = None
    frozen, unfrozen = min(times[True]), min(times[False])
    return {"model": model.name, "size": size, "batch": batch, "s_frozen": round(frozen, 4),
            "s_unfrozen": round(unfrozen, 4), "ratio": round(unfrozen / frozen, 2)}


# ---------------------------------------------------------------- rows, tables


def contact_sheet(images: list[np.ndarray], path: Path, n: int = 8, side: int = 112) -> None:
    from PIL import Image

    tiles = [Image.fromarray(im).resize((side, side), Image.BILINEAR) for im in images[:n]]
    if not tiles:
        return
    sheet = Image.new("RGB", (side * len(tiles), side))
    for k, tile in enumerate(tiles):
        sheet.paste(tile, (k * side, 0))
    sheet.save(path, quality=85)


def make_row(name, kind, indices, images, own, seconds, steps, size, batch, judge, recipe=None, view=0) -> dict:
    scores = judge_scores(judge, images, indices) if judge is not None else [{} for _ in indices]
    hf = [hf_share(im) for im in images]
    n = len(indices)
    labels = {c["index"]: c["label"] for c in imagenet_classes()}
    row = {
        "name": name, "kind": kind, "steps": steps, "size": size, "batch": batch, "view": view or size,
        "judge_top1": None, "judge_top5": None, "judge_p": None,
        "own_top1": round(sum(own) / n, 4),
        "hf_share": round(float(np.mean(hf)), 4),
        "s_per_class": round(seconds / n, 3),
        "s_per_image_step": round(seconds / n / steps, 5),
        "recipe": recipe,
        "per_class": [
            {"index": i, "label": labels[i], "own_top1": o, "hf_share": round(h, 4), **sc}
            for i, o, h, sc in zip(indices, own, hf, scores)
        ],
    }
    if judge is not None:
        row.update(judge_top1=round(sum(s["top1"] for s in scores) / n, 4),
                   judge_top5=round(sum(s["top5"] for s in scores) / n, 4),
                   judge_p=round(float(np.mean([s["p"] for s in scores])), 4))
    return row


def subset_row(row: dict, indices, label: str = "Lucent's") -> dict:
    """A stage's quality numbers recomputed on a subset of its classes (timings per class unchanged)."""
    per = [c for c in row["per_class"] if c["index"] in set(indices)]
    if not per:
        raise AtlasError(f"bench: no class of {row['name']} among {sorted(indices)}")
    n = len(per)
    mean = lambda key: round(sum(float(c[key]) for c in per) / n, 4)  # noqa: E731
    out = dict(row, name=f"{row['name']} ({label} {n})", kind="subset", per_class=per,
               own_top1=mean("own_top1"), hf_share=mean("hf_share"))
    if row["judge_top1"] is not None:
        out.update(judge_top1=mean("top1"), judge_top5=mean("top5"), judge_p=mean("p"))
    return out


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def markdown(report: dict) -> str:
    quality = report["mode"] == "quality"
    lines = [f"# Feature Atlas benchmark ({report['mode']}), {report['date']}", "",
             f"Command: `{report['command']}`  ", f"Machine: {report['machine']['summary']}  ",
             f"Render model: {report['model']}" + (f"; judge: {report['judge']} (held out)" if quality else "")
             + f"; {len(report['classes'])} classes", ""]
    if quality:
        lines += ["| stage | judge top-1 | judge top-5 | judge mean p | own top-1 | HF share | s/class | s/image-step | steps | size (view) | batch | classes |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["| recipe | own top-1 | HF share | s/class | classes/min | s/image-step | steps | size (view) | batch | classes |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        size = f"{r['size']}" + (f" ({r['view']})" if r["view"] != r["size"] else "")
        coarse = (r.get("recipe") or {}).get("coarse_view")
        if coarse:  # coarse-to-fine: the model saw coarse px first, then the view
            size = f"{r['size']} ({coarse}→{r['view']})"
        common = [_pct(r["own_top1"]), _pct(r["hf_share"]), f"{r['s_per_class']:.2f}"]
        if quality:
            cells = [r["name"], _pct(r["judge_top1"]), _pct(r["judge_top5"]),
                     "-" if r["judge_p"] is None else f"{r['judge_p']:.3f}", *common]
        else:
            cells = [r["name"], *common, f"{60 / r['s_per_class']:.1f}"]
        cells += [f"{r['s_per_image_step']:.4f}", str(r["steps"]), size, str(r["batch"]), str(len(r["per_class"]))]
        if r.get("reused_from"):
            cells[0] += f" (from {r['reused_from']})"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if report.get("lucent_time_ratio"):
        for k, v in report["lucent_time_ratio"].items():
            lines.append(f"- time per class, {k} / Lucent defaults: **{v:.3f}** (Lucent takes {1 / v:.1f}x as long)")
    elif report.get("lucent_skipped"):
        lines.append(f"- Lucent skipped: {report['lucent_skipped']}")
    if report.get("frozen"):
        f = report["frozen"]
        lines.append(f"- frozen weights: forward+backward of the input, {f['model']}, {f['size']} px, batch {f['batch']}: "
                     f"{f['s_frozen']:.3f} s frozen vs {f['s_unfrozen']:.3f} s with weight gradients "
                     f"(**{f['ratio']:.2f}x** faster frozen)")
    lines.append("- HF share: share of luminance power above 0.25 cycles/px (natural photos ~2-5 %, pixel noise ~80 %).")
    return "\n".join(lines) + "\n"


def machine(device) -> dict:
    d = torch.device(device)
    name = torch.cuda.get_device_name(d) if d.type == "cuda" else (platform.processor() or platform.machine())
    threads = torch.get_num_threads()
    return {"device": str(d), "name": name, "cpus": os.cpu_count(), "torch_threads": threads,
            "torch": torch.__version__, "python": platform.python_version(),
            "summary": f"{d.type} {name}, {os.cpu_count()} CPUs, torch {torch.__version__}, {threads} threads"}


# ---------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="atlas bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--classes", type=int, help="sample size (default 48; speed mode 16)")
    p.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated stages (default all: {','.join(STAGES)})")
    p.add_argument("--steps", type=int, help="override every stage's steps (quick runs); Lucent gets 4x these")
    p.add_argument("--size", type=int, default=224, help="image size, px (default 224)")
    p.add_argument("--batch", type=int, help="targets per forward pass (default 8 on CPU, 64 on GPU)")
    p.add_argument("--without", default=",".join(WITHOUT), metavar="LIST",
                   help=f"leave-one-out rows: the full recipe with each of these switched off (default all: "
                   f"{','.join(WITHOUT)}; '' for none)")
    p.add_argument("--no-lucent", action="store_true", help="skip the Lucent peer")
    p.add_argument("--lucent-classes", type=int, help="run Lucent on only the first N classes of the sample (its time "
                   "per class is class-independent; its quality is then compared on those N)")
    p.add_argument("--lucent-steps", type=int, help=f"Lucent's steps (default {LUCENT_STEPS}, or 4x --steps)")
    p.add_argument("--speed", metavar="MODEL", help="speed-only mode on this torchvision model (weights=None), e.g. resnet18")
    p.add_argument("--out", default="bench/results", help="output folder (default bench/results)")
    p.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2; on a machine shared with other "
                   "busy processes 1 can be several times faster: spinning OpenMP threads wait on each other)")
    p.add_argument("--amp", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--tuning", action="store_true", help="use the tuning sample (disjoint from the benchmark's 48)")
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE", help="override a recipe knob for every stage")
    p.add_argument("--part", metavar="K/N", help="run only part K of N of the sample (classes K, K+N, ...); "
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


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.merge:
        return write_report(merge_reports([json.loads(Path(f).read_text()) for f in args.merge], argv), Path(args.out))
    from generator.models import load_model

    device = torch.device(args.device)
    batch = args.batch or (64 if device.type == "cuda" else 8)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    for s in stages:
        if s not in STAGES:
            raise AtlasError(f"bench: unknown stage {s!r}; known: {', '.join(STAGES)}")
    without = [w.strip() for w in args.without.split(",") if w.strip()]
    for w in without:
        if w not in WITHOUT:
            raise AtlasError(f"bench: unknown --without {w!r}; known: {', '.join(WITHOUT)}")
    overrides = parse_sets(args.set)
    overrides["size"] = args.size
    if args.steps:
        overrides["steps"] = args.steps
    speed = bool(args.speed)
    args.classes = args.classes or (16 if speed else 48)
    if speed:
        indices = [i % 1000 for i in range(args.classes)]
        model = load_model(args.speed, weights=None, device=device)
        judge = None
        if "--stages" not in " ".join(argv):
            stages = ["blur", "full"]
        without = []
    else:
        indices = tuning_classes(args.classes) if args.tuning else bench_classes(args.classes)
        model = load_model(RENDER_MODEL, device=device)
        judge = load_model(JUDGE_MODEL, device=device)
    if args.part:
        k, n = (int(v) for v in args.part.split("/"))
        indices = indices[k::n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    date = _dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    report = {"schema": 1, "mode": "speed" if speed else "quality", "command": "atlas bench " + " ".join(argv),
              "date": date, "machine": machine(device), "model": model.name,
              "judge": None if speed else JUDGE_MODEL, "classes": indices, "rows": []}
    log(f"bench: {report['mode']}, {model.name} on {device}, {len(indices)} classes, stages {','.join(stages)}, batch {batch}")
    if not speed and not args.no_frozen and not args.reuse:
        report["frozen"] = frozen_speedup(model, size=args.size, batch=8)
        log(f"  frozen weights: {report['frozen']}")
    reuse = {}
    for path in args.reuse:
        old = json.loads(Path(path).read_text())
        if old.get("classes") == indices and old.get("model") == model.name:
            reuse.update({r["name"]: dict(r, reused_from=r.get("reused_from") or old["date"])
                          for r in old["rows"] if r["kind"] != "subset"})
            report.setdefault("frozen", old.get("frozen"))
    if stages:  # warm-up: the first call pays for lazy initialisation; keep it out of the timings
        from generator.render import render_batch

        render_batch(model, [class_target(i) for i in indices[:batch]], stage_recipe(stages[0], **overrides).with_(steps=1))
    recipes = [(s, stage_recipe(s, **overrides)) for s in stages] + \
        [(without_name(w), without_recipe(w, **overrides)) for w in without]
    for stage, recipe in recipes:
        old = reuse.get(stage)
        if old and old["recipe"] == json.loads(json.dumps(recipe.knobs())) and old["batch"] == min(batch, len(indices)):
            report["rows"].append(old)
            log(f"  {stage}: reused from {old['reused_from']}")
            continue
        images, own, seconds = render_ours(model, indices, recipe, batch, amp=args.amp, log=log)
        row = make_row(stage, "stage" if stage in STAGES else "without", indices, images, own, seconds, recipe.steps, recipe.size, min(batch, len(indices)), judge,
                       recipe=recipe.knobs(), view=recipe.view)
        report["rows"].append(row)
        contact_sheet(images, out / f"sheet-{stage.replace(' ', '-').replace('/', '')}.jpg")
        log(f"  {stage}: top1 {_pct(row['judge_top1'])} top5 {_pct(row['judge_top5'])} own {_pct(row['own_top1'])} "
            f"hf {_pct(row['hf_share'])} {row['s_per_class']:.2f} s/class")
    if not args.no_lucent:
        why = lucent_available()
        if why:
            report["lucent_skipped"] = f"lucent not importable ({why}); see `generator/bench.py` for how to install it"
            log(f"  {report['lucent_skipped']}")
        else:
            steps = args.lucent_steps or (4 * args.steps if args.steps else LUCENT_STEPS)
            lucent_idx = indices[:args.lucent_classes] if args.lucent_classes else indices
            old = reuse.get("lucent")
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
            log(f"  lucent: top1 {_pct(row['judge_top1'])} hf {_pct(row['hf_share'])} {row['s_per_class']:.2f} s/class")
    if args.part:
        report["part"] = args.part
    return write_report(report, out)


def write_report(report: dict, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=1)
    (out / f"bench-{report['date']}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report), flush=True)
    return 0


def _aggregate(name: str, rows: list[dict]) -> dict:
    """One row from the same row of several parts: per-class lists joined, means recomputed, time weighted."""
    per = [c for r in rows for c in r["per_class"]]
    n = len(per)
    seconds = sum(r["s_per_class"] * len(r["per_class"]) for r in rows)
    out = dict(rows[0], per_class=per, s_per_class=round(seconds / n, 3),
               s_per_image_step=round(seconds / n / rows[0]["steps"], 5))
    mean = lambda key: round(sum(float(c[key]) for c in per) / n, 4)  # noqa: E731
    out.update(own_top1=mean("own_top1"), hf_share=mean("hf_share"))
    if rows[0]["judge_top1"] is not None:
        out.update(judge_top1=mean("top1"), judge_top5=mean("top5"), judge_p=mean("p"))
    return out


def merge_reports(parts: list[dict], argv: list[str]) -> dict:
    report = dict(parts[0], command="atlas bench " + " ".join(argv), part=None,
                  date=_dt.datetime.now().strftime("%Y-%m-%dT%H%M%S"),
                  parts=[p["command"] for p in parts], rows=[],
                  classes=list(dict.fromkeys(i for p in parts if p["rows"] for i in p["classes"])))
    names = [r["name"] for p in parts for r in p["rows"] if r["kind"] != "subset"]
    order = {name: k for k, name in enumerate(STAGES + [without_name(w) for w in WITHOUT])}
    for name in sorted(dict.fromkeys(names), key=lambda n: order.get(n, len(order))):
        report["rows"].append(_aggregate(name, [r for p in parts for r in p["rows"] if r["name"] == name]))
    stages = [r for r in report["rows"] if r["kind"] == "stage"]
    sets = [{c["index"] for c in r["per_class"]} for r in stages]
    if stages and len({frozenset(x) for x in sets}) > 1:  # e.g. an ablation on a smaller sample
        small = min(sets, key=len)
        report["rows"] += [subset_row(r, small, "ablation's") for r, x in zip(stages, sets) if len(x) > len(small) and small <= x]
    peer = next((r for r in report["rows"] if r["name"] == "lucent"), None)
    if peer:
        stages = [r for r in report["rows"] if r["kind"] == "stage"]
        report["rows"].remove(peer)
        if len(peer["per_class"]) < len(report["classes"]):
            theirs = {c["index"] for c in peer["per_class"]}
            report["rows"] += [subset_row(r, theirs) for r in stages if theirs <= {c["index"] for c in r["per_class"]}]
        report["rows"].append(peer)
        report["lucent_time_ratio"] = {r["name"]: round(r["s_per_class"] / peer["s_per_class"], 4) for r in stages}
    frozen = [p["frozen"] for p in parts if p.get("frozen")]
    report["frozen"] = frozen[0] if frozen else None
    return report


if __name__ == "__main__":
    raise SystemExit(main())
