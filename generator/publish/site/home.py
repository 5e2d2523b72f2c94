"""The home page (index.html: the introduction, the ladder strip and the gallery of every class), its search
index (search.js), random.html and about.html."""

from __future__ import annotations

import json

from generator.publish.layout import ABOUT, HOME, RANDOM, SEARCH_INDEX, layer_page
from generator.publish.site.atlas import Atlas
from generator.publish.site.templating import Site

STATUS_CODE = {"done": 0, "pending": 1, "failed": 2}


def add_home_pages(site: Site, atlas: Atlas, ladder: dict | None) -> None:
    about = site.markdown("about")
    if about:
        site.page(ABOUT, "page.html", title=about[0] or "About", body=about[1],
                  description="About the Feature Atlas.")

    title = site.common["atlas"]["title"]
    intro = site.markdown("index")
    site.page(HOME, "home.html", title=title,
              intro_title=intro[0] if intro else title, intro=intro[1] if intro else "",
              gallery=[atlas.class_link(i) for i in atlas.indices],
              search=site.asset(SEARCH_INDEX, search_index(atlas)), ladder=ladder, by_channel=by_channel(atlas),
              description=f"Feature visualizations of all {len(atlas.jobs)} ImageNet classes of "
                          f"{atlas.manifest.model.get('name')}, with videos of their optimization.")
    done = [i for i in atlas.indices if atlas.jobs[i].status == "done"] or atlas.indices
    site.page(RANDOM, "random.html", title="Random class", ranges=ranges(done))


def by_channel(atlas: Atlas) -> dict | None:
    """The second way in: the pooled layer's page, where every channel shows the class it is most part of."""
    made_of = atlas.made_of
    if made_of is None or not made_of.users or made_of.layer not in atlas.layers:
        return None
    return {"url": layer_page(made_of.layer), "count": len(atlas.layers[made_of.layer])}


def search_index(atlas: Atlas) -> bytes:
    """window.ATLAS_INDEX = {nodes: [[parent, "raw/chain"]], classes: [[index, label, [synonyms], wnid,
    node, status]]}; status 0 done, 1 pending, 2 failed. A script, not JSON: fetch() fails on file://."""
    data = {
        "v": 1,
        "nodes": [[n.parent, "/".join(n.chain)] for n in atlas.nodes],
        "classes": [
            [c["index"], c["label"], [s for s in c.get("synonyms", []) if s.casefold() != c["label"].casefold()],
             c.get("wnid", ""), atlas.where[c["index"]], STATUS_CODE[atlas.jobs[c["index"]].status]]
            for c in atlas.classes
        ],
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # safe even if someone inlines it into a <script>: no "</" or "<!--" can close the element
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return f"window.ATLAS_INDEX={text};\n".encode("utf-8")


def ranges(xs: list[int]) -> list[list[int]]:
    """Sorted integers as [first, last] runs: [1, 2, 3, 7] -> [[1, 3], [7, 7]]."""
    out: list[list[int]] = []
    for x in xs:
        if out and out[-1][1] == x - 1:
            out[-1][1] = x
        else:
            out.append([x, x])
    return out
