"""Blog embedding: snippets, export, the post's videos, the Zola and Hugo shortcodes, and the snippet in Chromium.

A tiny store (one real 64 px H.264 MP4, poster and PNG, hard-linked into every job) stands in for an atlas.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from generator.cli import main
from generator.embed import (SHORTCODE_ARGS, Media, check_post_videos, html_snippet, hugo_snippet, markdown_snippet,
                             post_video_files, post_video_plan, resolve_media, write_post_videos, zola_snippet)
from generator.errors import AtlasError
from generator.store import job_key

REPO = Path(__file__).resolve().parent.parent
ZOLA_SHORTCODE = REPO / "templates" / "shortcodes" / "atlas_video.html"
HUGO_SHORTCODE = REPO / "templates" / "shortcodes" / "hugo" / "atlas_video.html"
SIZE = 64
POST = {"naive": "app1.mp4", "sgd": "app2.mp4", "gray-init": "app3.mp4", "robust": "app4.mp4", "l2": "app5.mp4",
        "blur": "app6.mp4"}


# ---------------------------------------------------------------- a tiny store


@functools.lru_cache(maxsize=None)
def _media(root: Path) -> dict:
    """A real MP4 (12 frames + hold), poster and PNG at SIZE px, made once."""
    from PIL import Image

    from generator.video import encode_progress, write_poster

    root.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    final = (np.stack([np.sin(6 * x), np.cos(5 * y), np.sin(4 * (x + y))], -1) * 127 + 128).astype(np.uint8)
    rng = np.random.default_rng(0)
    frames = [((1 - t) * rng.uniform(0, 255, final.shape) + t * final).astype(np.uint8) for t in np.linspace(0, 1, 12)]
    video = encode_progress(frames, root / "progress.mp4", fps=10, hold_s=0.5)
    poster = write_poster(final, root / "poster.jpg")
    Image.fromarray(final).save(root / "final.png")
    return {"video": {"name": "progress.mp4", **{k: v for k, v in video.items() if k != "bytes"}},
            "poster": {"name": "poster.jpg", "width": poster["width"], "height": poster["height"]},
            "final": {"name": "final.png", "width": SIZE, "height": SIZE}}


def _job(store: Path, key: str, target: dict, *, status: str = "done") -> None:
    folder = store / "jobs" / key
    folder.mkdir(parents=True)
    files = {}
    if status == "done":
        for kind, info in _media(store.parent / "media").items():
            os.link(store.parent / "media" / info["name"], folder / info["name"])
            files[kind] = {**info, "bytes": (folder / info["name"]).stat().st_size}
    meta = {"schema": 1, "key": key, "status": status, "error": "loss became NaN" if status == "failed" else None,
            "target": target, "files": files, "metrics": {}, "recipe": {"size": SIZE}}
    (folder / "meta.json").write_text(json.dumps(meta))


def make_store(root: Path) -> Path:
    """hen (8) and tench (0) done, 607 pending, 13 failed; channel layer4.1:37 done; ladder: every post stage done,
    fourier pending."""
    store = root / "store"
    (store / "jobs").mkdir(parents=True)
    classes = {8: ("hen", "done"), 0: ("tench", "done"), 607: ("jack-o'-lantern", "pending"), 13: ("junco", "failed")}
    manifest = {"schema": 1, "title": "t", "model": {"name": "tiny"}, "recipe": {"size": SIZE}, "classes": [],
                "channels": [], "ladder": None}
    for i, (label, status) in classes.items():
        key = job_key(test=f"class-{i}")
        manifest["classes"].append({"index": i, "key": key})
        if status != "pending":
            _job(store, key, {"kind": "class", "index": i, "label": label}, status=status)
    key = job_key(test="channel")
    manifest["channels"].append({"layer": "layer4.1", "channel": 37, "key": key})
    _job(store, key, {"kind": "channel", "layer": "layer4.1", "channel": 37})
    stages = []
    for stage in [*POST, "fourier"]:
        key = job_key(test=f"ladder-{stage}")
        stages.append({"stage": stage, "note": "", "key": key})
        if stage != "fourier":
            _job(store, key, {"kind": "class", "index": 8, "label": "hen"})
    manifest["ladder"] = {"class": 8, "stages": stages, "post_dir": "blog", "post_videos": POST}
    (store / "manifest.json").write_text(json.dumps(manifest))
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("embed"))


class Parsed(html.parser.HTMLParser):
    """Tags with their attributes, and the figcaption's text, as a browser would read them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.caption = ""
        self._in_caption = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_caption += tag == "figcaption"

    def handle_endtag(self, tag):
        self._in_caption -= tag == "figcaption"

    def handle_data(self, data):
        if self._in_caption:
            self.caption += data

    def first(self, tag: str) -> dict:
        return next(a for t, a in self.tags if t == tag)


# ---------------------------------------------------------------- resolving and snippets


def test_resolve_class_and_channel_from_the_store(store):
    warnings = []
    hen = resolve_media("hen", store, json.loads((store / "manifest.json").read_text()), warn=warnings.append)
    assert (hen.id, hen.page, hen.caption, hen.status) == ("class-008", "classes/008.html", "hen (class 8)", "done")
    assert (hen.width, hen.height) == (SIZE, SIZE) and set(hen.sources) == {"video", "poster", "final"}
    ch = resolve_media("layer4.1:37", store, json.loads((store / "manifest.json").read_text()), warn=warnings.append)
    assert (ch.id, ch.page, ch.status) == ("channel-layer4.1-37", "channels/layer4.1-37.html", "done")
    assert ch.caption == "layer4.1:37 (channel 37 of layer4.1)"
    assert not warnings


def test_unrendered_or_unknown_targets_still_give_a_snippet_with_a_warning(store, tmp_path):
    manifest = json.loads((store / "manifest.json").read_text())
    warnings = []
    pending = resolve_media("607", store, manifest, warn=warnings.append)
    assert pending.status == "pending" and pending.width == SIZE and "not rendered yet" in warnings[-1]
    failed = resolve_media("junco", store, manifest, warn=warnings.append)
    assert failed.status == "failed" and "NaN" in warnings[-1]
    absent = resolve_media("goldfish", store, manifest, warn=warnings.append)
    assert absent.status == "absent" and "not in the atlas" in warnings[-1]
    nothing = resolve_media("hen", tmp_path / "no-store", None, warn=warnings.append)
    assert nothing.width == 224 and "no atlas" in warnings[-1]
    assert 'src="/media/class-001.mp4"' in html_snippet(absent)


def test_html_snippet_attributes_and_urls(store):
    hen = resolve_media("hen", store, json.loads((store / "manifest.json").read_text()))
    snip = html_snippet(hen, "https://me.github.io/feature-atlas/")
    p = Parsed(snip)
    video = p.first("video")
    assert video["src"] == "https://me.github.io/feature-atlas/media/class-008.mp4"
    assert video["poster"] == "https://me.github.io/feature-atlas/media/class-008.jpg"
    assert (video["width"], video["height"], video["preload"]) == (str(SIZE), str(SIZE), "none")
    assert {"muted", "loop", "playsinline", "controls"} <= set(video) and "autoplay" not in video
    assert p.first("a")["href"] == "https://me.github.io/feature-atlas/classes/008.html"
    assert p.caption.startswith("hen (class 8)")
    assert "autoplay" in Parsed(html_snippet(hen, autoplay=True)).first("video")
    root = Parsed(html_snippet(hen))  # default: root-relative
    assert root.first("video")["src"] == "/media/class-008.mp4" and root.first("a")["href"] == "/classes/008.html"
    split = Parsed(html_snippet(hen, "/atlas", "https://me.github.io/fa"))
    assert split.first("video")["src"] == "/atlas/media/class-008.mp4"
    assert split.first("a")["href"] == "https://me.github.io/fa/classes/008.html"


def test_labels_are_escaped_everywhere():
    label = 'O\'Reilly\'s "tiger" <b>shark</b> & co'
    m = Media("class", "class-003", label, f"{label} (class 3)", "classes/003.html", index=3)
    snip = html_snippet(m, "https://x.org/a?b=1&c=2")
    assert "<b>" not in snip and Parsed(snip).caption.startswith(f"{label} (class 3)")
    assert Parsed(snip).first("video")["src"] == "https://x.org/a?b=1&c=2/media/class-003.mp4"
    md = markdown_snippet(m)
    assert md.startswith("[![O'Reilly's \"tiger\" \\<b\\>shark\\</b\\> & co (class 3)](/media/class-003.jpg)]")
    z = zola_snippet(m)  # Zola strings have no escapes: a quote the text lacks is chosen
    assert z == "{{ atlas_video(class=3, caption=`" + f"{label} (class 3)" + "`) }}"
    h = hugo_snippet(m)
    assert h == "{{< atlas_video class=3 caption=`" + f"{label} (class 3)" + "` >}}"


def test_shortcode_calls(store):
    manifest = json.loads((store / "manifest.json").read_text())
    hen = resolve_media("hen", store, manifest)
    assert zola_snippet(hen) == '{{ atlas_video(class=8, caption="hen (class 8)", width=64, height=64) }}'
    assert hugo_snippet(hen, "https://me.github.io/fa") == (
        '{{< atlas_video class=8 caption="hen (class 8)" width=64 height=64 base="https://me.github.io/fa" >}}')
    ch = resolve_media("layer4.1:37", store, manifest)
    assert zola_snippet(ch, autoplay=True) == (
        '{{ atlas_video(path="media/channel-layer4.1-37.mp4", link="channels/layer4.1-37.html", '
        'caption="layer4.1:37 (channel 37 of layer4.1)", width=64, height=64, autoplay=true) }}')


# ---------------------------------------------------------------- CLI: embed, export


def test_cli_embed(store, capsys, monkeypatch):
    monkeypatch.delenv("ATLAS_BASE_URL", raising=False)
    assert main(["embed", "hen", "layer4.1:37", "--store", str(store), "--base-url", "https://me.github.io/fa"]) == 0
    out = capsys.readouterr().out
    assert out.count("<figure") == 2 and "https://me.github.io/fa/media/channel-layer4.1-37.mp4" in out
    monkeypatch.setenv("ATLAS_BASE_URL", "https://env.example/atlas")
    assert main(["embed", "8", "--store", str(store), "--format", "markdown"]) == 0
    assert "(https://env.example/atlas/media/class-008.jpg)" in capsys.readouterr().out
    assert main(["embed", "607", "--store", str(store), "--format", "zola"]) == 0
    captured = capsys.readouterr()
    assert "atlas_video(class=607" in captured.out and "not rendered yet" in captured.err
    assert main(["embed", "no-such-class", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("atlas: error: unknown class") and "\n" not in err


def test_cli_export_copies_media_with_site_paths(store, tmp_path, capsys):
    to = tmp_path / "blog" / "static" / "atlas"
    assert main(["export", "hen", "layer4.1:37", "--to", str(to), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    for name in ("class-008.mp4", "class-008.jpg", "class-008.png", "channel-layer4.1-37.mp4"):
        assert (to / "media" / name).stat().st_size > 0
    assert (to / "media" / "class-008.mp4").read_bytes() == (store.parent / "media" / "progress.mp4").read_bytes()
    video = Parsed(out).first("video")
    assert video["src"] == "/atlas/media/class-008.mp4" and "<a " not in out  # no atlas URL given: no link
    # shortcodes: "atlas" is their default base, so it is left out
    assert main(["export", "hen", "--to", str(to), "--store", str(store), "--format", "zola",
                 "--atlas-url", "https://me.github.io/fa"]) == 0
    assert capsys.readouterr().out.strip() == (
        '{{ atlas_video(class=8, caption="hen (class 8)", width=64, height=64, atlas="https://me.github.io/fa") }}')
    # the post's own videos into a blog's static/: /blog/app1.mp4 works there
    assert main(["export", "--post-videos", "--to", str(tmp_path / "blog" / "static"), "--store", str(store)]) == 0
    assert (tmp_path / "blog" / "static" / "blog" / "app6.mp4").is_file()
    assert "6 of 6" in capsys.readouterr().err
    assert main(["export", "607", "--to", str(to), "--store", str(store)]) == 2
    assert "pending" in capsys.readouterr().err
    assert main(["export", "hen", "--to", str(tmp_path / "elsewhere"), "--store", str(store)]) == 2
    assert "--url" in capsys.readouterr().err


# ---------------------------------------------------------------- the post's videos


def test_post_videos_copy_from_the_store(store, tmp_path):
    out = tmp_path / "site"
    rows = write_post_videos(store, out)
    assert [r["rel"]["video"] for r in rows] == [f"blog/app{i}.mp4" for i in range(1, 7)]
    for i in range(1, 7):
        assert (out / "blog" / f"app{i}.mp4").stat().st_size == rows[i - 1]["bytes"]["video"] > 0
        assert (out / "blog" / f"app{i}.jpg").stat().st_size > 0
    assert sorted(post_video_files(store)) == sorted([f"blog/app{i}.{e}" for i in range(1, 7) for e in ("mp4", "jpg")])
    assert write_post_videos(store, out) and (out / "blog" / "app1.mp4").is_file()  # idempotent


def test_post_videos_config_errors(store):
    stages = [*POST, "fourier"]
    check_post_videos("blog", POST, stages)
    for post_dir, videos, message in [
        ("blog", {"naive": "app1.mp4", "nope": "x.mp4"}, "stage 'nope'"),
        ("blog", {"naive": "../app1.mp4"}, "plain file name"),
        ("blog", {"naive": "app1.webm"}, "plain file name"),
        ("../up", {"naive": "app1.mp4"}, "relative folder"),
        ("blog", {"naive": "a.mp4", "sgd": "a.mp4"}, "share one file name"),
    ]:
        with pytest.raises(AtlasError, match=re.escape(message)):
            check_post_videos(post_dir, videos, stages)
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["ladder"]["stages"] = [s for s in manifest["ladder"]["stages"] if s["stage"] in ("naive", "sgd")]
    with pytest.raises(AtlasError, match="not in \\[ladder\\] stages"):
        post_video_plan(store, manifest)
    assert [r["stage"] for r in post_video_plan(store, manifest, strict=False)] == ["naive", "sgd"]


POST_CONFIG = """
title = "post videos"
classes = [1, 2]
[model]
name = "tiny"
[recipe]
steps = 6
size = 32
frames = 4
[video]
hold_s = 0.2
[ladder]
target = "hen"
stages = ["naive", "sgd", "full"]
post_dir = "posts/fv"
post_videos = { naive = "step1.mp4", sgd = "step2.mp4" }
"""


def test_make_post_videos_renders_only_the_post_stages(tmp_path, monkeypatch, capsys):
    """`atlas post-videos` (make post-videos) end to end on the tiny model: two stages, nothing else rendered."""
    import generator.build
    from tests.tiny import tiny_model

    monkeypatch.setattr(generator.build, "load_build_model", lambda config, name, device: tiny_model())
    (tmp_path / "atlas.toml").write_text(POST_CONFIG)
    args = ["post-videos", "--config", str(tmp_path / "atlas.toml"), "--store", str(tmp_path / "store"),
            "--out", str(tmp_path / "site"), "--device", "cpu"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "2 jobs to render" in err and "post videos in" in err and "2 of 2" in err
    for name in ("step1.mp4", "step1.jpg", "step2.mp4", "step2.jpg"):
        assert (tmp_path / "site" / "posts" / "fv" / name).stat().st_size > 0
    assert len(list((tmp_path / "store" / "jobs").iterdir())) == 2  # not the classes, not 'full'
    assert (tmp_path / "site" / "recipe.html").is_file()  # the site was built around them
    assert main(args) == 0 and "nothing to render" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text(POST_CONFIG.replace('sgd = "step2.mp4"', 'blur = "step2.mp4"'))
    assert main([*args[:2], str(tmp_path / "bad.toml"), *args[3:]]) == 2
    assert "stage 'blur'" in capsys.readouterr().err


# ---------------------------------------------------------------- the Zola shortcode (Tera), without Zola


# Tera's built-in filters, tests and functions (Tera 1.x docs), plus Zola's get_url: what the shortcode may use.
TERA_FILTERS = {"lower", "upper", "wordcount", "capitalize", "replace", "addslashes", "slugify", "title", "trim",
                "trim_start", "trim_end", "trim_start_matches", "trim_end_matches", "truncate", "linebreaksbr",
                "spaceless", "indent", "striptags", "first", "last", "nth", "join", "length", "reverse", "sort",
                "unique", "slice", "group_by", "filter", "map", "concat", "urlencode", "urlencode_strict", "abs",
                "pluralize", "round", "filesizeformat", "date", "escape", "escape_xml", "safe", "get", "split",
                "int", "float", "json_encode", "as_str", "default"}
TERA_TESTS = {"defined", "undefined", "odd", "even", "string", "number", "divisibleby", "iterable", "object",
              "starting_with", "ending_with", "containing", "matching"}
ZOLA_FUNCTIONS = {"get_url", "throw"}  # throw is Tera's; get_url is Zola's
ZOLA_PASSES = {"page", "section", "config", "nth", "lang", "colocated_path"}  # overwrite same-named arguments


def tera_env():
    """Jinja2 configured as the Tera subset the shortcode uses (same syntax for everything it uses)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

    def replace(s, **kw):
        return str(s).replace(kw["from"], kw["to"])

    env.filters.update(replace=replace, int=int,
                       trim_end_matches=lambda s, pat: str(s)[: -len(pat)] if str(s).endswith(pat) else str(s),
                       trim_start_matches=lambda s, pat: str(s)[len(pat):] if str(s).startswith(pat) else str(s))
    env.tests.update(starting_with=lambda s, p: str(s).startswith(p))
    return env


class ZolaThrow(Exception):
    pass


def render_zola(args: dict, extra: dict | None = None, base_url: str = "https://blog.example/sub") -> str:
    def get_url(path):  # Zola's get_url for a non-content path: base_url + "/" + path, with a trailing slash
        return f"{base_url}/{path.strip('/')}/" if path.strip("/") else f"{base_url}/"

    def throw(message):
        raise ZolaThrow(message)

    template = tera_env().from_string(ZOLA_SHORTCODE.read_text())
    context = {"config": {"base_url": base_url, "extra": extra or {}}, "page": {"title": "a post"}, "nth": 1,
               "lang": "en", "get_url": get_url, "throw": throw, **args}
    return template.render(context)


def test_zola_shortcode_reads_only_its_documented_arguments_and_tera_builtins():
    import jinja2
    from jinja2 import nodes

    text = ZOLA_SHORTCODE.read_text()
    ast = jinja2.Environment().parse(text)
    names = list(ast.find_all(nodes.Name))
    local = {n.name for n in names if n.ctx == "store"}  # {% set %} in the template itself
    free = {n.name for n in names if n.ctx == "load"} - local
    assert free == set(SHORTCODE_ARGS) | {"config"} | ZOLA_FUNCTIONS, free
    assert not local & (set(SHORTCODE_ARGS) | ZOLA_PASSES), local  # never overwrites an argument or Zola's own
    assert not set(SHORTCODE_ARGS) & ZOLA_PASSES  # no argument Zola would overwrite
    assert {f.name for f in ast.find_all(nodes.Filter)} <= TERA_FILTERS
    assert {t.name for t in ast.find_all(nodes.Test)} <= TERA_TESTS
    assert {c.node.name for c in ast.find_all(nodes.Call) if isinstance(c.node, nodes.Name)} <= ZOLA_FUNCTIONS
    # every argument is read only behind `is defined` (Tera errors on undefined variables)
    for arg in SHORTCODE_ARGS:
        assert re.search(rf"\b{arg} is defined\b", text), arg
    # every read of config is config.extra.<key> behind `is defined`
    for key in re.findall(r"config\.extra\.(\w+)", text):
        assert f"config.extra.{key} is defined" in text
    # Tera string literals have no escapes ("a\\"b" ends at the backslash's quote): no backslash in any tag
    for tag in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S):
        assert "\\" not in tag, tag
    # Jinja-only syntax that Tera would reject: none
    assert "{% macro" not in text and "loop." not in text and "|default(" not in text.replace(" ", "")
    docs = (REPO / "docs" / "embedding.md").read_text()
    for arg in SHORTCODE_ARGS:  # documented in the template's header and in the README section
        assert re.search(rf"^\s+.*\b{arg}\b", text.split("-#}")[0], re.M) and f"`{arg}`" in docs, arg


@pytest.mark.parametrize("index, padded", [(0, "000"), (8, "008"), (42, "042"), (999, "999")])
def test_zola_shortcode_zero_pads_like_the_site(index, padded):
    p = Parsed(render_zola({"class": index}))
    assert p.first("video")["src"] == f"https://blog.example/sub/atlas/media/class-{padded}.mp4"
    assert p.first("video")["poster"] == f"https://blog.example/sub/atlas/media/class-{padded}.jpg"
    assert p.caption == f"ImageNet class {index}"


def test_zola_shortcode_arguments_and_config():
    p = Parsed(render_zola({"class": 8, "caption": "hen's \"egg\" & <b>", "width": 320, "autoplay": True,
                            "base": "https://me.github.io/fa/", "atlas": "https://me.github.io/fa"}))
    video = p.first("video")
    assert video["src"] == "https://me.github.io/fa/media/class-008.mp4"
    assert (video["width"], video["height"]) == ("320", "320") and "autoplay" in video
    assert p.caption == "hen's \"egg\" & <b> · Feature Atlas page"
    assert p.first("a")["href"] == "https://me.github.io/fa/classes/008.html"
    p = Parsed(render_zola({"path": "/blog/app1.mp4", "caption": "naive"}, extra={"atlas_base": "/"}))
    assert p.first("video")["src"] == "/blog/app1.mp4" and p.first("video")["poster"] == "/blog/app1.jpg"
    assert "autoplay" not in p.first("video") and not [t for t, _ in p.tags if t == "a"]
    p = Parsed(render_zola({"path": "media/channel-layer4.1-37.mp4", "link": "channels/layer4.1-37.html"},
                           extra={"atlas_base": "vids", "atlas_url": "https://me.github.io/fa/"}))
    assert p.first("video")["src"] == "https://blog.example/sub/vids/media/channel-layer4.1-37.mp4"
    assert p.first("a")["href"] == "https://me.github.io/fa/channels/layer4.1-37.html"
    with pytest.raises(ZolaThrow, match="class=N"):
        render_zola({})


def test_embed_zola_output_renders_through_the_shortcode(store):
    """What `atlas embed --format zola` prints, parsed as Zola would, gives the same media as the HTML snippet."""
    hen = resolve_media("hen", store, json.loads((store / "manifest.json").read_text()))
    call = zola_snippet(hen, "https://me.github.io/fa", "https://me.github.io/fa")
    m = re.fullmatch(r"\{\{ atlas_video\((.*)\) \}\}", call)
    args = {k: json.loads(v) if v[0] != "`" else v[1:-1] for k, v in re.findall(r"(\w+)=(\"[^\"]*\"|`[^`]*`|\w+)", m[1])}
    zola, ours = Parsed(render_zola(args)), Parsed(html_snippet(hen, "https://me.github.io/fa"))
    for attr in ("src", "poster", "width", "height"):
        assert zola.first("video")[attr] == ours.first("video")[attr]
    assert zola.first("a")["href"] == ours.first("a")["href"] and zola.caption == ours.caption


# ---------------------------------------------------------------- the Hugo shortcode, built by Debian's hugo


def test_hugo_shortcode_in_a_tiny_site(tmp_path):
    hugo = shutil.which("hugo")
    if hugo is None:
        pytest.skip("hugo is not installed (apt-get install hugo): the Hugo shortcode is not built")
    site = tmp_path / "hugo"
    (site / "layouts" / "shortcodes").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "content").mkdir()
    shutil.copy(HUGO_SHORTCODE, site / "layouts" / "shortcodes" / "atlas_video.html")
    (site / "config.toml").write_text('baseURL = "https://blog.example/sub/"\ntitle = "t"\n'
                                      'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n'
                                      '[params]\natlas_url = "https://me.github.io/fa"\n')
    (site / "layouts" / "_default" / "single.html").write_text("<main>{{ .Content }}</main>\n")
    (site / "layouts" / "_default" / "list.html").write_text("<main>{{ .Content }}</main>\n")
    (site / "layouts" / "index.html").write_text("<main>home</main>\n")
    (site / "content" / "post.md").write_text(
        '---\ntitle: "post"\n---\nThe naive stage:\n\n'
        '{{< atlas_video path="blog/app1.mp4" base="/" caption="naive: random image, Adam" >}}\n\n'
        '{{< atlas_video class=8 caption="hen (class 8)" >}}\n\n'
        '{{< atlas_video class=0 width=320 autoplay=true base="https://cdn.example/atlas/" >}}\n')
    env = {**os.environ, "HUGO_CACHEDIR": str(tmp_path / "cache")}
    run = subprocess.run([hugo, "--quiet", "-s", str(site), "-d", str(site / "public")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    page = (site / "public" / "post" / "index.html").read_text()
    videos = [a for t, a in Parsed(page).tags if t == "video"]
    assert [(v["src"], v["poster"]) for v in videos] == [
        ("/blog/app1.mp4", "/blog/app1.jpg"),
        ("/sub/atlas/media/class-008.mp4", "/sub/atlas/media/class-008.jpg"),  # relURL: the blog's sub-path
        ("https://cdn.example/atlas/media/class-000.mp4", "https://cdn.example/atlas/media/class-000.jpg"),
    ]
    assert [(v["width"], v["height"]) for v in videos] == [("224", "224"), ("224", "224"), ("320", "320")]
    assert ["autoplay" in v for v in videos] == [False, False, True]
    assert all({"muted", "loop", "playsinline", "controls"} <= set(v) and v["preload"] == "none" for v in videos)
    links = [a["href"] for t, a in Parsed(page).tags if t == "a"]
    assert links == ["https://me.github.io/fa/classes/008.html", "https://me.github.io/fa/classes/000.html"]
    assert "hen (class 8)" in page and "ImageNet class 0" in page
    # no class and no path: a clear build error naming the shortcode
    (site / "content" / "bad.md").write_text('---\ntitle: "bad"\n---\n{{< atlas_video caption="x" >}}\n')
    run = subprocess.run([hugo, "-s", str(site), "-d", str(site / "public")], capture_output=True,
                         text=True, timeout=120, env=env)  # not --quiet: that hides errorf's message
    assert run.returncode != 0 and "atlas_video: pass class=N" in run.stdout + run.stderr


# ---------------------------------------------------------------- the HTML snippet in headless Chromium


CHROMIUM = Path(os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.browser
def test_html_snippet_plays_in_chromium(store, tmp_path, capsys):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (the Python package) is not installed: pip install playwright")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ATLAS_CHROMIUM)")
    # a blog whose static/atlas holds the export, the snippet pasted into a post
    root = tmp_path / "blog"
    assert main(["export", "hen", "--to", str(root / "atlas"), "--url", "/atlas", "--store", str(store),
                 "--autoplay"]) == 0
    snip = capsys.readouterr().out
    (root / "post.html").write_text(f"<!doctype html><meta charset=utf-8><title>post</title><body>{snip}</body>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            failed = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/post.html")
            page.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=15000)
            state = page.evaluate("""async () => {
                const v = document.querySelector('video');
                const img = new Image(); img.src = v.poster; await img.decode();
                return {w: v.videoWidth, h: v.videoHeight, muted: v.muted, loop: v.loop, paused: v.paused,
                        error: v.error && v.error.code, poster: img.naturalWidth,
                        caption: document.querySelector('figcaption').textContent};
            }""")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not failed
    assert state == {"w": SIZE, "h": SIZE, "muted": True, "loop": True, "paused": False, "error": None,
                     "poster": SIZE, "caption": "hen (class 8)"}
