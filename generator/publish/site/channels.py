"""Channel and layer pages: channels/<layer>-<channel>.html, layers/<layer>.html (a grid of the layer's channels,
page by page) and layers/index.html. A channel of the layer that feeds the classifier links the classes it drives
(the weight view), and, where the classes were measured, the classes whose images it is most part of."""

from __future__ import annotations

from generator.publish.layout import LAYERS, layer_page
from generator.publish.site.atlas import Atlas
from generator.publish.site.filters import markup
from generator.publish.site.plots import svg_plot
from generator.publish.site.templating import Site

PER_PAGE = 96  # channels per layer page: a page of thumbnails stays under 30 KB


def driven_classes(atlas: Atlas, weights, channel: int) -> list[dict]:
    """The classes a channel raises most (manifest class_weights), each linked, with its weight."""
    driven = []
    if isinstance(weights, dict):
        for pair in weights.get(str(channel)) or []:
            try:
                driven.append({**atlas.class_link(int(pair[0])), "weight": float(pair[1])})
            except (TypeError, ValueError, IndexError):
                continue
    return driven


def user_classes(atlas: Atlas, layer: str, channel: int) -> list[dict]:
    """The classes whose own images this channel adds most to (manifest made_of), each linked, with its share."""
    made_of = atlas.made_of
    if made_of is None or made_of.layer != layer:
        return []
    return [{**atlas.class_link(u.index), "share": u.share, "value": u.value} for u in made_of.users.get(channel, ())]


def add_channel_pages(site: Site, atlas: Atlas) -> None:
    model, recipe = atlas.manifest.model, atlas.manifest.recipe
    layer_list = []
    for layer, chans in atlas.layers.items():
        weights = atlas.manifest.class_weights.get(layer)
        users = {ch["channel"]: user_classes(atlas, layer, ch["channel"]) for ch in chans}
        for pos, ch in enumerate(chans):
            job = ch["job"]
            site.media(job)
            m = job.metrics
            site.page(
                ch["url"], "channel.html", title=f"{layer}:{ch['channel']}", ch=ch, layer=layer,
                layer_url=layer_page(layer), job=job, driven=driven_classes(atlas, weights, ch["channel"]),
                users=users[ch["channel"]], measured=len(atlas.made_of.classes) if atlas.made_of else 0,
                top5=atlas.top5_rows(job, None),
                prev=chans[pos - 1] if pos > 0 else None, next=chans[pos + 1] if pos + 1 < len(chans) else None,
                plot=markup(svg_plot(m.get("values"), None, value_name="mean activation",
                                     title=f"Optimizing {layer}:{ch['channel']}")),
                final_value=m.get("final_value"), recipe=site.knobs(job.meta.get("recipe") or recipe),
                model_used=job.meta.get("model") or model,
                description=f"Feature visualization of channel {ch['channel']} of layer {layer}.",
            )
        info = {"layer": layer, "url": layer_page(layer), "channels": chans,
                "done": sum(c["job"].status == "done" for c in chans), "drives": isinstance(weights, dict),
                "made_of": any(users.values()),
                "used_by": {c: us[0]["label"] for c, us in users.items() if us}}
        layer_list.append(info)
        add_layer_pages(site, info)
    if atlas.layers:
        site.page(LAYERS, "layers.html", title="Channels", layers=layer_list,
                  description="Feature visualizations of hidden channels, layer by layer.")


def add_layer_pages(site: Site, info: dict) -> None:
    """layers/<layer>.html, and layers/<layer>/2.html ... when the layer has more than PER_PAGE channels."""
    layer, chans = info["layer"], info["channels"]
    parts = [chans[s:s + PER_PAGE] for s in range(0, len(chans), PER_PAGE)] or [[]]
    for n, part in enumerate(parts, 1):
        pager = {"n": n, "of": len(parts), "first": (n - 1) * PER_PAGE + 1, "last": (n - 1) * PER_PAGE + len(part),
                 "prev": layer_page(layer, n - 1) if n > 1 else None,
                 "next": layer_page(layer, n + 1) if n < len(parts) else None}
        site.page(layer_page(layer, n), "layer.html", title=f"Layer {layer}" + (f" ({n} of {len(parts)})" if n > 1 else ""),
                  info=info, part=part, pager=pager,
                  description=f"Feature visualizations of {len(chans)} channels of layer {layer}.")
