"""The site stage: a synthetic store of all 1000 classes -> site/, checked file by file (no browser here)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.errors import AtlasError
from generator.pipeline.store import Store
from generator.publish.site.build import build_site
from generator.publish.site.channels import PER_PAGE
from generator.publish.site.filters import fmt_share
from tests.synthetic_store import (
    AWKWARD, CHANNEL_FAILED, CHANNEL_PENDING, FAILED, HEN_MADE_OF, LADDER_PENDING, LAYERS, MADE_OF_PENDING, PENDING,
    POOLED, POOLED_CHANNELS, REPO, SAMPLE_PENDING, SAMPLES, built_site, make_store,
)

CLASS_PAGE_BUDGET = 30_000
SEARCH_INDEX_BUDGET = 150_000
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
URL_ATTRS = {"href", "src", "poster", "action", "data"}


class Page(HTMLParser):
    """Parses one page: tag balance, duplicate ids/attributes, every URL, and a few things to look for."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attr, value)
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, str] = {}  # first text of h1, title
        self._capture: str | None = None
        self.doctype = False
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def _start(self, tag, attrs):
        names = [a for a, _ in attrs]
        if len(set(names)) != len(names):
            self.errors.append(f"duplicate attribute in <{tag}>: {names}")
        d = dict(attrs)
        self.tags.append((tag, d))
        if "id" in d:
            if d["id"] in self.ids:
                self.errors.append(f"duplicate id {d['id']!r}")
            self.ids.add(d["id"])
        for a, v in attrs:
            if a in URL_ATTRS and v is not None:
                self.urls.append((tag, a, v))
        if tag in ("h1", "title") and tag not in self.text:
            self._capture = tag
            self.text[tag] = ""

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs)
        if tag not in VOID and "svg" not in self.stack:
            self.errors.append(f"self-closing non-void <{tag}/> outside SVG")

    def handle_endtag(self, tag):
        if self._capture == tag:
            self._capture = None
        if tag in VOID:
            self.errors.append(f"end tag for void element </{tag}>")
        elif self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else '-'}>")

    def handle_data(self, data):
        if self._capture:
            self.text[self._capture] += data


@pytest.fixture(scope="module")
def site():
    store, out, counts = built_site()
    pages = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    return {"store": store, "out": out, "counts": counts, "pages": pages, "parsed": {}}


def parsed(site, rel: str) -> Page:
    if rel not in site["parsed"]:
        site["parsed"][rel] = Page(site["pages"][rel])
    return site["parsed"][rel]


# ---------------------------------------------------------------- what is there


def test_every_class_and_page_exists(site):
    out, counts = site["out"], site["counts"]
    classes = sorted(p.name for p in (out / "classes").glob("*.html"))
    assert classes == [f"{i:03d}.html" for i in range(1000)]
    for rel in ("index.html", "recipe.html", "about.html", "random.html", "layers/index.html", "search.js",
                ".nojekyll", "static/atlas.css", "static/atlas.js", "static/favicon.svg"):
        assert (out / rel).is_file(), rel
    for layer, chans in LAYERS.items():
        assert (out / "layers" / f"{layer}.html").is_file()
        for ch in chans:
            assert (out / "channels" / f"{layer}-{ch}.html").is_file()
    pooled = sorted(Store(site["store"]).read_manifest().made_of.users)  # the channels the classes are made of
    for ch in pooled:
        assert (out / "channels" / f"{POOLED}-{ch}.html").is_file()
    n_channels = sum(len(c) for c in LAYERS.values()) + len(pooled)
    layer_pages = len(LAYERS) + -(-len(pooled) // PER_PAGE)  # the pooled layer's channels, page by page
    assert 150 < len(pooled) <= POOLED_CHANNELS and layer_pages == len(LAYERS) + 3
    assert counts["classes"] == 1000 and counts["channels"] == n_channels
    assert counts["pending"] == len(PENDING) + len(CHANNEL_PENDING) + len(MADE_OF_PENDING)
    assert counts["failed"] == len(FAILED) + len(CHANNEL_FAILED)
    assert counts["done"] == 1000 + n_channels - counts["pending"] - counts["failed"]
    assert counts["pages"] == len(site["pages"]) == 1000 + n_channels + layer_pages + 5
    assert counts["warnings"] == []


def test_crane_and_crane_both_exist(site):
    assert parsed(site, "classes/134.html").text["h1"] == "crane bird"
    assert parsed(site, "classes/517.html").text["h1"] == "crane"
    index = search_index(site["out"])
    byindex = {c[0]: c for c in index["classes"]}
    assert "crane" in byindex[134][2] and byindex[517][1] == "crane"


def test_media_are_linked_per_target_and_pending_have_none(site):
    out, store = site["out"], site["store"]
    media = {p.name for p in (out / "media").iterdir()}
    for i in range(1000):
        names = {f"class-{i:03d}{s}" for s in (".mp4", ".jpg", ".png", "-thumb.jpg")}
        if i in PENDING or i in FAILED:
            assert not names & media, i
        else:
            assert names <= media, i
    for stage in ("naive", "sgd", "full"):
        assert {f"ladder-{stage}.mp4", f"ladder-{stage}.jpg"} <= media
    assert not any(n.startswith(f"ladder-{s}.") for s in LADDER_PENDING for n in media)
    # hard links to the store when on one file system: no copies of the heavy files
    src = next((store / "jobs").glob("*/progress.mp4"))
    if os.stat(src).st_dev == os.stat(out).st_dev:
        assert (out / "media" / "class-000.mp4").stat().st_nlink > 1


# ---------------------------------------------------------------- HTML, links, budgets


def test_pages_parse_as_valid_html(site):
    bad = {}
    for rel in site["pages"]:
        page = parsed(site, rel)
        if not page.doctype:
            page.errors.append("no <!doctype html>")
        if page.errors:
            bad[rel] = page.errors[:3]
    assert not bad, dict(list(bad.items())[:5])


def test_sample_pages_are_spec_valid_html5(site):
    html5lib = pytest.importorskip("html5lib")
    sample = ["index.html", "recipe.html", "about.html", "random.html", "layers/index.html",
              "layers/_conv_head.html", "channels/_conv_head-37.html", "channels/_blocks.15-9.html",
              "channels/_blocks.15-5.html", f"layers/{POOLED}.html", f"layers/{POOLED}/2.html",
              f"channels/{POOLED}-12.html", f"channels/{POOLED}-101.html"] + [
                  f"classes/{i:03d}.html" for i in sorted({0, 8, 134, 517, 999, *SAMPLES, *PENDING, *FAILED, *AWKWARD})]
    for rel in sample:
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            parser.parse(site["pages"][rel])
        except html5lib.html5parser.ParseError as exc:
            pytest.fail(f"{rel}: {exc}")


def test_every_link_and_media_source_is_relative_and_resolves(site):
    out = site["out"]
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    bad, fragments = [], 0
    for rel, text in site["pages"].items():
        page = parsed(site, rel)
        for tag, attr, url in page.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("/"):
                bad.append(f"{rel}: absolute or external {attr}={url!r}")
                continue
            if not parts.path:  # "#fragment": an id on this page, or a gallery route (#in=..., #q=...)
                if parts.fragment and "=" not in parts.fragment and parts.fragment not in page.ids:
                    bad.append(f"{rel}: #{parts.fragment} names no id")
                fragments += 1
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(rel), unquote(parts.path))).replace(os.sep, "/")
            if target.startswith("..") or target not in files:
                bad.append(f"{rel}: {tag} {attr}={url!r} -> {target} missing")
            elif parts.fragment and "=" not in parts.fragment and target.endswith(".html"):
                if parts.fragment not in parsed(site, target).ids:
                    bad.append(f"{rel}: {url!r}: no id {parts.fragment!r} in {target}")
    assert not bad, bad[:10]
    assert fragments > 0
    # the CSS pulls nothing from outside either
    assert "url(" not in (out / "static" / "atlas.css").read_text()


def test_class_pages_and_search_index_within_budget(site):
    out = site["out"]
    sizes = {p.name: p.stat().st_size for p in (out / "classes").glob("*.html")}
    largest = max(sizes, key=sizes.get)
    print(f"\nlargest class page: {largest} {sizes[largest]} bytes; search.js {(out / 'search.js').stat().st_size} "
          f"bytes; home {(out / 'index.html').stat().st_size} bytes")
    assert sizes[largest] <= CLASS_PAGE_BUDGET, (largest, sizes[largest])
    # every other page too: only the home page (the gallery of all classes) may be larger
    pages = {rel: (out / rel).stat().st_size for rel in site["pages"] if rel != "index.html"}
    heavy = {rel: n for rel, n in pages.items() if n > CLASS_PAGE_BUDGET}
    assert not heavy, heavy
    assert (out / "search.js").stat().st_size <= SEARCH_INDEX_BUDGET
    # one index, loaded by the home page only
    loaders = [rel for rel, text in site["pages"].items() if "search.js" in text]
    assert loaders == ["index.html"]


def test_images_lazy_with_size_and_alt_videos_quiet_with_poster(site):
    problems = []
    for rel in site["pages"]:
        for tag, a in parsed(site, rel).tags:
            if tag == "img":
                if not (a.get("width") and a.get("height") and "alt" in a):
                    problems.append(f"{rel}: img without width/height/alt: {a}")
                if a.get("loading") != "lazy":
                    problems.append(f"{rel}: img not lazy: {a}")
            if tag == "video":
                for flag in ("muted", "loop", "playsinline"):
                    if flag not in a:
                        problems.append(f"{rel}: video without {flag}")
                if a.get("preload") != "none" or not a.get("poster") or "autoplay" in a:
                    problems.append(f"{rel}: video preload/poster/autoplay: {a}")
    assert not problems, problems[:5]


# ---------------------------------------------------------------- escaping, placeholders, pages' content


def test_awkward_labels_are_escaped_everywhere(site):
    pages = site["pages"]
    for i, label in AWKWARD.items():
        page = parsed(site, f"classes/{i:03d}.html")
        assert page.text["h1"] == label
        assert page.text["title"].startswith(label)
    everything = "".join(pages.values())
    assert "<b>great</b>" not in everything
    assert "<script>alert(1)" not in everything
    assert "<odd>" not in everything
    assert "O&#39;Reilly&#39;s &#34;tiger&#34; shark, &lt;b&gt;great&lt;/b&gt; &amp; white" in pages["classes/003.html"]
    # the gallery caption and alt text hold the same escaped label
    home = parsed(site, "index.html")
    alts = [a.get("alt") for t, a in home.tags if t == "img"]
    assert AWKWARD[3] in alts and "jack-o'-lantern" not in alts  # 607 failed: placeholder, no img
    # search index: parses, holds the exact labels, and cannot close a <script> element
    raw = (site["out"] / "search.js").read_text(encoding="utf-8")
    assert "</" not in raw
    labels = {c[0]: c[1] for c in search_index(site["out"])["classes"]}
    assert labels[3] == AWKWARD[3] and labels[264] == AWKWARD[264] and labels[607] == "jack-o'-lantern"


def search_index(out: Path) -> dict:
    raw = (out / "search.js").read_text(encoding="utf-8")
    m = re.fullmatch(r"window\.ATLAS_INDEX=(.*);\n", raw, re.S)
    assert m, raw[:80]
    return json.loads(m.group(1))


def test_search_index_covers_labels_synonyms_wnids_and_hierarchy(site):
    index = search_index(site["out"])
    assert len(index["classes"]) == 1000
    nodes = index["nodes"]
    hen = next(c for c in index["classes"] if c[0] == 8)
    assert hen[1] == "hen" and hen[3] == "n01514859" and hen[5] == 0
    path, n = [], hen[4]
    while n > 0:
        path = nodes[n][1].split("/") + path
        n = nodes[n][0]
    assert path == ["animal", "chordate", "vertebrate", "bird"]
    status = {c[0]: c[5] for c in index["classes"]}
    assert all(status[i] == 1 for i in PENDING) and all(status[i] == 2 for i in FAILED)


def test_pending_and_failed_render_as_placeholders(site):
    pages = site["pages"]
    for i in PENDING | FAILED:
        page = parsed(site, f"classes/{i:03d}.html")
        assert not [t for t, a in page.tags if t in ("video", "source")], i
        assert not [a for t, a in page.tags if t == "img" and f"class-{i:03d}" in a.get("src", "")], i
        assert 'class="ph ph-' in pages[f"classes/{i:03d}.html"]
    assert "loss became NaN/Inf at step" in pages["classes/013.html"]
    assert "Pending" in pages["classes/007.html"]
    assert 'class="ph ph-pending' in pages["channels/_blocks.15-5.html"]
    assert "loss became NaN/Inf" in pages["channels/_blocks.15-9.html"]
    home = pages["index.html"]
    assert re.search(r'data-i="7"><span class="ph ph-pending', home)
    assert re.search(r'data-i="13"><span class="ph ph-failed', home)
    for stage in LADDER_PENDING:
        assert re.search(rf'id="stage-{stage}">\s*<figure><div class="ph ph-pending', pages["recipe.html"])
    # a partial atlas says how far it is, in every page's header
    progress = f"{1000 - len(PENDING | FAILED)} of 1000 classes rendered · {len(FAILED)} failed · the rest fill in"
    assert all(progress in pages[p] for p in ("index.html", "classes/008.html", "recipe.html"))


def test_class_page_has_everything(site):
    text = site["pages"]["classes/008.html"]
    page = parsed(site, "classes/008.html")
    tags = page.tags
    video = next(a for t, a in tags if t == "video")
    assert video["poster"] == "../media/class-008.jpg"
    assert ("source", {"src": "../media/class-008.mp4", "type": "video/mp4"}) in tags
    assert any(t == "a" and a.get("download") and a["href"] == "../media/class-008.png" for t, a in tags)
    assert any(t == "img" and a.get("src") == "../media/class-008.png" for t, a in tags)
    assert text.count("<polyline") == 2 and 'class="plot"' in text
    assert text.count("<tr") == 6  # top-5 + header
    for knob in ("steps", "seed", "lr", "jitter", "blur_every"):
        assert f"<dt>{knob}</dt>" in text
    for what in ("efficientnet_lite0", "efficientnet-lite0-57934424.pth", "Render time", "Job key"):
        assert what in text
    assert 'rel="prev" href="../classes/007.html"' in text and 'rel="next" href="../classes/009.html"' in text
    assert 'href="../index.html#in=animal/chordate/vertebrate/bird"' in text  # breadcrumb into the gallery
    assert "Neighbours in" in text and 'href="../classes/009.html"' in text
    # first and last: no dangling prev/next
    assert 'rel="prev"' not in site["pages"]["classes/000.html"]
    assert 'rel="next"' not in site["pages"]["classes/999.html"]


def test_plot_is_downsampled(site):
    text = site["pages"]["classes/008.html"]
    for points in re.findall(r'<polyline class="[vp]" points="([^"]+)"', text):
        assert 2 <= len(points.split()) <= 100


def test_channel_pages_show_driven_classes_only_where_known(site):
    pages = site["pages"]
    head = pages["channels/_conv_head-37.html"]
    assert "Classes this channel drives most" in head and head.count('class="card"') == 5
    assert "Classes this channel drives most" not in pages["channels/_blocks.15-37.html"]
    assert "<video" in pages["channels/_blocks.15-37.html"]
    layer = pages["layers/_blocks.15.html"]
    assert layer.count('class="card"') == len(LAYERS["_blocks.15"])


def test_recipe_page_replays_the_ladder(site):
    text = site["pages"]["recipe.html"]
    for stage in ("naive", "sgd", "gray-init", "robust", "l2", "blur", "fourier", "full"):
        assert f'id="stage-{stage}"' in text
    assert text.count("<video") == 7  # fourier is pending
    assert "final logit" in text and "<code>optimizer=sgd</code>" in text


def test_offline_no_external_resources(site):
    for rel, text in site["pages"].items():
        assert not re.search(r'(src|href|poster|action)="(https?:)?//', text), rel
    js = (site["out"] / "static" / "atlas.js").read_text()
    assert "http://" not in js and "https://" not in js and "fetch(" not in js


# ---------------------------------------------------------------- the build itself


def test_build_is_fast_and_never_imports_torch(site, tmp_path):
    seconds = site["counts"]["seconds"]
    print(f"\nbuild of 1000 classes: {seconds:.2f} s")
    assert seconds < 30  # about 2 s on an idle 2-core machine
    store = make_store(tmp_path / "store", classes=range(20))
    code = (
        "import sys, json; from pathlib import Path; from generator.publish.site.build import build_site; "
        f"r = build_site(Path({str(store)!r}), Path({str(tmp_path / 'site')!r}), "
        f"content=Path({str(REPO / 'content')!r}), templates=Path({str(REPO / 'templates')!r})); "
        "print(json.dumps({'torch': 'torch' in sys.modules, 'pages': r['pages']}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["torch"] is False
    assert result["pages"] == 20 + 10 + 2 + 5


def test_rebuild_keeps_unchanged_files_and_the_users_and_removes_stale(tmp_path):
    store = make_store(tmp_path / "store", classes=range(40))
    out = tmp_path / "site"
    kw = dict(content=REPO / "content", templates=REPO / "templates")
    first = build_site(store, out, **kw)
    assert first["pages"] == 40 + 10 + 2 + 5
    assert (out / "media" / "class-005.mp4").is_file()
    again = build_site(store, out, **kw)
    assert again["sync"]["written"] == 0 and again["sync"]["linked"] == 0 and again["sync"]["removed"] == 0

    manifest = Store(store).read_manifest()
    key = {c.index: c.key for c in manifest.classes}
    shutil.rmtree(store / "jobs" / key[5])  # class 5 back to pending
    (store / "jobs" / key[6] / "meta.json").write_text("{not json")  # corrupt: pending, with a warning
    Store(store).write_manifest(replace(manifest, classes=tuple(c for c in manifest.classes if c.index != 39),
                                        channels=tuple(c for c in manifest.channels if c.layer != "_blocks.15")))
    (out / "CNAME").write_text("atlas.example.org\n")  # the user's: kept
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("mine")
    (out / "media" / "stray.mp4").write_bytes(b"left over")  # in the atlas's own folder: removed

    third = build_site(store, out, **kw)
    assert not list((out / "media").glob("class-005*")) and not list((out / "media").glob("class-006*"))
    assert "Pending" in (out / "classes" / "005.html").read_text()
    assert not (out / "classes" / "039.html").exists()
    assert not (out / "layers" / "_blocks.15.html").exists() and not list((out / "channels").glob("_blocks.15-*"))
    assert not list((out / "media").glob("channel-_blocks.15-*"))
    assert not (out / "media" / "stray.mp4").exists()
    assert (out / "CNAME").read_text() == "atlas.example.org\n" and (out / "notes" / "todo.txt").read_text() == "mine"
    assert third["sync"]["kept"] == 2
    assert any("meta.json" in w for w in third["warnings"])
    assert 'href="classes/039.html"' not in (out / "index.html").read_text()
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "site", "store"]  # no folder left beside it


def test_untrusted_job_folders_are_pending_and_odd_ladders_render(tmp_path):
    store = make_store(tmp_path / "store", classes=range(12), channels=False)
    manifest = Store(store).read_manifest()
    key = {c.index: c.key for c in manifest.classes}
    final = store / "jobs" / key[4] / "final.png"
    data = final.read_bytes()
    final.unlink()  # a hard link to shared media: replace it, never write through it
    final.write_bytes(data + b"garbage")  # resized: the store no longer trusts it
    meta = json.loads((store / "jobs" / key[5] / "meta.json").read_text())
    meta["target"]["index"] = 6  # a job filed under the wrong class
    (store / "jobs" / key[5] / "meta.json").write_text(json.dumps(meta))
    manifest = replace(manifest, ladder=replace(manifest.ladder, target_class=None))  # a ladder replayed on a channel
    Store(store).write_manifest(manifest)
    out = tmp_path / "site"
    r = build_site(store, out, content=REPO / "content", templates=REPO / "templates")
    assert r["pending"] == 3 and len(r["warnings"]) == 2  # 4, 5 and 7 (never rendered)
    assert not list((out / "media").glob("class-004*")) and not list((out / "media").glob("class-005*"))
    assert "<video" in (out / "recipe.html").read_text()
    manifest = replace(manifest, ladder=replace(manifest.ladder, stages=()))  # no ladder: the prose and the knobs
    Store(store).write_manifest(manifest)
    build_site(store, out, content=REPO / "content", templates=REPO / "templates")
    assert "<video" not in (out / "recipe.html").read_text() and not list((out / "media").glob("ladder-*"))
    assert "ladder-strip" not in (out / "index.html").read_text()


def test_subset_atlas_links_only_to_pages_that_exist(tmp_path):
    store = make_store(tmp_path / "store", classes=[8, 9, 134, 517], channels=False, ladder=False)
    out = tmp_path / "site"
    r = build_site(store, out, content=REPO / "content", templates=REPO / "templates")
    assert r["pages"] == 4 + 4  # classes, home, recipe, about, random
    for p in out.rglob("*.html"):
        for _, _, url in Page(p.read_text()).urls:
            path = urlsplit(url).path
            if path:
                assert (p.parent / unquote(path)).resolve().is_file(), (p.name, url)
    assert "Channels" not in (out / "index.html").read_text().split("<main")[0]


def test_no_page_shows_a_local_path_or_this_machines_name(tmp_path):
    """A store from an older version recorded the fallback reason with the weights cache's path, and a failed job's
    error may quote a local file: the pages show neither, nor this machine's name."""
    host, store = socket.gethostname(), make_store(tmp_path / "store", classes=[8, 13], channels=False)
    leaky = {"fallback_reason": f"cannot get weights; download them into {tmp_path}/cache/torch/hub/checkpoints on "
                                f"{host} (or set TORCH_HOME)"}
    s = Store(store)
    manifest = s.read_manifest()
    s.write_manifest(replace(manifest, model={**manifest.model, **leaky}))
    for key in [e.key for e in manifest.classes] + [st.key for st in manifest.ladder.stages]:
        path = store / "jobs" / key / "meta.json"
        if path.exists():
            meta = json.loads(path.read_text())
            meta["model"].update(leaky)
            if meta["status"] == "failed":
                meta["error"] = f"render failed: cannot open {tmp_path}/lib/libcuda.so on {host}"
            path.write_text(json.dumps(meta))
    out = tmp_path / "site"
    build_site(store, out, content=REPO / "content", templates=REPO / "templates")
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".html", ".js"))
    for leak in [str(tmp_path), str(Path.home()), "/tmp/", "/home/", *([host] if host != "localhost" else [])]:
        assert leak not in text, leak
    assert "weights not available offline" in (out / "about.html").read_text()
    assert "render failed: cannot open …/libcuda.so on this machine" in (out / "classes" / "013.html").read_text()


def test_missing_templates_are_one_clear_line(tmp_path):
    """(Every bad input `atlas site` can be given is a row of tests/test_bad_inputs.py; templates are the API's.)"""
    store = make_store(tmp_path / "store", classes=[8], channels=False, ladder=False)
    with pytest.raises(AtlasError, match=r"^templates folder .*nowhere does not exist$"):
        build_site(store, tmp_path / "site", content=REPO / "content", templates=tmp_path / "nowhere")


# ---------------------------------------------------------------- what a class is made of, and its samples


def test_every_page_but_the_home_stays_light(site):
    """The home holds the 1000-class gallery; the recipe page the ladder's plots (it does not grow with the atlas)."""
    heavy = {rel: len(text.encode()) for rel, text in site["pages"].items()
             if len(text.encode()) > CLASS_PAGE_BUDGET and rel not in ("index.html", "recipe.html")}
    assert not heavy, heavy


def test_class_page_shows_what_it_is_made_of(site):
    made_of = Store(site["store"]).read_manifest().made_of
    page = parsed(site, "classes/008.html")
    text = site["pages"]["classes/008.html"]
    strip = text[text.index('id="madeof-h"'):text.index("</section>", text.index('id="madeof-h"'))]
    links = re.findall(rf'<li><a class="card" href="\.\./channels/{POOLED}-(\d+)\.html">', strip)
    assert [int(c) for c in links] == list(HEN_MADE_OF)  # largest part first, each linked to its channel page
    shares = re.findall(r'<span class="share">([^<]+)</span>', strip)
    assert shares == [fmt_share(p.share) for p in made_of.classes[8]]
    assert [fmt_share(x) for x in (0.14, 0.0172, 0.0001, -0.03)] == ["14 %", "1.7 %", "<0.1 %", "−3.0 %"]
    assert strip.count('class="ph ph-pending') == len(MADE_OF_PENDING)  # its page exists, its picture is pending
    assert "By weight alone" in strip
    assert any(t == "img" and a["src"] == f"../media/channel-{POOLED}-12-thumb.jpg" for t, a in page.tags)
    for i in PENDING | FAILED:  # not measured: no strip
        assert 'id="madeof-h"' not in site["pages"][f"classes/{i:03d}.html"]


def test_samples_strip_first_is_the_main_image(site):
    out = site["out"]
    for index, seeds in SAMPLES.items():
        text = site["pages"][f"classes/{index:03d}.html"]
        strip = text[text.index('id="samples-h"'):text.index("</section>", text.index('id="samples-h"'))]
        assert strip.count("<li>") == len(seeds)
        assert f'href="../media/class-{index:03d}.png"' in strip  # the first: the page's own image
        for n, seed in enumerate(seeds[1:], 2):
            pending = (index, seed) in SAMPLE_PENDING
            assert (out / "media" / f"class-{index:03d}-{n}.png").is_file() != pending
            assert (f'href="../media/class-{index:03d}-{n}.png"' in strip) != pending
    assert 'id="samples-h"' not in site["pages"]["classes/009.html"]
    assert site["pages"]["classes/008.html"].count("<video") == 1  # one video: the main image's


def test_channel_page_lists_the_classes_made_of_it(site):
    made_of = Store(site["store"]).read_manifest().made_of
    channel = max(made_of.users, key=lambda c: len(made_of.users[c]))
    text = site["pages"][f"channels/{POOLED}-{channel}.html"]
    section = text[text.index('id="users-h"'):text.index("</section>", text.index('id="users-h"'))]
    linked = [int(i) for i in re.findall(r'href="\.\./classes/(\d+)\.html"', section)]
    assert linked == [u.index for u in made_of.users[channel]]  # by measured value, largest first
    assert f"{fmt_share(made_of.users[channel][0].share)} of its logit" in section
    assert 'id="users-h"' not in site["pages"]["channels/_conv_head-37.html"]  # not the layer the classes are made of


def test_browse_by_channel(site, tmp_path):
    pooled = Store(site["store"]).read_manifest().made_of.users
    home = site["pages"]["index.html"]
    assert f'href="layers/{POOLED}.html">or by the {len(pooled)} channels they are made of</a>' in home
    first, second, last = (parsed(site, rel) for rel in (f"layers/{POOLED}.html", f"layers/{POOLED}/2.html",
                                                          f"layers/{POOLED}/3.html"))
    cards = [a["href"] for page in (first, second, last) for t, a in page.tags if t == "a" and "card" in a.get("class", "")]
    assert len(cards) == len(set(cards)) == len(pooled)
    assert ("a", {"rel": "next", "href": f"../layers/{POOLED}/2.html", "data-key": "ArrowRight"}) in first.tags
    assert ("a", {"rel": "prev", "href": f"../../layers/{POOLED}.html", "data-key": "ArrowLeft"}) in second.tags
    assert not any(a.get("rel") == "next" for t, a in last.tags if t == "a")
    hen_top = site["pages"][f"layers/{POOLED}.html"]
    assert re.search(r"channel 12 · [^<]+</span>", hen_top)  # each channel shows the class it is most part of
    store = make_store(tmp_path / "store", classes=[8, 9], channels=False, ladder=False)  # nothing measured
    build_site(store, tmp_path / "site", content=REPO / "content", templates=REPO / "templates")
    assert "channels they are made of" not in (tmp_path / "site" / "index.html").read_text()
