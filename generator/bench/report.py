"""The benchmark's report: a row per recipe on one sample (the judge's verdict, what a person sees, time), the
Markdown table, the JSON files, and the merge of a run split into parts (``--part K/N``, then ``--merge``)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from generator.bench import ladder
from generator.bench.look import look
from generator.bench.metrics import judge_scores
from generator.engine.recipe import REFERENCE_SIZE
from generator.engine.targets import imagenet_classes
from generator.errors import AtlasError

SCHEMA = 2  # 2: rows carry their sample, colourfulness and contrast; the photos reference row
LOOK_KEYS = ("colourfulness", "contrast", "hf_share")


def now_stamp() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")


def row_id(row: dict) -> str:
    """Rows are named by recipe, and one recipe may run on two samples (full on eval and on ablation)."""
    return f"{row['name']} @ {row['sample']}"


def make_row(name, kind, sample, indices, images, own, seconds, steps, size, batch, judge, recipe=None,
             view=0) -> dict:
    """One recipe's row on one sample: judge and look means, own top-1, time per class, and the same per class."""
    scores = judge_scores(judge, images, indices) if judge is not None else [{} for _ in indices]
    labels = {c["index"]: c["label"] for c in imagenet_classes()}
    per = [{"index": i, "label": labels[i], "own_top1": o, **look(im), **sc}
           for i, o, im, sc in zip(indices, own, images, scores)]
    row = {"name": name, "kind": kind, "sample": sample, "steps": steps, "size": size, "batch": batch,
           "view": view or size, "judge_top1": None, "judge_top5": None, "judge_p": None, "recipe": recipe,
           "s_per_class": round(seconds / len(indices), 3),
           "s_per_image_step": round(seconds / len(indices) / steps, 5)}
    return with_means(row, per)


def reference_row(photos: dict[str, np.ndarray]) -> dict:
    """Natural photos scored the way the renders are: what 'looks like a picture' means in numbers."""
    per = [{"index": None, "label": name, **look(im)} for name, im in photos.items()]
    size = next(iter(photos.values())).shape[0]
    row = {"name": "natural photos", "kind": "reference", "sample": "photos", "steps": None, "size": size,
           "batch": None, "view": size, "judge_top1": None, "judge_top5": None, "judge_p": None, "own_top1": None,
           "recipe": None, "s_per_class": None, "s_per_image_step": None}
    return with_means(row, per)


def subset_row(row: dict, indices, label: str) -> dict:
    """A row's quality numbers recomputed on a subset of its classes (timings per class unchanged)."""
    per = [c for c in row["per_class"] if c["index"] in set(indices)]
    if not per:
        raise AtlasError(f"bench: no class of {row['name']} among {sorted(indices)}")
    return with_means(row, per, name=f"{row['name']} ({label} {len(per)})", kind="subset")


def aggregate(rows: list[dict]) -> dict:
    """One row from the same row of several parts: per-class lists joined, means recomputed, time weighted."""
    per = [c for r in rows for c in r["per_class"]]
    if rows[0]["s_per_class"] is None:
        return with_means(rows[0], per)
    seconds = sum(r["s_per_class"] * len(r["per_class"]) for r in rows)
    return with_means(rows[0], per, s_per_class=round(seconds / len(per), 3),
                      s_per_image_step=round(seconds / len(per) / rows[0]["steps"], 5))


def with_means(row: dict, per: list[dict], **changes) -> dict:
    """``row`` over the classes ``per``: its look, own-model and (when judged) judge means recomputed."""
    mean = lambda key: round(sum(float(c[key]) for c in per) / len(per), 4)  # noqa: E731
    out = dict(row, per_class=per, **changes)
    out.update({k: mean(k) for k in LOOK_KEYS})
    if "own_top1" in per[0]:
        out["own_top1"] = mean("own_top1")
    if "top1" in per[0]:
        out.update(judge_top1=mean("top1"), judge_top5=mean("top5"), judge_p=mean("p"))
    return out


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def _num(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def _size(r: dict) -> str:
    coarse = (r.get("recipe") or {}).get("coarse_view")
    if coarse:  # coarse-to-fine: the model saw coarse px (of a 224 px image, scaled) first, then the view
        return f"{r['size']} ({max(16, round(coarse * r['size'] / REFERENCE_SIZE))}→{r['view']})"
    return f"{r['size']}" + (f" ({r['view']})" if r["view"] != r["size"] else "")


def markdown(report: dict) -> str:
    """The report as Markdown: the table, the ladder on its class, Lucent's time ratio, the frozen-weights timing."""
    quality = report["mode"] == "quality"
    samples = ", ".join(f"{k} = {len(v)} classes" for k, v in report.get("samples", {}).items())
    lines = [f"# Feature Atlas benchmark ({report['mode']}), {report['date']}", "",
             f"Command: `{report['command']}`  ", f"Machine: {report['machine']['summary']}  ",
             f"Render model: {report['model']}" + (f" (weights: {report['weights']})" if report.get("weights") else "")
             + (f"; judge: {report['judge']} (held out)" if quality else "")
             + (f"; samples: {samples}" if samples else ""), ""]
    if quality:
        lines += ["| row | sample | judge top-1 | judge top-5 | judge mean p | colourfulness | contrast | HF share "
                  "| own top-1 | s/class | steps | size (view) | classes |", "|---" * 13 + "|"]
    else:
        lines += ["| recipe | own top-1 | HF share | s/class | classes/min | s/image-step | steps | size (view) | batch "
                  "| classes |", "|---" * 10 + "|"]
    for r in report["rows"]:
        name = r["name"] + (f" (from {r['reused_from']})" if r.get("reused_from") else "")
        if quality:
            cells = [name, r["sample"], pct(r["judge_top1"]), pct(r["judge_top5"]), _num(r["judge_p"], ".3f"),
                     _num(r["colourfulness"], ".1f"), _num(r["contrast"], ".3f"), pct(r["hf_share"]),
                     pct(r.get("own_top1")), _num(r["s_per_class"], ".2f"), _num(r["steps"], "d"), _size(r),
                     str(len(r["per_class"]))]
        else:
            cells = [name, pct(r["own_top1"]), pct(r["hf_share"]), f"{r['s_per_class']:.2f}",
                     f"{60 / r['s_per_class']:.1f}", f"{r['s_per_image_step']:.4f}", str(r["steps"]), _size(r),
                     str(r["batch"]), str(len(r["per_class"]))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if report.get("ladder_class"):
        hen = report["ladder_class"]
        lines.append(f"Ladder on {hen['label']} (class {hen['index']}): judge p(target) per stage, the mean of its "
                     "renders (one per seed) with each render's p in brackets: " + ", ".join(
                         f"{s} {v['p']:.3f}" + (" [" + " ".join(f"{p:.2f}" for p in v["seeds"]) + "]" if v.get("seeds") else "")
                         for s, v in hen["stages"].items()))
        lines.append("")
    if report.get("ladder_steps"):
        lines += [ladder.markdown_line(report["ladder_steps"]), ""]
    if report.get("lucent_time_ratio"):
        for k, v in report["lucent_time_ratio"].items():
            lines.append(f"- time per class, {k} / Lucent defaults: **{v:.3f}** (Lucent takes {1 / v:.1f}x as long)")
    elif report.get("lucent_skipped"):
        lines.append(f"- Lucent skipped: {report['lucent_skipped']}")
    if report.get("photos_skipped"):
        lines.append(f"- natural photos skipped: {report['photos_skipped']}")
    if report.get("frozen"):
        f = report["frozen"]
        lines.append(f"- frozen weights: forward+backward of the input, {f['model']}, {f['size']} px, batch {f['batch']}: "
                     f"{f['s_frozen']:.3f} s frozen vs {f['s_unfrozen']:.3f} s with weight gradients "
                     f"(**{f['ratio']:.2f}x** faster frozen)")
    lines.append("- Colourfulness: Hasler and Süsstrunk (2003) on 0-255 RGB; contrast: RMS of luminance in [0, 1]; "
                 "HF share: share of luminance power above 0.25 cycles/px (photos ~2-5 %, pixel noise ~80 %).")
    return "\n".join(lines) + "\n"


def machine(device) -> dict:
    """What the numbers were measured on."""
    d = torch.device(device)
    name = torch.cuda.get_device_name(d) if d.type == "cuda" else (platform.processor() or platform.machine())
    threads = torch.get_num_threads()
    return {"device": str(d), "name": name, "cpus": os.cpu_count(), "torch_threads": threads,
            "torch": torch.__version__, "python": platform.python_version(),
            "summary": f"{d.type} {name}, {os.cpu_count()} CPUs, torch {torch.__version__}, {threads} threads"}


def write_report(report: dict, out: Path) -> int:
    """bench-<date>.json and latest.json (the same), latest.md (the table, also printed)."""
    out.mkdir(parents=True, exist_ok=True)
    report = dict(report, ladder_steps=ladder.ladder_steps(report["rows"]))
    text = json.dumps(report, indent=1)
    (out / f"bench-{report['date']}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report), flush=True)
    return 0


def lucent_ratios(rows: list[dict]) -> dict[str, float]:
    """Time per class of each of our rows on Lucent's sample, over Lucent's."""
    peer = next((r for r in rows if r["kind"] == "peer"), None)
    if peer is None:
        return {}
    return {row_id(r): round(r["s_per_class"] / peer["s_per_class"], 4)
            for r in rows if r["kind"] == "stage" and r["sample"] == peer["sample"]}


def merge_reports(parts: list[dict], argv: list[str]) -> dict:
    """One report from the reports of --part runs: every row over all their classes, in the first part's order."""
    report = dict(parts[0], command="atlas bench " + " ".join(argv), part=None, date=now_stamp(),
                  parts=[p["command"] for p in parts], rows=[])
    report["samples"] = {name: [i for p in parts for i in p["samples"].get(name, [])] for name in parts[0]["samples"]}
    ids = list(dict.fromkeys(row_id(r) for p in parts for r in p["rows"] if r["kind"] != "subset"))
    for rid in ids:
        report["rows"].append(aggregate([r for p in parts for r in p["rows"] if row_id(r) == rid]))
    peer = next((r for r in report["rows"] if r["kind"] == "peer"), None)
    if peer:  # our rows on the peer's classes, side by side, then the peer
        theirs = {c["index"] for c in peer["per_class"]}
        report["rows"].remove(peer)
        report["rows"] += [subset_row(r, theirs, "Lucent's") for r in report["rows"]
                           if r["kind"] == "stage" and r["sample"] == peer["sample"]
                           and theirs < {c["index"] for c in r["per_class"]}]
        report["rows"].append(peer)
    report["lucent_time_ratio"] = lucent_ratios(report["rows"])
    hens = [p["ladder_class"] for p in parts if p.get("ladder_class")]
    report["ladder_class"] = hens[0] if hens else None
    frozen = [p["frozen"] for p in parts if p.get("frozen")]
    report["frozen"] = frozen[0] if frozen else None
    return report
