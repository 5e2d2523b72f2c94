"""Blog embedding: resolving targets in the store, the snippets, `atlas embed`/`atlas export`, and the snippet
playing in Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import socketserver
import threading
from pathlib import Path

import pytest

from generator.cli import main
from generator.pipeline.store import Store
from generator.publish.embed import Media, html_snippet, hugo_snippet, markdown_snippet, resolve_media, zola_snippet
from tests.publish.blog_fixtures import SIZE, Parsed, make_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("embed"))


def resolve(text, store, warn=None):
    s = Store(store)
    return resolve_media(text, s, s.read_manifest(), warn=warn)


# ---------------------------------------------------------------- resolving and snippets


def test_resolve_class_and_channel_from_the_store(store):
    warnings = []
    hen = resolve("hen", store, warn=warnings.append)
    assert (hen.id, hen.page, hen.caption, hen.status) == ("class-008", "classes/008.html", "hen (class 8)", "done")
    assert (hen.width, hen.height) == (SIZE, SIZE) and set(hen.sources) == {"video", "poster", "final"}
    ch = resolve("layer4.1:37", store, warn=warnings.append)
    assert (ch.id, ch.page, ch.status) == ("channel-layer4.1-37", "channels/layer4.1-37.html", "done")
    assert ch.caption == "layer4.1:37 (channel 37 of layer4.1)"
    pooled = resolve("_avg_pooling:12", store, warn=warnings.append)  # a pooled channel: one a class is made of
    assert (pooled.id, pooled.page, pooled.status) == ("channel-_avg_pooling-12", "channels/_avg_pooling-12.html",
                                                       "done")
    assert not warnings


def test_unrendered_or_unknown_targets_still_give_a_snippet_with_a_warning(store, tmp_path):
    warnings = []
    pending = resolve("607", store, warn=warnings.append)
    assert pending.status == "pending" and pending.width == SIZE and "not rendered yet" in warnings[-1]
    failed = resolve("junco", store, warn=warnings.append)
    assert failed.status == "failed" and "NaN" in warnings[-1]
    absent = resolve("goldfish", store, warn=warnings.append)
    assert absent.status == "absent" and "not in the atlas" in warnings[-1]
    nothing = resolve_media("hen", Store(tmp_path / "no-store"), None, warn=warnings.append)
    assert nothing.width == 224 and "no atlas" in warnings[-1]
    assert 'src="/media/class-001.mp4"' in html_snippet(absent)


def test_html_snippet_attributes_and_urls(store):
    hen = resolve("hen", store)
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
    hen = resolve("hen", store)
    assert zola_snippet(hen) == '{{ atlas_video(class=8, caption="hen (class 8)", width=64, height=64) }}'
    assert hugo_snippet(hen, "https://me.github.io/fa") == (
        '{{< atlas_video class=8 caption="hen (class 8)" width=64 height=64 base="https://me.github.io/fa" >}}')
    ch = resolve("layer4.1:37", store)
    assert zola_snippet(ch, autoplay=True) == (
        '{{ atlas_video(channel="layer4.1:37", caption="layer4.1:37 (channel 37 of layer4.1)", width=64, height=64, '
        'autoplay=true) }}')
    assert hugo_snippet(resolve("_avg_pooling:12", store)) == (
        '{{< atlas_video channel="_avg_pooling:12" caption="_avg_pooling:12 (channel 12 of _avg_pooling)" '
        'width=64 height=64 >}}')


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
