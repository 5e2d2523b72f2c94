"""The built site in a real browser: headless Debian Chromium driven by Playwright (never a downloaded browser).

The site is served from a local http.server under a project sub-path (/feature-atlas/, as on GitHub Pages)
and also opened from the folder (file://). Screenshots go to $ATLAS_SCREENSHOTS (default: a temp folder);
the paths are printed.
"""

from __future__ import annotations

import functools
import http.server
import os
import socketserver
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.synthetic_store import built_site

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PREFIX = "/feature-atlas/"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None:
    pytest.skip("playwright (the Python package) is not installed: pip install playwright", allow_module_level=True)
if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ATLAS_CHROMIUM)",
                allow_module_level=True)


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site only under PREFIX, like a GitHub Pages project site; anything else is a 404."""

    log: list = []

    def translate_path(self, path):
        p = unquote(urlsplit(path).path)
        if not p.startswith(PREFIX):
            return str(Path(self.directory) / "__outside_the_project_path__")
        return super().translate_path("/" + p[len(PREFIX):])

    def log_message(self, fmt, *args):
        self.log.append((self.path, args[1] if len(args) > 1 else ""))


@pytest.fixture(scope="module")
def site_dir():
    return built_site()[1]


@pytest.fixture(scope="module")
def base(site_dir):
    SubPathHandler.log = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(SubPathHandler,
                                                                                  directory=str(site_dir)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("ATLAS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page, shots: Path, name: str, **kw) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), **kw)
    print(f"\nscreenshot: {path}")
    return path


@pytest.fixture
def watch():
    """Collects page errors and every request, to assert none failed and none left the site."""
    seen = {"errors": [], "requests": [], "failed": []}

    def attach(page):
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
        page.on("request", lambda r: seen["requests"].append(r.url))
        # ERR_ABORTED: a load cut short by navigating on, not a broken link
        page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                and seen["failed"].append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"{r.url} {r.status}"))
        return page

    seen["attach"] = attach
    return seen


def visible_cards(page) -> list[int]:
    return page.evaluate(
        "() => [...document.querySelectorAll('#grid > .card')].filter(e => !e.hidden)"
        ".sort((a, b) => (+a.style.order || 0) - (+b.style.order || 0)).map(e => +e.dataset.i)")


def test_home_search_filters_the_grid_then_a_class_page_plays(browser, base, shots, watch):
    page = watch["attach"](browser.new_page(viewport={"width": 1280, "height": 900}))
    page.goto(base)  # the directory URL, as GitHub Pages serves it
    assert page.title().endswith("Feature Atlas")
    assert len(visible_cards(page)) == 1000
    shoot(page, shots, "01-home")

    search = page.locator("#q")
    search.click()
    search.press_sequentially("crane", delay=15)
    page.wait_for_function("document.querySelectorAll('#grid > .card:not([hidden])').length === 2")
    assert sorted(visible_cards(page)) == [134, 517]
    assert "2 of 1000" in page.locator("#count").inner_text()
    shoot(page, shots, "02-search-crane")

    for query, expect in (("n01514859", [8]), ("8", [8]), ("#517", [517])):
        search.fill(query)
        page.wait_for_timeout(50)
        assert visible_cards(page) == expect, query
    search.fill("hen")
    page.wait_for_timeout(50)
    assert visible_cards(page)[0] == 8  # the exact label first, then partial matches ("chicken", ...)
    search.fill("zzzz no such class")
    page.wait_for_timeout(50)
    assert visible_cards(page) == [] and page.locator("#empty").is_visible()
    search.fill("")
    page.wait_for_timeout(50)
    assert len(visible_cards(page)) == 1000

    # browse the WordNet hierarchy: animal > ... > bird, by chips and breadcrumbs
    page.locator("#chips a", has_text="animal").first.click()
    page.wait_for_function("location.hash.startsWith('#in=animal')")
    animals = len(visible_cards(page))
    assert 300 < animals < 1000
    page.locator("#chips a", has_text="vertebrate").first.click()
    page.locator("#chips a", has_text="bird").first.click()
    page.wait_for_function("document.querySelector('#crumbs [aria-current]').textContent === 'bird'")
    birds = visible_cards(page)
    assert 8 in birds and 134 in birds and 517 not in birds and len(birds) < animals
    shoot(page, shots, "03-browse-bird")

    # keyboard: "/" focuses the search, Enter opens the best match
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    search.fill("goldfinch")
    page.keyboard.press("Enter")
    page.wait_for_url("**/feature-atlas/classes/011.html")
    page.go_back()

    # open a class page from the grid
    search.fill("crane")
    page.wait_for_timeout(50)
    page.locator('#grid > .card[data-i="134"]').click()
    page.wait_for_url("**/feature-atlas/classes/134.html")
    assert page.locator("h1").inner_text() == "crane bird"
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
    video = page.evaluate("""() => { const v = document.querySelector('video');
        return {ready: v.readyState, src: v.currentSrc, poster: v.poster, paused: v.paused,
                muted: v.muted, loop: v.loop, preload: v.preload}; }""")
    assert video["src"].endswith("/feature-atlas/media/class-134.mp4") and video["ready"] >= 1
    assert video["muted"] and video["loop"] and video["preload"] == "none"
    assert poster_width(page) == 224
    assert page.evaluate("() => { const i = document.querySelector('img.final'); return i.complete && i.naturalWidth; }")
    shoot(page, shots, "04-class-crane-bird", full_page=True)

    # keyboard: the right arrow goes to the next class
    page.locator("body").press("ArrowRight")
    page.wait_for_url("**/feature-atlas/classes/135.html")

    assert not watch["errors"], watch["errors"]
    assert not watch["failed"], watch["failed"]
    assert all(u.startswith(base) for u in watch["requests"]), [u for u in watch["requests"] if not u.startswith(base)]


def poster_width(page) -> int:
    return page.evaluate("""() => new Promise(done => { const i = new Image();
        i.onload = () => done(i.naturalWidth); i.onerror = () => done(0);
        i.src = document.querySelector('video').poster; })""")


def test_poster_shows_and_nothing_loads_until_asked(browser, base, shots, watch):
    """With reduced motion nothing autoplays: the poster is what shows, the MP4 is not fetched until hover."""
    context = browser.new_context(viewport={"width": 1000, "height": 800}, reduced_motion="reduce")
    page = watch["attach"](context.new_page())
    page.goto(base + "classes/008.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # keyboard users can skip the header
    page.wait_for_timeout(400)
    assert page.evaluate("document.querySelector('video').readyState") == 0
    assert not [u for u in watch["requests"] if u.endswith(".mp4")]
    assert poster_width(page) == 224
    shoot(page, shots, "05-class-hen-poster")
    page.locator("video").hover()
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
    assert [u for u in watch["requests"] if u.endswith("/media/class-008.mp4")]
    # pending and failed classes: placeholders, no broken media
    for i in ("007", "013"):
        page.goto(base + f"classes/{i}.html")
        assert page.locator("video").count() == 0
        assert page.locator(".ph").first.is_visible()
        broken = page.evaluate("() => [...document.images].filter(i => i.complete && !i.naturalWidth).length")
        assert broken == 0
    shoot(page, shots, "06-class-failed")
    context.close()
    assert not watch["errors"] and not watch["failed"], (watch["errors"], watch["failed"])


def test_recipe_page_plays_a_few_videos_at_most(browser, base, shots, watch):
    page = watch["attach"](browser.new_page(viewport={"width": 1400, "height": 2200}))
    page.goto(base + "recipe.html")
    page.locator("#ladder").scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('video')].filter(v => !v.paused).length >= 1")
    page.wait_for_timeout(600)
    playing = page.evaluate("[...document.querySelectorAll('video')].filter(v => !v.paused).length")
    assert 1 <= playing <= 3
    page.locator("#playall").click()
    page.wait_for_function("[...document.querySelectorAll('video')].filter(v => !v.paused).length === 7")
    shoot(page, shots, "07-recipe-ladder")
    assert not watch["errors"] and not watch["failed"], (watch["errors"], watch["failed"])


def test_phone_dark_mode_no_horizontal_scroll(browser, base, shots, watch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = watch["attach"](context.new_page())
    for path, name in (("index.html?q=dog", "08-phone-dark-search"), ("classes/264.html", "09-phone-dark-class"),
                       ("recipe.html", None), ("channels/_conv_head-37.html", None)):
        page.goto(base + path)
        page.wait_for_timeout(200)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (path, width)
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        rgb = [int(x) for x in bg[bg.index("(") + 1:bg.index(")")].split(",")[:3]]
        assert sum(rgb) < 120, bg  # dark
        if name:
            shoot(page, shots, name)
    # the header search on other pages lands in the gallery, filtered
    page.goto(base + "classes/264.html")
    page.locator(".qform input").fill("corgi")
    page.locator(".qform input").press("Enter")
    page.wait_for_url("**/feature-atlas/index.html*")
    page.wait_for_function("document.querySelectorAll('#grid > .card:not([hidden])').length === 2")
    assert sorted(visible_cards(page)) == [263, 264]
    context.close()
    assert not watch["errors"] and not watch["failed"], (watch["errors"], watch["failed"])


def test_works_opened_from_the_folder(browser, site_dir, shots, watch):
    """file://: no server at all. Styles, search, a class page, its poster and video all still work."""
    page = watch["attach"](browser.new_page(viewport={"width": 1280, "height": 900}))
    page.goto((site_dir / "index.html").as_uri())
    assert page.evaluate("getComputedStyle(document.querySelector('.grid')).display") == "grid"
    page.locator("#q").press_sequentially("tiger shark")
    page.wait_for_timeout(100)
    assert visible_cards(page) == [3]
    page.locator('#grid > .card[data-i="3"]').click()
    page.wait_for_url("**/classes/003.html")
    assert page.locator("h1").inner_text() == 'O\'Reilly\'s "tiger" shark, <b>great</b> & white'
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
    assert poster_width(page) == 224
    page.goto((site_dir / "random.html").as_uri())
    page.wait_for_url("**/classes/*.html")
    shoot(page, shots, "10-file-random-class")
    assert not watch["errors"], watch["errors"]


def test_a_class_page_shows_its_channels_and_a_click_leads_there_and_back(browser, base, shots, watch):
    page = watch["attach"](browser.new_page(viewport={"width": 1100, "height": 1000}))
    page.goto(base + "classes/008.html")
    cards = page.locator("section.madeof .strip .card")
    assert cards.count() == 3
    shares = cards.locator(".share").all_inner_texts()
    assert len(shares) == 3 and all(s.endswith(" %") for s in shares)
    page.locator("section.madeof").scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('section.madeof img')].length === 2 && "
                           "[...document.querySelectorAll('section.madeof img')].every(i => i.complete && i.naturalWidth)")
    shoot(page, shots, "11-class-hen-made-of")
    cards.first.click()
    page.wait_for_url("**/feature-atlas/channels/_bn1-12.html")
    assert "channel 12" in page.locator("h1").inner_text()
    users = page.locator("section.users .card")
    assert users.count() >= 1 and page.locator('section.users a.card[href="../classes/008.html"]').count() == 1
    shoot(page, shots, "12-channel-used-by")
    page.go_back()
    page.wait_for_url("**/feature-atlas/classes/008.html")
    assert page.locator("h1").inner_text() == "hen"
    # the samples strip: its own image first, then the others (a pending one as a placeholder)
    page.goto(base + "classes/130.html")
    assert page.locator("section.samples li").count() == 3 and page.locator("section.samples .ph").count() == 1
    # the second way in: the home's "by channel" link, the pooled layer's pages
    page.goto(base)
    page.locator(".jump a", has_text="channels they are made of").click()
    page.wait_for_url("**/feature-atlas/layers/_bn1.html")
    page.locator('a[rel="next"]').click()
    page.wait_for_url("**/feature-atlas/layers/_bn1/2.html")
    assert page.locator("#main .grid .card").count() > 0
    page.locator("#main .grid .card").first.click()
    page.wait_for_url("**/feature-atlas/channels/_bn1-*.html")
    assert not watch["errors"] and not watch["failed"], (watch["errors"], watch["failed"])
