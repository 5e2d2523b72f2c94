"""The recipe page (recipe.html): the post's ladder replayed on one class, stage by stage, with what each
stage changed, and the full recipe's knobs. Its rows also make the home page's ladder strip."""

from __future__ import annotations

from generator.publish.layout import RECIPE
from generator.publish.site.atlas import Atlas
from generator.publish.site.filters import fmt_knob, markup
from generator.publish.site.plots import finite_values, last_finite, svg_plot
from generator.publish.site.templating import Site


def ladder_rows(site: Site, atlas: Atlas) -> dict | None:
    """{"cls": the ladder's class link, "stages": one row per stage}; None without a ladder."""
    ladder = atlas.ladder
    if not ladder:
        return None
    lc = ladder["class"]
    rows, prev_recipe = [], None
    for n, s in enumerate(ladder["stages"]):
        job = s["job"]
        site.media(job)
        m = job.metrics
        probs = finite_values(m.get("probs"))
        top = atlas.top5_rows(job, lc)
        r = job.meta.get("recipe") if isinstance(job.meta.get("recipe"), dict) else None
        changed = []
        if r and prev_recipe:
            changed = [(k, fmt_knob(v)) for k, v in r.items() if k not in ("stage",) and prev_recipe.get(k) != v]
        if r:
            prev_recipe = r
        own = next((t for t in top if t["is_self"]), None)
        rows.append({
            "n": n, "stage": s["stage"], "note": s["note"], "job": job, "changed": changed,
            "final_value": m.get("final_value"), "prob": last_finite(probs),
            "top1": top[0] if top else None, "own_rank": (top.index(own) + 1) if own else None,
            "seconds": m.get("seconds"),
            # small plots, one per stage: fewer points keep the page under its 30 KB budget
            "plot": markup(svg_plot(m.get("values"), probs, value_name="logit", width=240, height=110,
                                    title=f"Stage {s['stage']}", points=48)),
        })
    cls = atlas.class_link(lc) if lc is not None else {"index": None, "label": atlas.ladder_label(),
                                                       "url": None, "thumb": None, "status": "absent"}
    return {"cls": cls, "stages": rows}


def add_recipe_page(site: Site, atlas: Atlas) -> dict | None:
    """Adds recipe.html; returns the ladder's rows (None without a ladder)."""
    ladder = ladder_rows(site, atlas)
    prose = site.markdown("recipe", ladder=ladder)
    site.page(RECIPE, "recipe.html", title=prose[0] if prose and prose[0] else "The recipe",
              prose=prose[1] if prose else "", ladder=ladder, recipe=site.knobs(atlas.manifest.recipe),
              description="The feature-visualization recipe, replayed stage by stage.")
    return ladder
