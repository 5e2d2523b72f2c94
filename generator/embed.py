"""Blog embedding: ready-to-paste snippets (`atlas embed`), media export into a blog (`atlas export`), and the
blog post's own videos (`make post-videos`: site/blog/app1.mp4 ... one per stage of the recipe ladder).

Media URLs are the site's stable ones (generator/site.py): ``media/class-008.mp4`` (+ ``.jpg`` poster,
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
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.errors import AtlasError

FORMATS = ("html", "zola", "hugo", "markdown")
DEFAULT_SIZE = 224
# what the shortcodes and the snippets copy for one target; "final" is the full-size PNG
MEDIA = {"video": ".mp4", "poster": ".jpg", "final": ".png"}
# store file names (generator/artifacts.py FILE_NAMES), used when meta.json does not list them
STORE_NAMES = {"video": "progress.mp4", "poster": "poster.jpg", "final": "final.png"}
# the Zola/Hugo shortcode's arguments; Zola also passes page/section, config, nth and lang, so none of those
SHORTCODE_ARGS = ("class", "path", "base", "atlas", "link", "caption", "width", "height", "autoplay")


def _slug(layer: str) -> str:
    from generator.site import layer_slug  # the site's own rule, so URLs always agree

    return layer_slug(layer)


# ---------------------------------------------------------------- one target's media


@dataclass
class Media:
    """A class or channel as the site publishes it."""

    kind: str  # "class" | "channel"
    id: str  # media base name: class-008, channel-layer4.1-37
    label: str  # hen, layer4.1:37
    caption: str  # hen (class 8); layer4.1:37 (channel 37 of layer4.1)
    page: str  # classes/008.html, relative to the atlas root
    index: int | None = None  # class index
    width: int = DEFAULT_SIZE
    height: int = DEFAULT_SIZE
    status: str = "absent"  # done | failed | pending (in the atlas, not rendered) | absent (not in the atlas)
    sources: dict = field(default_factory=dict)  # kind -> Path in the store (when done)

    def rel(self, kind: str) -> str:
        return f"media/{self.id}{MEDIA[kind]}"


def read_manifest(store: Path) -> dict | None:
    """The store's manifest, or None when there is no atlas there yet (a corrupt one is an error)."""
    from generator.store import Store

    if not (Path(store) / "manifest.json").is_file():
        return None
    return Store(store).read_manifest()


def _job_sources(store: Path, key: str) -> tuple[str, dict, dict]:
    """(status, meta, {kind: Path}) of one job; status done | failed | pending."""
    from generator.store import Store

    meta = Store(store).meta(key)
    if meta is None:
        return "pending", {}, {}
    if meta.get("status") != "done":
        return "failed", meta, {}
    folder = Path(store) / "jobs" / key
    files = meta.get("files") or {}
    sources = {}
    for kind in MEDIA:
        name = (files.get(kind) or {}).get("name") or STORE_NAMES[kind]
        if (folder / name).is_file():
            sources[kind] = folder / name
    return "done", meta, sources


def resolve_media(text: str, store: Path | str, manifest: dict | None = None, warn=None) -> Media:
    """Target text (8, hen, n01514859, layer4.1:37) -> its Media, looked up in the store's manifest."""
    from generator.targets import ChannelTarget, parse_target

    warn = warn or (lambda m: print(f"atlas: {m}", file=sys.stderr))
    store = Path(store)
    target = parse_target(str(text))
    if isinstance(target, ChannelTarget):
        slug = _slug(target.layer)
        media = Media("channel", f"channel-{slug}-{target.channel}", target.label,
                      f"{target.label} (channel {target.channel} of {target.layer})",
                      f"channels/{slug}-{target.channel}.html")
        match = lambda e: str(e.get("layer")) == target.layer and int(e.get("channel", -1)) == target.channel  # noqa: E731
        entries = (manifest or {}).get("channels") or []
    else:
        media = Media("class", f"class-{target.index:03d}", target.label, f"{target.label} (class {target.index})",
                      f"classes/{target.index:03d}.html", index=target.index)
        match = lambda e: int(e.get("index", -1)) == target.index  # noqa: E731
        entries = (manifest or {}).get("classes") or []
    if manifest is None:
        warn(f"no atlas in {store} (no manifest.json): {media.label} assumed {DEFAULT_SIZE} px and not checked")
        return media
    size = (manifest.get("recipe") or {}).get("size")
    if isinstance(size, int) and size > 0:
        media.width = media.height = size
    entry = next((e for e in entries if match(e)), None)
    if entry is None:
        warn(f"{media.label} is not in the atlas in {store}: its URLs will not exist until you add it to the "
             f"config and rebuild")
        return media
    media.status, meta, media.sources = _job_sources(store, entry["key"])
    video = ((meta.get("files") or {}).get("video") or {}) if meta else {}
    if isinstance(video.get("width"), int) and isinstance(video.get("height"), int):
        media.width, media.height = video["width"], video["height"]
    if media.status == "pending":
        warn(f"{media.label} is not rendered yet (run `make atlas`); size from the recipe ({media.width} px)")
    elif media.status == "failed":
        warn(f"{media.label} failed to render ({meta.get('error') or 'unknown error'}); its URLs will not exist")
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
    else:
        args += [("path", m.rel("video")), ("link", m.page)]
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


# ---------------------------------------------------------------- copying files


def place(src: Path, dest: Path) -> bool:
    """Put src at dest atomically: a hard link when possible, else a copy. False when dest is already the same."""
    try:
        s, d = src.stat(), dest.stat()
        if os.path.samestat(s, d) or (s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns):
            return False
    except OSError:
        pass
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def url_for_folder(to: Path) -> str:
    """The URL a blog serves an export folder at: the part after its `static/` (Zola, Hugo), root-relative."""
    parts = Path(to).resolve().parts
    if "static" in parts:
        after = parts[len(parts) - 1 - parts[::-1].index("static") + 1:]
        return "/" + "/".join(after) if after else ""
    raise AtlasError(f"cannot tell the URL of {to} (no static/ folder in its path); pass --url, e.g. --url /atlas")


def export_media(media: list[Media], to: Path, *, final: bool = True) -> list[tuple[Path, int]]:
    """Copy each target's MP4 + poster (+ final PNG) to to/media/<id>.* (the site's layout). Returns (path, bytes)."""
    written = []
    for m in media:
        if m.status != "done":
            raise AtlasError(f"{m.label} is {m.status} in the store, nothing to export; run `make atlas` first")
        for kind in MEDIA:
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


# ---------------------------------------------------------------- the blog post's videos


def _ladder_settings(manifest: dict) -> tuple[str, dict]:
    from generator.config import LadderConfig

    ladder = manifest.get("ladder") or {}
    default = LadderConfig()
    post_dir = ladder.get("post_dir", default.post_dir)
    post_videos = ladder.get("post_videos", default.post_videos)
    return post_dir, post_videos


def check_post_videos(post_dir: str, post_videos: dict, stages: list[str]) -> None:
    """One-line errors for a [ladder] post_dir / post_videos that cannot work."""
    if not isinstance(post_videos, dict):
        raise AtlasError("[ladder] post_videos must be a table of stage = \"file.mp4\"")
    if not isinstance(post_dir, str):
        raise AtlasError("[ladder] post_dir must be a string, e.g. \"blog\"")
    d = PurePosixPath(post_dir)
    if d.is_absolute() or ".." in d.parts or "\\" in post_dir:
        raise AtlasError(f"[ladder] post_dir {post_dir!r} must be a relative folder inside the site, e.g. \"blog\"")
    for stage, name in post_videos.items():
        if stage not in stages:
            raise AtlasError(f"[ladder] post_videos names stage {stage!r}, which is not in [ladder] stages "
                             f"({', '.join(stages)})")
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".mp4"):
            raise AtlasError(f"[ladder] post_videos: {stage} = {name!r} must be a plain file name ending in .mp4")
    names = list(post_videos.values())
    if len(set(names)) != len(names):
        raise AtlasError("[ladder] post_videos: two stages share one file name")


def post_video_plan(store: Path | str, manifest: dict | None = None, *, strict: bool = True) -> list[dict]:
    """One row per configured post video, in config order: stage, key, status, rel paths and store sources.

    rel paths are relative to the site root: {"video": "blog/app1.mp4", "poster": "blog/app1.jpg"}.
    ``strict=False`` (the site build): post videos of stages the config's ladder leaves out are skipped, not errors.
    """
    store = Path(store)
    manifest = manifest if manifest is not None else read_manifest(store)
    if manifest is None:
        raise AtlasError(f"no atlas in {store} (no manifest.json): run `make post-videos` or `atlas build` first")
    ladder = manifest.get("ladder") or {}
    keys = {str(s["stage"]): str(s["key"]) for s in ladder.get("stages") or []}
    post_dir, post_videos = _ladder_settings(manifest)
    if not strict and isinstance(post_videos, dict):
        post_videos = {stage: name for stage, name in post_videos.items() if stage in keys}
    check_post_videos(post_dir, post_videos, list(keys))
    prefix = f"{post_dir.strip('/')}/" if post_dir.strip("/") else ""
    rows = []
    for stage, name in post_videos.items():
        status, meta, sources = _job_sources(store, keys[stage])
        rel = {"video": prefix + name, "poster": prefix + name[: -len(".mp4")] + ".jpg"}
        rows.append({"stage": stage, "key": keys[stage], "status": status, "rel": rel,
                     "sources": {k: sources[k] for k in rel if k in sources},
                     "error": meta.get("error") if status == "failed" else None})
    return rows


def post_video_files(store: Path | str, manifest: dict | None = None) -> dict[str, Path]:
    """Site-relative path -> store file for every rendered post video and poster (for the site build to add)."""
    files = {}
    for row in post_video_plan(store, manifest, strict=False):
        if row["status"] == "done":
            for kind, rel in row["rel"].items():
                if kind in row["sources"]:
                    files[rel] = row["sources"][kind]
    return files


def write_post_videos(store: Path | str, out: Path | str, log=None, *, strict: bool = False) -> list[dict]:
    """Copy the post's videos and posters from the store into out/ (site/blog/app1.mp4 ...). Returns the rows,
    each with "bytes" (per kind) when written. ``log``: a stream for a one-line summary (None: quiet)."""
    out = Path(out)
    rows = post_video_plan(store, strict=strict)
    for row in rows:
        row["bytes"] = {}
        if row["status"] != "done":
            continue
        for kind, rel in row["rel"].items():
            src = row["sources"].get(kind)
            if src is None:
                continue
            try:
                place(src, out / rel)
            except OSError as exc:
                raise AtlasError(f"cannot write {out / rel}: {exc.strerror or exc}") from None
            row["bytes"][kind] = (out / rel).stat().st_size
    if log is not None and rows:
        print(post_videos_summary(rows, out), file=log)
    return rows


def post_videos_summary(rows: list[dict], out: Path) -> str:
    done = [r for r in rows if r["bytes"].get("video")]
    parts = [f"{PurePosixPath(r['rel']['video']).name} {r['stage']} {r['bytes']['video'] / 1000:.0f} KB" for r in done]
    missing = [f"{r['stage']} ({r['status']})" for r in rows if not r["bytes"].get("video")]
    folder = PurePosixPath(rows[0]["rel"]["video"]).parent
    text = f"atlas: post videos in {out / folder}/: {len(done)} of {len(rows)}"
    if parts:
        text += ": " + ", ".join(parts)
    if missing:
        text += "; missing: " + ", ".join(missing)
    return text
