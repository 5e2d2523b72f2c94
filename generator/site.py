"""store + content + templates -> site/: a static, offline, relative-URL site for GitHub Pages.

Reads the store (``manifest.json``, and each job through ``Store.meta``, so a job the build would render
again shows as pending) and never imports torch,
so ``atlas site`` re-templates 1000 classes in a couple of seconds. Layout (URLs are stable: blog posts
link to them):

    index.html                     blog-style intro + gallery of every class (search, hierarchy, random)
    classes/008.html               one page per class, keyed by zero-padded index
    layers/index.html              every layer with hidden channels
    layers/<layer>.html            a grid of the layer's channels
    channels/<layer>-<channel>.html
    recipe.html                    the post's ladder replayed on one class, stage by stage
    about.html                     from content/about.md
    random.html                    jumps to a random rendered class
    search.js                      one search index for all classes (a script, so it loads from file:// too)
    static/                        CSS, JS, icon (copied from templates/static/)
    media/class-008.mp4 .jpg .png -thumb.jpg, media/channel-<layer>-<ch>.*, media/ladder-<stage>.mp4 .jpg
    blog/app1.mp4 .jpg ...         the blog post's own videos (names from generator/embed.py)
    .nojekyll, .atlas-site         GitHub Pages serves _files as is; the marker lets a rebuild clean the folder

Media are hard-linked from the store when possible (else copied). The build updates ``out`` in place, file
by file (atomic replace, unchanged files untouched), then deletes every file it did not produce, so pages and
media of targets that are no longer done disappear while a server keeps serving the folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from generator.errors import AtlasError

SCHEMA = 1
MARKER = ".atlas-site"  # written into every built site; a non-empty folder without it is never cleaned
REPO = Path(__file__).resolve().parent.parent
MEDIA_SUFFIX = {"video": ".mp4", "poster": ".jpg", "final": ".png", "thumb": "-thumb.jpg"}
CLASS_KINDS = ("video", "poster", "final", "thumb")
LADDER_KINDS = ("video", "poster")
PLOT_POINTS = 100
NEIGHBOURS = 8
STATUS_CODE = {"done": 0, "pending": 1, "failed": 2}
TMP_NAME = re.compile(r"^\..+\.tmp\d*$")  # ours: .NAME.tmpPID; embed.py's: .NAME.HEX.tmp


# ---------------------------------------------------------------- reading the store


@dataclass
class Job:
    """One target's state in the store, reduced to what the pages need."""

    id: str  # media base name: class-008, channel-_blocks.15-37, ladder-naive
    status: str = "pending"  # done | failed | pending
    meta: dict = field(default_factory=dict)
    error: str | None = None
    media: dict = field(default_factory=dict)  # kind -> {"url", "src", "width", "height", "bytes", ...}

    @property
    def metrics(self) -> dict:
        return self.meta.get("metrics") or {}


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AtlasError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AtlasError(f"cannot read {what} {path}: {exc}") from None
    except ValueError as exc:
        raise AtlasError(f"corrupt {what} {path}: {exc}") from None
    if not isinstance(data, dict):
        raise AtlasError(f"corrupt {what} {path}: expected a JSON object")
    return data


def load_manifest(store: Path) -> dict:
    if not store.is_dir():
        raise AtlasError(f"store {store} does not exist; run `atlas build` first (or pass --store DIR)")
    path = store / "manifest.json"
    if not path.is_file():
        raise AtlasError(f"no manifest.json in store {store}; run `atlas build` to plan the atlas first")
    m = _read_json(path, "store manifest")
    if m.get("schema") != SCHEMA:
        raise AtlasError(f"store manifest {path} has schema {m.get('schema')!r}; this atlas reads schema {SCHEMA}")
    try:
        for c in m.get("classes") or []:
            int(c["index"]), str(c["key"])
        for c in m.get("channels") or []:
            str(c["layer"]), int(c["channel"]), str(c["key"])
        ladder = m.get("ladder")
        if ladder:
            None if ladder.get("class") is None else int(ladder["class"])
            for s in ladder.get("stages") or []:
                str(s["stage"]), str(s["key"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AtlasError(f"corrupt store manifest {path}: bad entry ({type(exc).__name__}: {exc})") from None
    if not isinstance(m.get("model"), dict) or not isinstance(m.get("recipe"), dict):
        raise AtlasError(f"corrupt store manifest {path}: 'model' and 'recipe' must be objects")
    return m


def load_job(store, key: str, media_id: str, kinds: tuple, warnings: list, expect: dict) -> Job:
    """A finished job's meta and files. A missing folder is pending; a folder that the store does not
    trust (bad JSON, wrong key or schema, a missing or resized file) is pending too, with a warning, so the
    site shows exactly what `atlas build` would not render again."""
    job = Job(media_id)
    folder = store.jobs / key
    meta = store.meta(key)
    if meta is None:
        if (folder / "meta.json").exists():
            warnings.append(f"{folder}: invalid job folder (unreadable meta.json or missing files); shown as pending")
        return job
    target = meta.get("target") if isinstance(meta.get("target"), dict) else {}
    for k, v in expect.items():
        if target.get(k) != v:
            warnings.append(f"{folder}: target {k}={target.get(k)!r}, expected {v!r}; shown as pending")
            return job
    if meta.get("status") == "failed":
        job.status, job.meta = "failed", meta
        job.error = str(meta.get("error") or "unknown error")
        return job
    media = {}
    for kind in kinds:
        info = meta["files"].get(kind)
        name = info.get("name") if isinstance(info, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            warnings.append(f"{folder}: meta.json lists no '{kind}' file; shown as pending")
            return job
        media[kind] = {**info, "src": folder / name, "url": f"media/{media_id}{MEDIA_SUFFIX[kind]}"}
    job.status, job.meta, job.media = "done", meta, media
    return job


# ---------------------------------------------------------------- the WordNet hierarchy, collapsed


@dataclass
class Node:
    id: int
    parent: int  # -1 for the root
    chain: list  # raw WordNet names merged into this node (single-child levels collapsed); shown: the last
    key: str  # URL key: every raw name from the root, "/"-joined and percent-encoded
    children: list = field(default_factory=list)
    classes: list = field(default_factory=list)  # class indices whose parent is this node
    subtree: list = field(default_factory=list)  # every class index below, sorted

    @property
    def name(self) -> str:
        return self.chain[-1] if self.chain else "All classes"


def build_tree(classes: list[dict]) -> tuple[list[Node], dict[int, int]]:
    """Nodes from the classes' WordNet paths (leaf = the class itself), merging levels with a single child
    and no class of their own ("chordate > vertebrate" becomes one step). Returns (nodes, class -> node)."""
    raw_children: dict[tuple, dict] = {(): {}}
    raw_classes: dict[tuple, list] = {}
    for c in classes:
        path = tuple(c["path"][:-1]) or (c["label"],)
        for i in range(len(path)):
            raw_children.setdefault(path[:i], {}).setdefault(path[: i + 1], None)
            raw_children.setdefault(path[: i + 1], {})
        raw_classes.setdefault(path, []).append(c["index"])

    nodes = [Node(0, -1, [], "")]
    where: dict[int, int] = {}

    def visit(raw: tuple, node: Node) -> None:
        for idx in raw_classes.get(raw, []):
            where[idx] = node.id
            node.classes.append(idx)
        for child in raw_children[raw]:
            chain = [child[-1]]
            while len(raw_children[child]) == 1 and not raw_classes.get(child):
                child = next(iter(raw_children[child]))
                chain.append(child[-1])
            key = "/".join(quote(s, safe="") for s in child)
            sub = Node(len(nodes), node.id, chain, key)
            nodes.append(sub)
            node.children.append(sub.id)
            visit(child, sub)

    visit((), nodes[0])
    for n in reversed(nodes):  # children come after parents
        n.subtree = sorted(n.classes + [i for ch in n.children for i in nodes[ch].subtree])
    for n in nodes:
        n.children.sort(key=lambda ch: (-len(nodes[ch].subtree), nodes[ch].name.casefold()))
    return nodes, where


def ancestors(nodes: list[Node], node_id: int) -> list[Node]:
    out = []
    while node_id > 0:
        out.append(nodes[node_id])
        node_id = nodes[node_id].parent
    return out[::-1]


def neighbours(nodes: list[Node], node_id: int, index: int, want: int = NEIGHBOURS) -> tuple[Node, list[int]]:
    """The nearest hierarchy node with a few other classes, and up to `want` of them closest by index."""
    node = nodes[node_id]
    while len(node.subtree) <= min(want, 4) and node.parent >= 0:
        node = nodes[node.parent]
    others = sorted((i for i in node.subtree if i != index), key=lambda i: (abs(i - index), i))[:want]
    return node, sorted(others)


# ---------------------------------------------------------------- formatting


def fmt_num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def fmt_knob(v) -> str:
    if isinstance(v, (list, tuple)):
        return "–".join(fmt_num(x) for x in v) if len(v) == 2 else ", ".join(fmt_num(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return fmt_num(v)


def fmt_pct(p) -> str:
    if p is None or not isinstance(p, (int, float)) or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%" if p < 0.995 else f"{100 * p:.2f}%"


def fmt_bytes(n) -> str:
    if not isinstance(n, (int, float)):
        return ""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1e6:.1f} MB"


def fmt_secs(s) -> str:
    if not isinstance(s, (int, float)) or not math.isfinite(s):
        return "–"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def fmt_date(iso) -> str:
    if not isinstance(iso, str):
        return ""
    m = re.match(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)", iso)
    return f"{m.group(1)} {m.group(2)} UTC" if m else iso


def _finite(xs) -> list:
    if not isinstance(xs, list):
        return []
    return [x if isinstance(x, (int, float)) and math.isfinite(x) else None for x in xs]


def _downsample(n: int, points: int = PLOT_POINTS) -> list[int]:
    if n <= points:
        return list(range(n))
    return sorted({round(k * (n - 1) / (points - 1)) for k in range(points)})


def svg_plot(values, probs=None, *, value_name: str = "logit", width: int = 320, height: int = 132,
             title: str = "") -> str | None:
    """A tiny inline SVG: the objective per step (left axis) and the class probability (right axis, 0..1)."""
    values, probs = _finite(values), _finite(probs)
    n = len(values)
    if sum(v is not None for v in values) < 2:
        return None
    idx = _downsample(n)
    left, right, top, bottom = 38, 34 if probs else 10, 18, 22
    pw, ph = width - left - right, height - top - bottom
    finite = [v for v in values if v is not None]
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1

    xs = {i: left + pw * i / max(1, n - 1) for i in idx}
    sv, ov = ph / (hi - lo), top + ph * hi / (hi - lo)  # y = ov - v * sv

    def line(series, scale, offset, clip=False):
        pts, runs = [], []
        for i in idx:
            v = series[i] if i < len(series) else None
            if v is None:
                if pts:
                    runs.append(pts)
                pts = []
                continue
            if clip:
                v = 0.0 if v < 0 else 1.0 if v > 1 else v
            pts.append("%.1f,%.1f" % (xs[i], offset - v * scale))
        if pts:
            runs.append(pts)
        return runs

    def yv(v):
        return ov - v * sv

    last = finite[-1]
    desc = f"{value_name} from {fmt_num(finite[0])} to {fmt_num(last)} over {n} steps"
    if probs and any(p is not None for p in probs):
        lastp = [p for p in probs if p is not None][-1]
        desc += f"; probability reaches {fmt_pct(lastp)}"
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_attr(title + ": " if title else "")}{_attr(desc)}">',
        f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>',
        f'<text class="ax" x="{left - 4}" y="{top + 4}" text-anchor="end">{fmt_num(hi)}</text>',
        f'<text class="ax" x="{left - 4}" y="{top + ph}" text-anchor="end">{fmt_num(lo)}</text>',
        f'<text class="ax" x="{left}" y="{height - 6}">0</text>',
        f'<text class="ax" x="{left + pw}" y="{height - 6}" text-anchor="end">step {n - 1}</text>',
        f'<text class="lv" x="{left}" y="12">{_attr(value_name)}</text>',
    ]
    if lo < 0 < hi:
        y0 = yv(0)
        parts.append(f'<line class="zero" x1="{left}" x2="{left + pw}" y1="{y0:.1f}" y2="{y0:.1f}"/>')
    for run in line(values, sv, ov):
        parts.append(f'<polyline class="v" points="{" ".join(run)}"/>')
    if probs and any(p is not None for p in probs):
        parts += [
            f'<text class="ax" x="{left + pw + 4}" y="{top + 4}">1</text>',
            f'<text class="ax" x="{left + pw + 4}" y="{top + ph}">0</text>',
            f'<text class="lp" x="{left + pw}" y="12" text-anchor="end">probability</text>',
        ]
        for run in line(probs, ph, top + ph, clip=True):
            parts.append(f'<polyline class="p" points="{" ".join(run)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _attr(s: str) -> str:
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def layer_slug(layer: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", layer).strip(".")
    return slug or "layer"


# ---------------------------------------------------------------- rendering


class Site:
    """Collects every output file (relative path -> bytes or a source Path to link), then syncs to disk."""

    def __init__(self, store: Path, content: Path, templates: Path, classes: list[dict] | None):
        import jinja2

        self.store, self.content, self.templates = store, content, templates
        self.files: dict[str, bytes | Path] = {}
        self.warnings: list[str] = []
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)), autoescape=True, trim_blocks=True,
            lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
        )
        self.env.filters.update(num=fmt_num, knob=fmt_knob, pct=fmt_pct, kb=fmt_bytes, secs=fmt_secs,
                                date=fmt_date)
        if classes is None:
            from generator.targets import imagenet_classes

            classes = list(imagenet_classes())
        self.all_classes = {c["index"]: c for c in classes}

    # -- output
    def add(self, rel: str, data: bytes | str | Path) -> None:
        self.files[rel] = data.encode("utf-8") if isinstance(data, str) else data

    def page(self, rel: str, template: str, **ctx) -> None:
        root = "../" * rel.count("/")
        try:
            html = self.env.get_template(template).render(root=root, page_path=rel, **self.common, **ctx)
        except Exception as exc:  # a template bug: name the template and the page
            import jinja2

            if isinstance(exc, jinja2.TemplateNotFound):
                raise AtlasError(f"template {exc.name!r} not found in {self.templates}") from None
            if isinstance(exc, jinja2.TemplateError):
                raise AtlasError(f"template {template} failed on {rel}: {type(exc).__name__}: {exc}") from None
            raise
        self.add(rel, html)

    def media(self, job: Job) -> None:
        for m in job.media.values():
            self.add(m["url"], m["src"])

    # -- content
    def markdown(self, name: str, **ctx) -> tuple[str, str] | None:
        """(title, html) of content/<name>.md, rendered through Jinja first (so it can say {{ counts.done }})."""
        path = self.content / f"{name}.md"
        if not path.is_file():
            return None
        import jinja2
        import markdown
        from markupsafe import Markup

        text = path.read_text(encoding="utf-8")
        try:
            text = self.env.from_string(text).render(**self.common, **ctx)
        except jinja2.TemplateError as exc:
            raise AtlasError(f"{path}: {type(exc).__name__}: {exc}") from None
        title = ""
        m = re.match(r"\s*#\s+(.+?)\s*\n", text)
        if m:
            title, text = m.group(1), text[m.end():]
        body = markdown.markdown(text, extensions=["extra", "sane_lists", "smarty"], output_format="html")
        return title, Markup(body)


def _sync(out: Path, files: dict[str, bytes | Path]) -> dict:
    """Make `out` hold exactly `files`: unchanged files are left alone, others atomically replaced, and
    everything else removed. Refuses a non-empty folder that no earlier build marked as a site."""
    try:
        if out.exists() and not out.is_dir():
            raise AtlasError(f"cannot write site to {out}: it is a file")
        if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
            raise AtlasError(f"refusing to build the site into {out}: the folder is not empty and holds no "
                             f"{MARKER} marker of an earlier `atlas site` (pick an empty or new folder)")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc}") from None

    existing = set()
    for dirpath, dirnames, filenames in os.walk(out):
        rel = os.path.relpath(dirpath, out)
        for f in filenames:
            existing.add(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    made_dirs: set[str] = set()
    stats = {"written": 0, "linked": 0, "copied": 0, "unchanged": 0, "removed": 0}
    can_link = True
    try:
        for rel, data in files.items():
            dest = out / rel
            parent = os.path.dirname(rel)
            if parent and parent not in made_dirs:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(parent)
            tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
            if isinstance(data, bytes):
                if rel in existing:
                    try:
                        if dest.stat().st_size == len(data) and dest.read_bytes() == data:
                            stats["unchanged"] += 1
                            continue
                    except OSError:
                        pass
                tmp.write_bytes(data)
                os.replace(tmp, dest)
                stats["written"] += 1
                continue
            src_stat = data.stat()
            if rel in existing:
                try:
                    st = dest.stat()
                    if os.path.samestat(st, src_stat) or (
                        st.st_size == src_stat.st_size and st.st_mtime_ns == src_stat.st_mtime_ns
                    ):
                        stats["unchanged"] += 1
                        continue
                except OSError:
                    pass
            if can_link:
                try:
                    if tmp.exists():
                        tmp.unlink()
                    os.link(data, tmp)
                    os.replace(tmp, dest)
                    stats["linked"] += 1
                    continue
                except OSError:
                    can_link = False
            import shutil

            shutil.copy2(data, tmp)
            os.replace(tmp, dest)
            stats["copied"] += 1
        now = time.time()
        for rel in sorted(existing - set(files)):
            path = out / rel
            if TMP_NAME.match(path.name):  # another build's file in flight: leave it unless long abandoned
                try:
                    if now - path.stat().st_mtime < 600:
                        continue
                except OSError:
                    continue
            path.unlink(missing_ok=True)
            stats["removed"] += 1
        for dirpath, dirnames, filenames in os.walk(out, topdown=False):
            if dirpath != str(out) and not os.listdir(dirpath):
                os.rmdir(dirpath)
    except OSError as exc:
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc} ({exc.filename or ''})") from None
    return stats


def _resolve_dir(path: Path, default: str) -> Path:
    """Relative defaults ("templates", "content") fall back to the repository's when run from elsewhere."""
    path = Path(path)
    if not path.is_dir() and not path.is_absolute() and str(path) == default and (REPO / default).is_dir():
        return REPO / default
    return path


def build_site(store: Path, out: Path, *, content: Path = Path("content"), templates: Path = Path("templates"),
               classes: list[dict] | None = None) -> dict:
    """Render the whole site from the store. Returns counts: pages, done, pending, failed, seconds, ...

    `classes` replaces the ImageNet class data (tests inject awkward labels); default: generator.targets.
    """
    t0 = time.perf_counter()
    store, out = Path(store), Path(out)
    content, templates = _resolve_dir(content, "content"), _resolve_dir(templates, "templates")
    if not templates.is_dir():
        raise AtlasError(f"templates folder {templates} does not exist")
    manifest = load_manifest(store)
    from generator.store import Store

    site = Site(Store(store), content, templates, classes)
    _render(site, manifest)
    stats = _sync(out, site.files)
    pages = sum(1 for rel in site.files if rel.endswith(".html"))
    counts = site.counts
    return {
        "pages": pages, "done": counts["done"], "pending": counts["pending"], "failed": counts["failed"],
        "seconds": round(time.perf_counter() - t0, 3), "classes": site.n_classes, "channels": site.n_channels,
        "files": len(site.files), "out": str(out), "warnings": site.warnings, "sync": stats,
    }


def _render(site: Site, manifest: dict) -> None:
    store, warnings = site.store, site.warnings
    model, recipe = manifest["model"], manifest["recipe"]

    # classes in the atlas, by index; unknown indices are skipped with a warning
    entries = {}
    for e in manifest.get("classes") or []:
        i = int(e["index"])
        if i not in site.all_classes:
            warnings.append(f"manifest class index {i} is not an ImageNet class; skipped")
            continue
        entries[i] = e["key"]
    indices = sorted(entries)
    jobs: dict[int, Job] = {}
    for i in indices:
        jobs[i] = load_job(store, entries[i], f"class-{i:03d}", CLASS_KINDS, warnings, {"index": i})
    classes = [site.all_classes[i] for i in indices]
    nodes, where = build_tree(classes)

    # channels, grouped by layer in manifest order
    layers: dict[str, list] = {}
    for e in manifest.get("channels") or []:
        layer, ch = str(e["layer"]), int(e["channel"])
        mid = f"channel-{layer_slug(layer)}-{ch}"
        job = load_job(store, e["key"], mid, CLASS_KINDS, warnings, {"layer": layer, "channel": ch})
        layers.setdefault(layer, []).append({"layer": layer, "channel": ch, "job": job, "id": mid,
                                             "url": f"channels/{layer_slug(layer)}-{ch}.html"})
    for chans in layers.values():
        chans.sort(key=lambda c: c["channel"])
    class_weights = manifest.get("class_weights") or {}

    # the ladder: its target is a class (or None where the config named a channel)
    ladder = None
    if manifest.get("ladder") and manifest["ladder"].get("stages"):
        lc = manifest["ladder"].get("class")
        lc = None if lc is None else int(lc)
        stages = []
        for s in manifest["ladder"]["stages"]:
            stage = str(s["stage"])
            job = load_job(store, s["key"], f"ladder-{layer_slug(stage)}", LADDER_KINDS, warnings,
                           {} if lc is None else {"index": lc})
            stages.append({"stage": stage, "note": s.get("note") or "", "job": job})
        ladder = {"class": lc, "stages": stages}

    all_jobs = list(jobs.values()) + [c["job"] for chans in layers.values() for c in chans]
    site.counts = {k: sum(j.status == k for j in all_jobs) for k in ("done", "pending", "failed")}
    site.n_classes, site.n_channels = len(jobs), sum(len(c) for c in layers.values())
    class_counts = {k: sum(j.status == k for j in jobs.values()) for k in ("done", "pending", "failed")}

    css = _static_url(site, "atlas.css")
    js = _static_url(site, "atlas.js")
    site.common = {
        "atlas": {
            "title": manifest.get("title") or "Feature Atlas", "model": model, "recipe": recipe,
            "updated": manifest.get("updated") or "", "has_channels": bool(layers),
            "has_about": (site.content / "about.md").is_file(),
            "counts": class_counts, "n_classes": len(jobs), "n_channels": site.n_channels,
            "n_layers": len(layers), "ladder_label": _ladder_label(site, ladder),
            "version": manifest.get("code_version") or _version(),
        },
        "css": css, "js": js,
    }

    def class_link(i: int) -> dict:
        c = site.all_classes.get(i, {"label": f"class {i}"})
        job = jobs.get(i)
        thumb = job.media.get("thumb") if job else None
        return {"index": i, "label": c["label"], "url": f"classes/{i:03d}.html" if i in jobs else None,
                "thumb": thumb, "status": job.status if job else "absent"}

    def top5_rows(job: Job, own: int | None) -> list:
        rows = []
        for r in (job.metrics.get("top5") or [])[:5]:
            try:
                i, p = int(r["index"]), float(r["prob"])
            except (KeyError, TypeError, ValueError):
                continue
            rows.append({**class_link(i), "prob": p, "is_self": i == own})
        return rows

    # -- class pages
    for pos, i in enumerate(indices):
        c, job = site.all_classes[i], jobs[i]
        m = job.metrics
        crumbs = [{"name": n.name, "key": n.key, "chain": n.chain} for n in ancestors(nodes, where[i])]
        near_node, near = neighbours(nodes, where[i], i)
        probs = _finite(m.get("probs"))
        fin_p = next((p for p in reversed(probs) if p is not None), None)
        site.media(job)
        site.page(
            f"classes/{i:03d}.html", "class.html",
            title=c["label"], cls=c, idx=f"{i:03d}", job=job,
            synonyms=[s for s in c.get("synonyms", []) if s.casefold() != c["label"].casefold()],
            crumbs=crumbs, near=[class_link(n) for n in near],
            near_node={"name": near_node.name, "key": near_node.key},
            prev=class_link(indices[pos - 1]) if pos > 0 else None,
            next=class_link(indices[pos + 1]) if pos + 1 < len(indices) else None,
            plot=_markup(svg_plot(m.get("values"), probs, value_name="logit", title=f"Optimizing {c['label']}")),
            final_value=m.get("final_value"), final_prob=fin_p, top5=top5_rows(job, i),
            recipe=_knobs(job.meta.get("recipe") or recipe), model_used=job.meta.get("model") or model,
            description=f"What {manifest.get('model', {}).get('name', 'a CNN')} sees in class {i} "
                        f"“{c['label']}”: its feature visualization and the video of its optimization.",
        )

    # -- layer and channel pages
    layer_list = []
    for layer, chans in layers.items():
        slug = layer_slug(layer)
        weights = class_weights.get(layer)
        for pos, ch in enumerate(chans):
            job = ch["job"]
            site.media(job)
            driven = []
            if isinstance(weights, dict):
                for pair in weights.get(str(ch["channel"])) or []:
                    try:
                        driven.append({**class_link(int(pair[0])), "weight": float(pair[1])})
                    except (TypeError, ValueError, IndexError):
                        continue
            m = job.metrics
            site.page(
                ch["url"], "channel.html", title=f"{layer}:{ch['channel']}", ch=ch, layer=layer,
                layer_url=f"layers/{slug}.html", job=job, driven=driven, top5=top5_rows(job, None),
                prev=chans[pos - 1] if pos > 0 else None, next=chans[pos + 1] if pos + 1 < len(chans) else None,
                plot=_markup(svg_plot(m.get("values"), None, value_name="mean activation",
                                      title=f"Optimizing {layer}:{ch['channel']}")),
                final_value=m.get("final_value"), recipe=_knobs(job.meta.get("recipe") or recipe),
                model_used=job.meta.get("model") or model,
                description=f"Feature visualization of channel {ch['channel']} of layer {layer}.",
            )
        info = {"layer": layer, "url": f"layers/{slug}.html", "channels": chans,
                "done": sum(c["job"].status == "done" for c in chans), "drives": isinstance(weights, dict)}
        layer_list.append(info)
        site.page(info["url"], "layer.html", title=f"Layer {layer}", info=info,
                  description=f"Feature visualizations of {len(chans)} channels of layer {layer}.")
    if layers:
        site.page("layers/index.html", "layers.html", title="Channels", layers=layer_list,
                  description="Feature visualizations of hidden channels, layer by layer.")

    # -- recipe page: the ladder
    ladder_ctx = None
    if ladder:
        lc = ladder["class"]
        rows, prev_recipe = [], None
        for n, s in enumerate(ladder["stages"]):
            job = s["job"]
            site.media(job)
            m = job.metrics
            probs = _finite(m.get("probs"))
            top = top5_rows(job, lc)
            r = job.meta.get("recipe") if isinstance(job.meta.get("recipe"), dict) else None
            changed = []
            if r and prev_recipe:
                changed = [(k, fmt_knob(v)) for k, v in r.items() if k not in ("stage",) and prev_recipe.get(k) != v]
            if r:
                prev_recipe = r
            own = next((t for t in top if t["is_self"]), None)
            rows.append({
                "n": n, "stage": s["stage"], "note": s["note"], "job": job, "changed": changed,
                "final_value": m.get("final_value"),
                "prob": next((p for p in reversed(probs) if p is not None), None),
                "top1": top[0] if top else None, "own_rank": (top.index(own) + 1) if own else None,
                "seconds": m.get("seconds"),
                "plot": _markup(svg_plot(m.get("values"), probs, value_name="logit", width=240, height=110,
                                         title=f"Stage {s['stage']}")),
            })
        cls = class_link(lc) if lc is not None else {"index": None, "label": _ladder_label(site, ladder),
                                                     "url": None, "thumb": None, "status": "absent"}
        ladder_ctx = {"cls": cls, "stages": rows}
    prose = site.markdown("recipe", ladder=ladder_ctx)
    site.page("recipe.html", "recipe.html", title=prose[0] if prose and prose[0] else "The recipe",
              prose=prose[1] if prose else "", ladder=ladder_ctx, recipe=_knobs(recipe),
              description="The feature-visualization recipe, replayed stage by stage.")

    # -- about
    about = site.markdown("about")
    if about:
        site.page("about.html", "page.html", title=about[0] or "About", body=about[1],
                  description="About the Feature Atlas.")

    # -- home + search index + random
    intro = site.markdown("index")
    gallery = [class_link(i) for i in indices]
    site.page("index.html", "home.html", title=site.common["atlas"]["title"],
              intro_title=intro[0] if intro else site.common["atlas"]["title"],
              intro=intro[1] if intro else "", gallery=gallery,
              search=_asset(site, "search.js", _search_index(classes, jobs, nodes, where)),
              ladder=ladder_ctx,
              description=f"Feature visualizations of all {len(jobs)} ImageNet classes of {model.get('name')}, "
                          f"with videos of their optimization.")
    done = [i for i in indices if jobs[i].status == "done"] or indices
    site.page("random.html", "random.html", title="Random class", ranges=_ranges(done))

    # -- the blog post's own videos (site/blog/app1.mp4 ...; generator/embed.py decides the names)
    try:
        from generator.embed import post_video_files

        for rel, src in post_video_files(store.root, manifest).items():
            site.add(rel, Path(src))
    except AtlasError as exc:
        warnings.append(f"post videos skipped: {exc}")

    # -- static files, markers
    static = site.templates / "static"
    if static.is_dir():
        for p in sorted(static.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                site.add(f"static/{p.relative_to(static).as_posix()}", p)
    site.add(".nojekyll", b"")
    site.add(MARKER, b"built by `atlas site`; everything in this folder is rebuilt and unknown files removed\n")


def _ladder_label(site: Site, ladder: dict | None) -> str:
    if not ladder:
        return ""
    if ladder["class"] is not None:
        return site.all_classes.get(ladder["class"], {}).get("label", f"class {ladder['class']}")
    for s in ladder["stages"]:
        label = (s["job"].meta.get("target") or {}).get("label")
        if label:
            return str(label)
    return "the ladder's target"


def _search_index(classes, jobs, nodes, where) -> bytes:
    """window.ATLAS_INDEX = {nodes: [[parent, "raw/chain"]], classes: [[index, label, [synonyms], wnid,
    node, status]]}; status 0 done, 1 pending, 2 failed. A script, not JSON: fetch() fails on file://."""
    data = {
        "v": 1,
        "nodes": [[n.parent, "/".join(n.chain)] for n in nodes],
        "classes": [
            [c["index"], c["label"], [s for s in c.get("synonyms", []) if s.casefold() != c["label"].casefold()],
             c.get("wnid", ""), where[c["index"]], STATUS_CODE[jobs[c["index"]].status]]
            for c in classes
        ],
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # safe even if someone inlines it into a <script>: no "</" or "<!--" can close the element
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return f"window.ATLAS_INDEX={text};\n".encode("utf-8")


def _static_url(site: Site, name: str) -> str:
    """Relative-to-root URL with a content hash query, so a rebuilt site never mixes old CSS/JS with new pages."""
    path = site.templates / "static" / name
    data = path.read_bytes() if path.is_file() else b""
    return f"static/{name}?v={hashlib.sha1(data).hexdigest()[:8]}"


def _asset(site: Site, rel: str, data: bytes) -> str:
    site.add(rel, data)
    return f"{rel}?v={hashlib.sha1(data).hexdigest()[:8]}"


def _ranges(xs: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for x in xs:
        if out and out[-1][1] == x - 1:
            out[-1][1] = x
        else:
            out.append([x, x])
    return out


_KNOBS_CACHE: dict[str, object] = {}


def _knobs(recipe: dict):
    """Every knob as a <dl>, rendered once per distinct recipe (1000 class pages usually share one)."""
    if not isinstance(recipe, dict):
        recipe = {}
    key = json.dumps(recipe, sort_keys=True, default=str)
    if key not in _KNOBS_CACHE:
        rows = "".join(f"<div><dt>{_attr(k)}</dt><dd>{_attr(fmt_knob(v))}</dd></div>\n" for k, v in recipe.items())
        _KNOBS_CACHE[key] = _markup(f'<dl class="knobs">\n{rows}</dl>')
    return _KNOBS_CACHE[key]


def _markup(s: str | None):
    if s is None:
        return None
    from markupsafe import Markup

    return Markup(s)


def _version() -> str:
    try:
        from generator import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return ""
