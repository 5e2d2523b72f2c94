"""store + content + templates -> site/: a static, offline, relative-URL site for GitHub Pages.

Reads the store (its manifest, and each job through ``read_published``, so a job the build would render
again shows as pending) and never imports torch, so ``atlas site`` re-templates 1000 classes in a couple
of seconds. Every page kind has its module (classes, channels, recipe, home); the names of all files and
URLs are publish/layout.py's; publish.py writes the result. What lands in ``out``::

    index.html  classes/  layers/  channels/  recipe.html  about.html  random.html  search.js
    static/                        CSS, JS, icon (copied from templates/static/)
    media/                         every done job's video, poster, final image and thumbnail, from the store
    blog/app1.mp4 .jpg ...         the blog post's own videos (publish/post_videos.py)
    .nojekyll, .atlas-site         GitHub Pages serves _files as is; the marker lets a rebuild replace the folder

Anything else in ``out`` (a CNAME, a .git) is the user's and stays (publish.py).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from generator import __version__
from generator.engine.targets import imagenet_classes
from generator.errors import AtlasError
from generator.pipeline.store import Store
from generator.publish.layout import MARKER, NOJEKYLL
from generator.publish.post_videos import post_video_files
from generator.publish.public import public_model
from generator.publish.site.atlas import Atlas, read_atlas
from generator.publish.site.channels import add_channel_pages
from generator.publish.site.classes import add_class_pages
from generator.publish.site.home import add_home_pages
from generator.publish.site.publish import sync
from generator.publish.site.recipe import add_recipe_page
from generator.publish.site.templating import Site, find_content, find_templates


def build_site(store: Path, out: Path, *, content: Path | None = None, templates: Path | None = None,
               classes: list[dict] | None = None) -> dict:
    """Render the whole site from the store. Returns counts: pages, done, pending, failed, seconds, ...

    ``content``/``templates``: see templating.py for the defaults. ``classes`` replaces the ImageNet class
    data (tests inject awkward labels).
    """
    t0 = time.perf_counter()
    templates, content = find_templates(templates), find_content(content)
    store = Store(store)
    manifest = store.read_manifest()
    manifest = replace(manifest, model=public_model(manifest.model))  # pages never show this machine's details
    site = Site(content, templates, list(imagenet_classes()) if classes is None else classes)
    atlas = read_atlas(store, manifest, site.all_classes, site.warnings)
    site.common = common_context(site, atlas)
    add_class_pages(site, atlas)
    add_channel_pages(site, atlas)
    ladder = add_recipe_page(site, atlas)
    add_home_pages(site, atlas, ladder)
    add_post_videos(site, store, manifest)
    site.add_static()
    site.add(NOJEKYLL, b"")
    site.add(MARKER, b"built by `atlas site`: its files here are rebuilt each time; files it does not make are kept\n")
    stats = sync(Path(out), site.files, manifest.ladder.post_dir if manifest.ladder else "")

    counts = atlas.counts(list(atlas.jobs.values()) + atlas.channel_jobs)
    return {
        "pages": sum(1 for rel in site.files if rel.endswith(".html")), **counts,
        "seconds": round(time.perf_counter() - t0, 3), "classes": len(atlas.jobs),
        "channels": len(atlas.channel_jobs), "files": len(site.files), "out": str(out), "warnings": site.warnings,
        "sync": stats,
    }


def common_context(site: Site, atlas: Atlas) -> dict:
    """What every page's template sees: the atlas's title, model, recipe, counts, and the CSS/JS URLs."""
    m = atlas.manifest
    return {
        "atlas": {
            "title": m.title, "model": m.model, "recipe": m.recipe, "updated": m.updated,
            "has_channels": bool(atlas.layers), "has_about": (site.content / "about.md").is_file(),
            "counts": atlas.counts(list(atlas.jobs.values())), "n_classes": len(atlas.jobs),
            "n_channels": len(atlas.channel_jobs), "n_layers": len(atlas.layers),
            "ladder_label": atlas.ladder_label(), "version": __version__,
        },
        "css": site.static_url("atlas.css"), "js": site.static_url("atlas.js"),
    }


def add_post_videos(site: Site, store: Store, manifest) -> None:
    """The blog post's own videos (site/blog/app1.mp4 ...); a [ladder] that cannot work is a warning here."""
    try:
        for rel, src in post_video_files(store, manifest).items():
            site.add(rel, src)
    except AtlasError as exc:
        site.warnings.append(f"post videos skipped: {exc}")
