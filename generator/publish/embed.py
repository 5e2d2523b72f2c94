"""Blog embedding: ready-to-paste snippets (`atlas embed`) and media export into a blog (`atlas export`).

Media URLs are the site's stable ones (publish/layout.py): ``media/class-008.mp4`` (+ ``.jpg`` poster,
``.png`` final image), ``media/channel-<layer>-<channel>.*``, pages ``classes/008.html`` and
``channels/<layer>-<channel>.html``. Two bases decide the absolute form:

- the *media base* (``--base-url``, env ``ATLAS_BASE_URL``): where those ``media/`` files are served: the deployed
  atlas (``https://USER.github.io/REPO``), or the folder `atlas export` copied them into (``/atlas``);
- the *atlas URL* (``--atlas-url``, default: the media base): where the atlas pages are, for the caption's link.

The empty base (the default) gives root-relative URLs (``/media/class-008.mp4``): right when the post and the
atlas share a site root, as the post's own ``/blog/app1.mp4`` links do. No torch here.
"""

from __future__ import annotations

import html
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from generator.engine.targets import ChannelTarget, parse_target
from generator.errors import AtlasError
from generator.pipeline.manifest import Manifest
from generator.pipeline.store import Store
from generator.publish.layout import (EMBED_KINDS, channel_media_id, channel_page, class_media_id, class_page,
                                      media_path)
from generator.publish.published import read_published
from generator.publish.site.publish import place

FORMATS = ("html", "zola", "hugo", "markdown")
DEFAULT_SIZE = 224
# the Zola/Hugo shortcode's arguments; Zola also passes page/section, config, nth and lang, so none of those
SHORTCODE_ARGS = ("class", "channel", "path", "base", "atlas", "link", "caption", "width", "height", "autoplay")
BASE_ENV = "ATLAS_BASE_URL"


# ---------------------------------------------------------------- one target's media


@dataclass
class Media:
    """A class or channel as the site publishes it."""

    kind: str  # "class" | "channel"
    id: str  # media id: class-008, channel-layer4.1-37
    label: str  # hen, layer4.1:37
    caption: str  # hen (class 8); layer4.1:37 (channel 37 of layer4.1)
    page: str  # classes/008.html, relative to the atlas root
    index: int | None = None  # class index
    width: int = DEFAULT_SIZE
    height: int = DEFAULT_SIZE
    status: str = "absent"  # done | failed | pending (in the atlas, not rendered) | absent (not in the atlas)
    sources: dict = field(default_factory=dict)  # kind -> Path in the store (when done)
    doubts: list = field(default_factory=list)  # why the store's job is not trusted (then it is pending)

    def rel(self, kind: str) -> str:
        return media_path(self.id, kind)


def resolve_media(text: str, store: Store, manifest: Manifest | None = None, warn=None) -> Media:
    """Target text (8, hen, n01514859, layer4.1:37) -> its Media, looked up in the store's manifest
    (None: there is no atlas in the store yet)."""
    warn = warn or (lambda m: print(f"atlas: {m}", file=sys.stderr))
    target = parse_target(str(text))
    if isinstance(target, ChannelTarget):
        layer, channel = target.layer, target.channel
        media = Media("channel", channel_media_id(layer, channel), target.label,
                      f"{target.label} (channel {channel} of {layer})", channel_page(layer, channel))
        expect = {"layer": layer, "channel": channel}
        entries = [e for e in (manifest.channels if manifest else ()) if (e.layer, e.channel) == (layer, channel)]
    else:
        media = Media("class", class_media_id(target.index), target.label, f"{target.label} (class {target.index})",
                      class_page(target.index), index=target.index)
        expect = {"index": target.index}
        entries = [e for e in (manifest.classes if manifest else ()) if e.index == target.index]
    if manifest is None:
        warn(f"no atlas in {store.root} (no manifest.json): {media.label} assumed {DEFAULT_SIZE} px and not checked")
        return media
    if manifest.size:
        media.width = media.height = manifest.size
    if not entries:
        warn(f"{media.label} is not in the atlas in {store.root}: its URLs will not exist until you add it to the "
             f"config and rebuild")
        return media
    job = read_published(store, entries[0].key, media.id, EMBED_KINDS, media.doubts, expect)
    for doubt in media.doubts:
        warn(doubt)
    media.status, media.sources = job.status, job.sources
    video = job.media.get("video") or {}
    if isinstance(video.get("width"), int) and isinstance(video.get("height"), int):
        media.width, media.height = video["width"], video["height"]
    if media.status == "pending":
        warn(f"{media.label} is not rendered yet (run `make atlas`); size from the recipe ({media.width} px)")
    elif media.status == "failed":
        warn(f"{media.label} failed to render ({job.error}); its URLs will not exist")
    return media


# ---------------------------------------------------------------- snippets


def join_url(base: str, rel: str) -> str:
    """'' -> root-relative '/rel'; otherwise base/rel with exactly one slash between."""
    base = (base or "").strip()
    rel = rel.lstrip("/")
    if not base or base == "/":
        return "/" + rel
    return base.rstrip("/") + "/" + rel


def _attr(s) -> str:
    return html.escape(str(s), quote=True)


def html_snippet(m: Media, base: str = "", atlas: str | None = None, *, autoplay: bool = False,
                 link: bool = True) -> str:
    """<figure><video ...><figcaption>label (class N) · link</figcaption></figure>."""
    atlas = base if atlas is None else atlas
    flags = "muted loop playsinline controls" + (" autoplay" if autoplay else "") + ' preload="none"'
    video = (f'<video src="{_attr(join_url(base, m.rel("video")))}" poster="{_attr(join_url(base, m.rel("poster")))}" '
             f'width="{m.width}" height="{m.height}" {flags}></video>')
    caption = _attr(m.caption)
    if link:
        caption += f' · <a href="{_attr(join_url(atlas, m.page))}">Feature Atlas page</a>'
    return (f'<figure class="atlas-video">\n{video}\n<figcaption>{caption}</figcaption>\n</figure>')


def _md_text(s: str) -> str:
    out = str(s)
    for ch in "\\`*_[]<>":
        out = out.replace(ch, "\\" + ch)
    return out


def _md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def markdown_snippet(m: Media, base: str = "", atlas: str | None = None, *, link: bool = True) -> str:
    """Plain Markdown (for renderers that drop raw HTML): the poster, linking to the MP4, and a caption line."""
    atlas = base if atlas is None else atlas
    poster, video = _md_url(join_url(base, m.rel("poster"))), _md_url(join_url(base, m.rel("video")))
    line = f"[![{_md_text(m.caption)}]({poster})]({video})"
    caption = f"*{_md_text(m.caption)}*"
    if link:
        caption += f" · [Feature Atlas page]({_md_url(join_url(atlas, m.page))})"
    return f"{line}\n{caption}"


def _zola_str(s: str) -> str:
    """A Zola shortcode string literal: no escapes exist, so pick a quote the text does not contain."""
    for q in ('"', "'", "`"):
        if q not in s:
            return f"{q}{s}{q}"
    return '"' + s.replace('"', "\u201d") + '"'


def _hugo_str(s: str) -> str:
    if '"' not in s and "\\" not in s:
        return f'"{s}"'
    if "`" not in s:
        return f"`{s}`"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shortcode_args(m: Media, base: str | None, atlas: str | None, *, autoplay: bool = False) -> list[tuple[str, object]]:
    """The shortcode's arguments for this media; base/atlas only when given (else the shortcode's defaults)."""
    args: list[tuple[str, object]] = []
    if m.kind == "class":
        args.append(("class", m.index))
    else:  # the shortcodes make the channel's URLs by publish/layout.py's rule (tests/publish/test_shortcodes.py)
        args.append(("channel", m.label))
    args.append(("caption", m.caption))
    if (m.width, m.height) != (DEFAULT_SIZE, DEFAULT_SIZE):
        args += [("width", m.width), ("height", m.height)]
    if base is not None:
        args.append(("base", base))
    if atlas is not None:
        args.append(("atlas", atlas))
    if autoplay:
        args.append(("autoplay", True))
    return args


def zola_snippet(m: Media, base: str | None = None, atlas: str | None = None, *, autoplay: bool = False) -> str:
    parts = []
    for k, v in shortcode_args(m, base, atlas, autoplay=autoplay):
        parts.append(f"{k}={'true' if v is True else v if isinstance(v, int) else _zola_str(str(v))}")
    return "{{ atlas_video(" + ", ".join(parts) + ") }}"


def hugo_snippet(m: Media, base: str | None = None, atlas: str | None = None, *, autoplay: bool = False) -> str:
    parts = []
    for k, v in shortcode_args(m, base, atlas, autoplay=autoplay):
        parts.append(f"{k}={'true' if v is True else v if isinstance(v, int) else _hugo_str(str(v))}")
    return "{{< atlas_video " + " ".join(parts) + " >}}"


def snippet(m: Media, fmt: str, base: str | None, atlas: str | None = None, *, autoplay: bool = False,
            link: bool = True) -> str:
    """``base``/``atlas`` None: the defaults (root-relative for HTML/Markdown, the shortcode's own for Zola/Hugo)."""
    if fmt == "html":
        return html_snippet(m, base or "", atlas, autoplay=autoplay, link=link)
    if fmt == "markdown":
        return markdown_snippet(m, base or "", atlas, link=link)
    if fmt == "zola":
        return zola_snippet(m, base, atlas, autoplay=autoplay)
    if fmt == "hugo":
        return hugo_snippet(m, base, atlas, autoplay=autoplay)
    raise AtlasError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- bases and copying files


def default_base(base_url: str | None, fmt: str, environ=None, warn=None) -> str | None:
    """`atlas embed`'s media base: --base-url, else $ATLAS_BASE_URL, else None (root-relative for HTML and
    Markdown, which it says, since the atlas is often served elsewhere; the shortcodes' own default)."""
    environ = os.environ if environ is None else environ
    base = base_url if base_url is not None else environ.get(BASE_ENV)
    if base is None and fmt in ("html", "markdown") and warn:
        warn("URLs are root-relative (/media/...); pass --base-url https://USER.github.io/REPO "
             f"(or set {BASE_ENV}) when the atlas is served elsewhere")
    return base


def url_for_folder(to: Path) -> str:
    """The URL a blog serves an export folder at: the part after its `static/` (Zola, Hugo), root-relative."""
    parts = Path(to).resolve().parts
    if "static" in parts:
        after = parts[len(parts) - 1 - parts[::-1].index("static") + 1:]
        return "/" + "/".join(after) if after else ""
    raise AtlasError(f"cannot tell the URL of {to} (no static/ folder in its path); pass --url, e.g. --url /atlas")


def export_base(url: str, fmt: str) -> str | None:
    """The snippets' base for media exported to a folder the blog serves at ``url``. The shortcodes resolve a
    relative base with the blog's own base URL (get_url / relURL), and "atlas" is their default (None)."""
    if fmt in ("html", "markdown"):
        return url
    base = url.lstrip("/") if url.startswith("/") else url
    return None if base == "atlas" else base


def export_media(media: list[Media], to: Path, *, final: bool = True) -> list[tuple[Path, int]]:
    """Copy each target's MP4 + poster (+ final PNG) to to/media/<id>.* (the site's layout). Returns (path, bytes)."""
    written = []
    for m in media:
        if m.status != "done":
            why = f" ({m.doubts[0].removesuffix('; shown as pending')})" if m.doubts else ""
            raise AtlasError(f"{m.label} is {m.status} in the store{why}, nothing to export; run `make atlas` first")
        for kind in EMBED_KINDS:
            if kind == "final" and not final:
                continue
            src = m.sources.get(kind)
            if src is None:
                raise AtlasError(f"{m.label}: the store lists no {kind} file")
            dest = Path(to) / m.rel(kind)
            try:
                place(src, dest)
            except OSError as exc:
                raise AtlasError(f"cannot write {dest}: {exc.strerror or exc}") from None
            written.append((dest, dest.stat().st_size))
    return written
