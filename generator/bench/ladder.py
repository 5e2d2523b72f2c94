"""The ladder's steps, each read against the stage before it: does the judge's p(target) rise, and by more than the
sample can tell?

A step is paired: both stages render the same classes from the same seeds, a class's p is the mean over its renders
(ROW_SEEDS of them), the difference is taken class by class, and a bootstrap over the classes gives its 95 %
interval. An interval that straddles 0 means the 16-class sample cannot tell the two stages apart (one class's p
can swing by 0.3 between two renders).
"""

from __future__ import annotations

import numpy as np

from generator.engine.recipe import EXTRA, LADDER, POST_STAGES

RESAMPLES = 4000
LADDER_ROWS = POST_STAGES + list(EXTRA)  # the post's ladder and the stages beyond it, on the ablation sample
LADDER_CLASS = "hen"  # the post's own class: the ladder is reported on it too
# Renders per class and stage, each from its own seed: one render of one class swings by 0.2 in p (hen at the
# robust stage: 0.16 with seed 0, 0.00 with seed 1), so a ladder step compares means over seeds. 6 per class of the
# sample for the stages whose steps are read: with l2 and blur at 256 steps, 3 left robust -> l2 at +0.064
# [-0.010, +0.138] and 6 narrowed it to +0.033 [-0.017, +0.082] (l2 -> blur from [+0.060, +0.290] to
# [+0.085, +0.290]). A detour (sgd) or a stage beyond the post (fourier) ends no step and keeps its one render.
# 4 for the ladder's own class (renders.py).
ROW_SEEDS = 6
CLASS_SEEDS = 4


def carried_stages() -> list[str]:
    """The post's stages that the later ones keep, in order (the sgd detour is left out)."""
    return [s.name for s in LADDER if s.carried]


def row_seeds(stage: str) -> int:
    """Renders per class that a ladder row gets: ROW_SEEDS where a step reads the row, else its own render."""
    return ROW_SEEDS if stage in carried_stages() else 1


def verdict(low: float, high: float) -> str:
    return "rises" if low > 0 else "falls" if high < 0 else "within noise"


def class_p(row: dict) -> dict[int, float]:
    """p(target) per class of a row: the mean over its renders (one per seed) where it has several."""
    return {c["index"]: float(np.mean(c["seeds"])) if c.get("seeds") else c["p"] for c in row["per_class"]}


def renders(row: dict) -> int:
    """Renders behind every class's p in a row (the fewest of any class)."""
    return min(len(c.get("seeds") or [None]) for c in row["per_class"])


def ladder_steps(rows: list[dict], sample: str = "ablation", seed: int = 0) -> list[dict]:
    """One entry per step of the post's ladder whose two stages both have a row on ``sample``."""
    by_name = {r["name"]: r for r in rows if r.get("kind") == "stage" and r.get("sample") == sample}
    steps = []
    stages = carried_stages()
    for before, after in zip(stages, stages[1:]):
        if before not in by_name or after not in by_name:
            continue
        p_before, p_after = class_p(by_name[before]), class_p(by_name[after])
        common = sorted(p_before.keys() & p_after.keys())
        if not common:
            continue
        diff = np.array([p_after[i] - p_before[i] for i in common])
        rng = np.random.default_rng(seed)  # fixed per step: the same two rows always give the same interval
        means = diff[rng.integers(0, len(diff), (RESAMPLES, len(diff)))].mean(axis=1)
        low, high = (float(v) for v in np.percentile(means, [2.5, 97.5]))
        steps.append({"before": before, "after": after, "delta_p": round(float(diff.mean()), 4),
                      "low": round(low, 4), "high": round(high, 4), "up": int((diff > 0).sum()),
                      "classes": len(common), "renders": min(renders(by_name[before]), renders(by_name[after])),
                      "verdict": verdict(low, high)})
    return steps


def on_class(scores: list[dict]) -> dict:
    """The ladder's class at one stage, from the judge's scores of its renders (one per seed): mean p, the share
    of renders in its top-1 and top-5, and each render's p."""
    n = len(scores)
    return {"p": round(sum(s["p"] for s in scores) / n, 5), "top1": sum(bool(s["top1"]) for s in scores) / n,
            "top5": sum(bool(s["top5"]) for s in scores) / n, "seeds": [round(s["p"], 5) for s in scores]}


def markdown_line(steps: list[dict]) -> str:
    """The steps as one line of the report."""
    n = min((s.get("renders", 1) for s in steps), default=1)
    each = f" (a class's p: the mean of its {n} renders, one per seed)" if n > 1 else ""
    return (f"Ladder steps on the ablation sample: change in the judge's mean p(target){each}, 95 % bootstrap "
            "interval over the classes, classes that rose: " + "; ".join(
                f"{s['before']} -> {s['after']} {s['delta_p']:+.3f} [{s['low']:+.3f}, {s['high']:+.3f}], "
                f"{s['up']}/{s['classes']} up, {s['verdict']}" for s in steps))
