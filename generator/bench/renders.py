"""Rendering the benchmark's rows: a recipe on a list of classes, in lanes, timed; and the ladder's rows again with
more seeds, since its steps are read against each other (ladder.py) and one render of one class swings by 0.2 in p."""

from __future__ import annotations

import time

import torch

from generator.bench.ladder import CLASS_SEEDS, LADDER_CLASS, on_class, row_seeds
from generator.bench.metrics import judge_scores, sync_device
from generator.engine.lanes import render_in_lanes
from generator.engine.recipe import Recipe
from generator.engine.targets import class_target
from generator.errors import AtlasError


def render_ours(model, indices: list[int], recipe: Recipe, batch: int, amp: bool = False):
    """Render every class with ``recipe`` in batches; returns (images, own_top1 hits, seconds)."""
    images, own, seconds = [], [], 0.0
    for s in range(0, len(indices), batch):
        chunk = [class_target(i) for i in indices[s:s + batch]]
        sync_device(model.device)
        t = time.perf_counter()
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=amp):
            results = render_in_lanes(model, chunk, recipe)
        sync_device(model.device)
        seconds += time.perf_counter() - t
        for r in results:
            if not r.ok:
                raise AtlasError(f"bench: {recipe.stage} failed on {r.target.label}: {r.error}")
            images.append(r.image)
            own.append(bool(r.top5) and r.top5[0]["index"] == r.target.index)
        print(f"  {recipe.stage}: {min(s + batch, len(indices))}/{len(indices)} classes, {seconds:.1f}s", flush=True)
    return images, own, seconds


def scores_by_seed(model, judge, recipe: Recipe, indices: list[int], seeds, batch: int) -> dict[int, list[dict]]:
    """The judge's score of every class rendered with each seed: {index: [score per seed]}."""
    out: dict[int, list[dict]] = {i: [] for i in indices}
    for seed in seeds:
        if indices:
            images, _, _ = render_ours(model, indices, recipe.with_(seed=seed), batch)
            for i, score in zip(indices, judge_scores(judge, images, indices)):
                out[i].append(score)
    return out


def seed_ladder_row(report: dict, row: dict, recipe: Recipe, hen: int, first: dict, model, judge, batch: int) -> None:
    """Complete a ladder row's seeds: each class of its sample rendered with row_seeds() seeds in all (p per seed in
    its per_class "seeds"; seed 0 is the row's own render), and the ladder's class with CLASS_SEEDS (its entry in
    the report's ladder_class, from ``first``: the row's own render's score, or a reused entry). What a reused row
    already has is kept: only the missing seeds are rendered."""
    base, wanted = recipe.seed, row_seeds(row["name"])
    have = {c["index"]: c.setdefault("seeds", [round(c["p"], 5)]) for c in row["per_class"]}
    for done in sorted({len(seeds) for seeds in have.values() if len(seeds) < wanted}):
        indices = [i for i, seeds in have.items() if len(seeds) == done]
        more = scores_by_seed(model, judge, recipe, indices, range(base + done, base + wanted), batch)
        for i in indices:
            have[i].extend(round(s["p"], 5) for s in more[i])
    if len(first.get("seeds", ())) < CLASS_SEEDS:
        rest = scores_by_seed(model, judge, recipe, [hen], range(base + 1, base + CLASS_SEEDS), 1)
        first = on_class([first] + rest[hen])
    stages = report.setdefault("ladder_class", {"index": hen, "label": LADDER_CLASS, "stages": {}})["stages"]
    stages[row["name"]] = first
