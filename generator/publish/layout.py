"""The one contract for the published atlas's names: slugs, media ids, page paths and file names.

Every URL a blog post may link to comes from here, relative to the atlas's root::

    index.html  recipe.html  about.html  random.html  search.js  static/<file>
    classes/008.html                     one page per class, keyed by zero-padded index ("crane" 134 and 517)
    layers/index.html  layers/<slug>.html  layers/<slug>/2.html ...   a layer's channels, page by page
    channels/<slug>-<channel>.html
    media/<media id>.mp4 .jpg .png -thumb.jpg      media ids: class-008, channel-<slug>-<channel>, ladder-<stage>
    media/class-008-2.png -thumb.jpg     a class's further samples ([samples] seeds): 2, 3, ... (1 is class-008)
    <post_dir>/<name>.mp4 .jpg           the blog post's own videos (config [ladder] post_videos)

The blog shortcodes (templates/shortcodes/, Tera and Go templates) and random.html's script spell the class
rule again in their own languages; tests/publish/test_layout.py renders them and checks them against this
module. No torch, no I/O.
"""

from __future__ import annotations

import re

MEDIA_SUFFIX = {"video": ".mp4", "poster": ".jpg", "final": ".png", "thumb": "-thumb.jpg"}
TARGET_KINDS = ("video", "poster", "final", "thumb")  # a class's or channel's media on the site
LADDER_KINDS = ("video", "poster")  # a ladder stage's media on the recipe page
SAMPLE_KINDS = ("final", "thumb")  # a class's further samples: a strip of thumbnails, each linking its image
EMBED_KINDS = ("video", "poster", "final")  # what a blog embeds, and `atlas export` copies

HOME = "index.html"
RECIPE = "recipe.html"
ABOUT = "about.html"
RANDOM = "random.html"
LAYERS = "layers/index.html"
SEARCH_INDEX = "search.js"
NOJEKYLL = ".nojekyll"  # GitHub Pages serves _files as they are
MARKER = ".atlas-site"  # in every built site: a rebuild may replace a folder only when it holds this
SITE_FOLDERS = ("classes", "channels", "layers", "media", "static")  # wholly the atlas's


def layer_slug(layer: str) -> str:
    """A layer (or stage) name as a file-name-safe URL part: "_blocks.15" stays, "a/b" becomes "a-b"."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", layer).strip(".")
    return slug or "layer"


def class_media_id(index: int) -> str:
    return f"class-{index:03d}"


def class_sample_media_id(index: int, n: int) -> str:
    """The n-th image of a class (n >= 2; the first is the class's own, class_media_id)."""
    return f"{class_media_id(index)}-{n}"


def channel_media_id(layer: str, channel: int) -> str:
    return f"channel-{layer_slug(layer)}-{channel}"


def ladder_media_id(stage: str) -> str:
    return f"ladder-{layer_slug(stage)}"


def media_path(media_id: str, kind: str) -> str:
    return f"media/{media_id}{MEDIA_SUFFIX[kind]}"


def class_page(index: int) -> str:
    return f"classes/{index:03d}.html"


def channel_page(layer: str, channel: int) -> str:
    return f"channels/{layer_slug(layer)}-{channel}.html"


def layer_page(layer: str, page: int = 1) -> str:
    """A layer's grid of channels; a long one goes on over layers/<slug>/2.html ... (a folder no slug can name)."""
    return f"layers/{layer_slug(layer)}.html" if page == 1 else f"layers/{layer_slug(layer)}/{page}.html"


def static_path(name: str) -> str:
    return f"static/{name}"


def poster_of(video: str) -> str:
    """A video's poster: the same path with .jpg for .mp4 (as the shortcodes derive it for a path video)."""
    return video.removesuffix(".mp4") + ".jpg"


def owned_by_atlas(rel: str, post_dir: str = "") -> bool:
    """Whether a file in site/ is the atlas's (rebuilt every time, gone when no longer built) or the user's (kept:
    a CNAME, a .git, notes). The atlas's: its folders, top-level pages and index, and the post's videos."""
    top, sep, _ = rel.partition("/")
    if not sep:
        return rel.endswith(".html") or rel in (SEARCH_INDEX, NOJEKYLL, MARKER)
    folder = post_dir.strip("/")
    return top in SITE_FOLDERS or (bool(folder) and rel.startswith(folder + "/") and rel.endswith((".mp4", ".jpg")))


def post_video_paths(post_dir: str, name: str) -> dict[str, str]:
    """The blog post's video ``name`` (app1.mp4) and its poster under ``post_dir``, relative to the site root."""
    folder = post_dir.strip("/")
    video = f"{folder}/{name}" if folder else name
    return {"video": video, "poster": poster_of(video)}
