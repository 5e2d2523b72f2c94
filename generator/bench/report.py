"""The benchmark's report: a row per recipe (judge, HF share, time), the Markdown table, the JSON files, and
the merge of a run split into parts (``--part K/N``, then ``--merge``)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from generator.bench.metrics import hf_share, judge_scores
from generator.engine.recipe import STAGES, WITHOUT, without_name
from generator.engine.targets import imagenet_classes
from generator.errors import AtlasError


def now_stamp() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")


def make_row(name, kind, indices, images, own, seconds, steps, size, batch, judge, recipe=None, view=0) -> dict:
    """One recipe's row: judge and HF means, own top-1, time per class, and the same per class."""
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
    return with_means(row, per, name=f"{row['name']} ({label} {len(per)})", kind="subset")


def aggregate(rows: list[dict]) -> dict:
    """One row from the same row of several parts: per-class lists joined, means recomputed, time weighted."""
    per = [c for r in rows for c in r["per_class"]]
    seconds = sum(r["s_per_class"] * len(r["per_class"]) for r in rows)
    return with_means(rows[0], per, s_per_class=round(seconds / len(per), 3),
                      s_per_image_step=round(seconds / len(per) / rows[0]["steps"], 5))


def with_means(row: dict, per: list[dict], **changes) -> dict:
    """``row`` over the classes ``per``: its own-model, HF and (when judged) judge means recomputed."""
    n = len(per)
    mean = lambda key: round(sum(float(c[key]) for c in per) / n, 4)  # noqa: E731
    out = dict(row, per_class=per, **changes)
    out.update(own_top1=mean("own_top1"), hf_share=mean("hf_share"))
    if row["judge_top1"] is not None:
        out.update(judge_top1=mean("top1"), judge_top5=mean("top5"), judge_p=mean("p"))
    return out


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def markdown(report: dict) -> str:
    """The report as Markdown: the table, Lucent's time ratio, the frozen-weights timing."""
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
        common = [pct(r["own_top1"]), pct(r["hf_share"]), f"{r['s_per_class']:.2f}"]
        if quality:
            cells = [r["name"], pct(r["judge_top1"]), pct(r["judge_top5"]),
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
    text = json.dumps(report, indent=1)
    (out / f"bench-{report['date']}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report), flush=True)
    return 0


def merge_reports(parts: list[dict], argv: list[str]) -> dict:
    """One report from the reports of --part runs: every row over all their classes."""
    report = dict(parts[0], command="atlas bench " + " ".join(argv), part=None, date=now_stamp(),
                  parts=[p["command"] for p in parts], rows=[],
                  classes=list(dict.fromkeys(i for p in parts if p["rows"] for i in p["classes"])))
    names = [r["name"] for p in parts for r in p["rows"] if r["kind"] != "subset"]
    order = {name: k for k, name in enumerate(STAGES + [without_name(w) for w in WITHOUT])}
    for name in sorted(dict.fromkeys(names), key=lambda n: order.get(n, len(order))):
        report["rows"].append(aggregate([r for p in parts for r in p["rows"] if r["name"] == name]))
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
