"""Class pages: classes/008.html for every class of the atlas (its video, final image, optimization plot, the
model's top-5, the recipe, its place in the hierarchy and its neighbours), what it is made of (the channels with
the largest part of its logit, each linked to its page) and its further samples."""

from __future__ import annotations

from generator.publish.layout import class_page
from generator.publish.site.atlas import Atlas
from generator.publish.site.filters import markup
from generator.publish.site.hierarchy import ancestors, neighbours
from generator.publish.site.plots import finite_values, last_finite, svg_plot
from generator.publish.site.templating import Site


def made_of_rows(atlas: Atlas, index: int) -> dict | None:
    """{"layer", "parts": its top channels as cards with their share of the logit, "weights": the weight view}; None
    where the class is not measured (yet)."""
    made_of = atlas.made_of
    if made_of is None or index not in made_of.classes:
        return None
    parts = [{**atlas.channel_link(made_of.layer, p.channel), "share": p.share, "value": p.value}
             for p in made_of.classes[index]]
    weights = [{**atlas.channel_link(made_of.layer, c), "weight": w} for c, w in made_of.weights.get(index, ())]
    return {"layer": made_of.layer, "pooled": made_of.pooled, "parts": parts, "weights": weights,
            "total": sum(p.share for p in made_of.classes[index])}


def sample_rows(site: Site, atlas: Atlas, index: int) -> list:
    """The class's images, its own first: each a thumbnail linking its full image (or a placeholder)."""
    more = atlas.samples.get(index, [])
    for job in more:
        site.media(job)
    return [atlas.jobs[index], *more] if more else []


def add_class_pages(site: Site, atlas: Atlas) -> None:
    model, recipe = atlas.manifest.model, atlas.manifest.recipe
    indices = atlas.indices
    for pos, i in enumerate(indices):
        c, job = atlas.all_classes[i], atlas.jobs[i]
        m = job.metrics
        crumbs = [{"name": n.name, "key": n.key, "chain": n.chain} for n in ancestors(atlas.nodes, atlas.where[i])]
        near_node, near = neighbours(atlas.nodes, atlas.where[i], i)
        probs = finite_values(m.get("probs"))
        site.media(job)
        site.page(
            class_page(i), "class.html",
            title=c["label"], cls=c, idx=f"{i:03d}", job=job,
            synonyms=[s for s in c.get("synonyms", []) if s.casefold() != c["label"].casefold()],
            crumbs=crumbs, near=[atlas.class_link(n) for n in near],
            near_node={"name": near_node.name, "key": near_node.key},
            prev=atlas.class_link(indices[pos - 1]) if pos > 0 else None,
            next=atlas.class_link(indices[pos + 1]) if pos + 1 < len(indices) else None,
            plot=markup(svg_plot(m.get("values"), probs, value_name="logit", title=f"Optimizing {c['label']}")),
            final_value=m.get("final_value"), final_prob=last_finite(probs), top5=atlas.top5_rows(job, i),
            made_of=made_of_rows(atlas, i), samples=sample_rows(site, atlas, i),
            recipe=site.knobs(job.meta.get("recipe") or recipe), model_used=job.meta.get("model") or model,
            description=f"What {model.get('name', 'a CNN')} sees in class {i} "
                        f"“{c['label']}”: its feature visualization and the video of its optimization.",
        )
