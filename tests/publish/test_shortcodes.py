"""The blog shortcodes: Zola's (Tera, rendered here by Jinja2 configured as Tera) and Hugo's (built by a real
hugo), each checked against publish/layout.py, the one contract for URLs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.pipeline.store import Store
from generator.publish import layout
from generator.publish.embed import SHORTCODE_ARGS, html_snippet, resolve_media, zola_snippet
from tests.publish.blog_fixtures import Parsed, make_store

REPO = Path(__file__).resolve().parents[2]
ZOLA_SHORTCODE = REPO / "templates" / "shortcodes" / "atlas_video.html"
HUGO_SHORTCODE = REPO / "templates" / "shortcodes" / "hugo" / "atlas_video.html"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("shortcodes"))


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

    env.filters.update(replace=replace, int=int, split=lambda s, pat: str(s).split(pat),
                       trim_end_matches=lambda s, pat: str(s)[: -len(pat)] if str(s).endswith(pat) else str(s),
                       trim_start_matches=lambda s, pat: str(s)[len(pat):] if str(s).startswith(pat) else str(s))
    env.tests.update(starting_with=lambda s, p: str(s).startswith(p),
                     matching=lambda s, pattern: re.search(pattern, str(s)) is not None)  # Rust's is_match: unanchored
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


@pytest.mark.parametrize("index", [0, 8, 42, 134, 517, 999])
def test_zola_shortcode_urls_are_the_layouts(index):
    base, atlas = "https://me.github.io/fa", "https://me.github.io/atlas"
    p = Parsed(render_zola({"class": index, "base": base, "atlas": atlas}))
    media_id = layout.class_media_id(index)
    assert p.first("video")["src"] == f"{base}/{layout.media_path(media_id, 'video')}"
    assert p.first("video")["poster"] == f"{base}/{layout.media_path(media_id, 'poster')}"
    assert p.first("a")["href"] == f"{atlas}/{layout.class_page(index)}"
    video = layout.media_path(layout.channel_media_id("layer4.1", 37), "video")
    p = Parsed(render_zola({"path": video, "base": base}))
    assert p.first("video")["poster"] == f"{base}/{layout.poster_of(video)}"


@pytest.mark.parametrize("layer, channel", [("layer4.1", 37), ("_avg_pooling", 12), ("_blocks.15", 0),
                                            ("features.4.1", 1279)])
def test_zola_shortcode_channel_urls_are_the_layouts(layer, channel):
    base, atlas = "https://me.github.io/fa", "https://me.github.io/atlas"
    p = Parsed(render_zola({"channel": f"{layer}:{channel}", "base": base, "atlas": atlas}))
    media_id = layout.channel_media_id(layer, channel)
    assert p.first("video")["src"] == f"{base}/{layout.media_path(media_id, 'video')}"
    assert p.first("video")["poster"] == f"{base}/{layout.media_path(media_id, 'poster')}"
    assert p.first("a")["href"] == f"{atlas}/{layout.channel_page(layer, channel)}"
    assert p.caption == f"Channel {channel} of {layer} · Feature Atlas page"


@pytest.mark.parametrize("channel", ["layer4.1", "layer4.1:x", ":3", "a/b:3", ".hidden:3", "layer4.:3"])
def test_zola_shortcode_refuses_a_channel_it_cannot_name(channel):
    """Tera has no regex replace: a layer whose slug would differ from its name is refused, never misnamed."""
    with pytest.raises(ZolaThrow, match="channel= takes LAYER:N"):
        render_zola({"channel": channel})


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
    s = Store(store)
    hen = resolve_media("hen", s, s.read_manifest())
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
        '{{< atlas_video class=0 width=320 autoplay=true base="https://cdn.example/atlas/" >}}\n\n'
        '{{< atlas_video channel="layer4.1:37" >}}\n\n'
        '{{< atlas_video channel="_avg_pooling:012" base="https://cdn.example/atlas/" >}}\n\n'
        '{{< atlas_video channel="a/b c.:3" caption="odd" >}}\n')
    env = {**os.environ, "HUGO_CACHEDIR": str(tmp_path / "cache")}
    run = subprocess.run([hugo, "--quiet", "-s", str(site), "-d", str(site / "public")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    page = (site / "public" / "post" / "index.html").read_text()
    videos = [a for t, a in Parsed(page).tags if t == "video"]
    channels = [("layer4.1", 37, "/sub/atlas"), ("_avg_pooling", 12, "https://cdn.example/atlas"), ("a/b c.", 3, "/sub/atlas")]
    for video, (layer, channel, base) in zip(videos[3:], channels):  # the layout's names, slug included
        media_id = layout.channel_media_id(layer, channel)
        assert (video["src"], video["poster"]) == (f"{base}/{layout.media_path(media_id, 'video')}",
                                                   f"{base}/{layout.media_path(media_id, 'poster')}")
    links = [a["href"] for t, a in Parsed(page).tags if t == "a"]
    assert links[2:] == [f"https://me.github.io/fa/{layout.channel_page(layer, c)}" for layer, c, _ in channels]
    assert "Channel 37 of layer4.1" in page and "Channel 12 of _avg_pooling" in page
    videos = videos[:3]
    assert [(v["src"], v["poster"]) for v in videos] == [
        ("/blog/app1.mp4", "/blog/app1.jpg"),
        ("/sub/atlas/media/class-008.mp4", "/sub/atlas/media/class-008.jpg"),  # relURL: the blog's sub-path
        ("https://cdn.example/atlas/media/class-000.mp4", "https://cdn.example/atlas/media/class-000.jpg"),
    ]
    for video, base, index in zip(videos[1:], ("/sub/atlas", "https://cdn.example/atlas"), (8, 0)):  # the layout's
        assert video["src"] == f"{base}/{layout.media_path(layout.class_media_id(index), 'video')}"
        assert video["poster"] == f"{base}/{layout.media_path(layout.class_media_id(index), 'poster')}"
    assert videos[0]["poster"] == "/" + layout.poster_of("blog/app1.mp4")
    assert [(v["width"], v["height"]) for v in videos] == [("224", "224"), ("224", "224"), ("320", "320")]
    assert ["autoplay" in v for v in videos] == [False, False, True]
    assert all({"muted", "loop", "playsinline", "controls"} <= set(v) and v["preload"] == "none" for v in videos)
    links = links[:2]
    assert links == ["https://me.github.io/fa/classes/008.html", "https://me.github.io/fa/classes/000.html"]
    assert links == [f"https://me.github.io/fa/{layout.class_page(i)}" for i in (8, 0)]
    assert "hen (class 8)" in page and "ImageNet class 0" in page
    # no class and no path: a clear build error naming the shortcode
    (site / "content" / "bad.md").write_text('---\ntitle: "bad"\n---\n{{< atlas_video caption="x" >}}\n')
    run = subprocess.run([hugo, "-s", str(site), "-d", str(site / "public")], capture_output=True,
                         text=True, timeout=120, env=env)  # not --quiet: that hides errorf's message
    assert run.returncode != 0 and "atlas_video: pass class=N" in run.stdout + run.stderr
