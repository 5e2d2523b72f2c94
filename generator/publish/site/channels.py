"""Channel and layer pages: channels/<layer>-<channel>.html, layers/<layer>.html (a grid of the layer's
channels) and layers/index.html. A channel of the layer that feeds the classifier links the classes it drives."""

from __future__ import annotations

from generator.publish.layout import LAYERS, layer_page
from generator.publish.site.atlas import Atlas
from generator.publish.site.filters import markup
from generator.publish.site.plots import svg_plot
from generator.publish.site.templating import Site


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


def add_channel_pages(site: Site, atlas: Atlas) -> None:
    model, recipe = atlas.manifest.model, atlas.manifest.recipe
    layer_list = []
    for layer, chans in atlas.layers.items():
        weights = atlas.manifest.class_weights.get(layer)
        for pos, ch in enumerate(chans):
            job = ch["job"]
            site.media(job)
            m = job.metrics
            site.page(
                ch["url"], "channel.html", title=f"{layer}:{ch['channel']}", ch=ch, layer=layer,
                layer_url=layer_page(layer), job=job, driven=driven_classes(atlas, weights, ch["channel"]),
                top5=atlas.top5_rows(job, None),
                prev=chans[pos - 1] if pos > 0 else None, next=chans[pos + 1] if pos + 1 < len(chans) else None,
                plot=markup(svg_plot(m.get("values"), None, value_name="mean activation",
                                     title=f"Optimizing {layer}:{ch['channel']}")),
                final_value=m.get("final_value"), recipe=site.knobs(job.meta.get("recipe") or recipe),
                model_used=job.meta.get("model") or model,
                description=f"Feature visualization of channel {ch['channel']} of layer {layer}.",
            )
        info = {"layer": layer, "url": layer_page(layer), "channels": chans,
                "done": sum(c["job"].status == "done" for c in chans), "drives": isinstance(weights, dict)}
        layer_list.append(info)
        site.page(info["url"], "layer.html", title=f"Layer {layer}", info=info,
                  description=f"Feature visualizations of {len(chans)} channels of layer {layer}.")
    if atlas.layers:
        site.page(LAYERS, "layers.html", title="Channels", layers=layer_list,
                  description="Feature visualizations of hidden channels, layer by layer.")
