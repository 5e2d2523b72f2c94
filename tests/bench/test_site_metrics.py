"""`atlas measure-site`: the link check and sizes on a tiny hand-made site, then one run of the whole tool,
Chromium included, on the synthetic 1000-class site (fields and plausible values; no timing thresholds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.bench.site_metrics.files import measure_sizes, page_kind
from generator.bench.site_metrics.links import check_links, resolve, site_files
from generator.bench.site_metrics.measure import MeasureOptions, measure_site
from generator.cli import main
from tests.synthetic_store import built_site

CHROMIUM = Path("/usr/bin/chromium")

TINY = {
    "index.html": """<!doctype html><link rel="stylesheet" href="static/a.css"><script src="search.js"></script>
        <a href="classes/001.html#top">one</a> <a href="classes/">all</a> <a href="#gallery">jump</a>
        <a href="https://example.org/x.html">out</a> <a href="mailto:me@example.org">mail</a>
        <img src="media/a-thumb.jpg" srcset="media/a-thumb.jpg 1x, media/a.png 2x" alt="">""",
    "classes/index.html": '<a href="../index.html?q=dog">home</a> <a href="001.html">one</a>',
    "classes/001.html": """<video src="../media/a.mp4" poster="../media/a.jpg"><source src="../media/a.mp4"></video>
        <a href="./../classes/./index.html">up and back</a> <img src="../media/missing.jpg" alt="">""",
    "static/a.css": "body {}",
    "search.js": "window.ATLAS_INDEX = {};",
    "media/a-thumb.jpg": "j", "media/a.png": "p", "media/a.mp4": "m" * 40_000, "media/a.jpg": "j",
}


@pytest.fixture
def tiny_site(tmp_path) -> Path:
    for rel, text in TINY.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_link_check_finds_the_one_broken_link_and_resolves_relative_paths(tiny_site):
    links = check_links(tiny_site)
    assert links.pages == 3
    # index: css, js, 2 page links, img src + 2 srcset; classes/index: 2; 001: video src + poster, source, a, img
    assert links.checked == 7 + 2 + 5
    assert links.skipped == 3  # https, mailto, #gallery
    assert [(b.page, b.tag, b.url, b.resolved) for b in links.broken] == \
        [("classes/001.html", "img", "../media/missing.jpg", "media/missing.jpg")]


@pytest.mark.parametrize("page, url, expect", [
    ("classes/001.html", "../media/a.jpg", "media/a.jpg"),
    ("classes/001.html", "002.html#x", "classes/002.html"),
    ("index.html", "classes/", "classes/index.html"),
    ("index.html", "./", "index.html"),
    ("index.html", "media/a%20b.jpg?v=1", "media/a b.jpg"),
    ("index.html", "../outside.html", None),  # leaves the site
    ("classes/001.html", "/media/a.jpg", None),  # root-absolute: outside a sub-path
])
def test_resolve(page, url, expect):
    assert resolve(page, url) == expect


def test_sizes_by_kind(tiny_site):
    (tiny_site / "recipe.html").write_text("r" * 31_000)
    sizes = measure_sizes(tiny_site, site_files(tiny_site))
    assert sizes.files == len(TINY) + 1 and sizes.total_bytes == sum(map(len, TINY.values())) + 31_000
    assert sizes.by_folder["media"] == 40_003 and next(iter(sizes.by_folder)) == "media"  # largest first
    assert {k: p.path for k, p in sizes.largest_page_by_kind.items()} == \
        {"home": "index.html", "classes": "classes/001.html", "recipe": "recipe.html"}
    assert sizes.search_index_bytes == len(TINY["search.js"]) and sizes.home_html_gzip_bytes > 0
    assert [p.path for p in sizes.pages_over(30_000)] == ["recipe.html"]
    assert page_kind("layers/index.html") == "layers" and page_kind("about.html") == "about"


def test_without_the_browser_the_browser_targets_are_not_measured(tiny_site):
    report = measure_site(tiny_site, MeasureOptions(browser=None))
    met = {t["name"].split(" (")[0]: t["met"] for t in report["targets"]}
    assert met == {"home page's initial transfer": None, "search answers": None,
                   "largest page except the home page": True, "whole site": True}
    assert report["links"]["broken_count"] == 1 and report["browser"] is None


@pytest.mark.browser
def test_measure_site_end_to_end_on_the_synthetic_atlas(tmp_path):
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    site = built_site()[1]
    out, md = tmp_path / "site.json", tmp_path / "site.md"
    assert main(["measure-site", str(site), "--out", str(out), "--md", str(md), "--runs", "1",
                 "--chromium", str(CHROMIUM)]) == 0
    report = json.loads(out.read_text())
    files, links, browser = report["files"], report["links"], report["browser"]

    assert files["pages"] == sum(1 for _ in site.rglob("*.html")) and files["total_bytes"] >= files["disk_bytes"] > 1_000_000
    assert set(files["largest_page_by_kind"]) >= {"home", "classes", "channels", "layers", "recipe", "about"}
    assert files["home_html_bytes"] == (site / "index.html").stat().st_size
    assert 0 < files["search_index_gzip_bytes"] < files["search_index_bytes"]
    assert links["pages"] == files["pages"] and links["checked"] > 20_000 and links["broken"] == []

    home, scroll = browser["home"]["initial"], browser["home"]["scroll"]
    assert home["load_ms"] > 0 and home["images"] > 990  # one thumbnail per rendered class, and the ladder's
    assert 0 < home["images_loaded"] < home["images"] / 4  # lazy: only what is near the first screen
    assert files["home_html_bytes"] < home["bytes"] < scroll["bytes"]
    assert scroll["images_loaded"] == scroll["images"] and not scroll["timed_out"] and scroll["ms"] > 0
    assert scroll["broken_images"] == [] and browser["home"]["failed_requests"] == []
    search = {s["query"]: s for s in browser["search"]}
    assert set(search) == {"dog", "n0151"} and not any(s["timed_out"] for s in search.values())
    assert 0 < search["dog"]["matches"] < 1000 and search["n0151"]["matches"] >= 1
    assert [k["value"] for k in search["n0151"]["keystrokes"]] == ["n", "n0", "n01", "n015", "n0151"]
    assert all(s["frame_ms"] >= s["dom_ms"] >= 0 for s in search.values())
    assert browser["class_page"]["load_ms"] > 0 and browser["class_page"]["bytes"] > 0

    targets = {t["name"]: t for t in report["targets"]}
    assert len(targets) == 4 and all(t["met"] in (True, False) and t["value"] is not None for t in targets.values())
    text = md.read_text()
    assert text.startswith("## `site/` measured") and "n0151" in text and "0 broken" in text
