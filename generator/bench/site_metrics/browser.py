"""The site in headless Chromium (Debian's, driven by Playwright): the home page's first load and its scroll
to the bottom, search keystrokes, and a class page's load. Every measurement gets a fresh browser context, so
nothing comes from a cache; times are medians over ``runs``, with every run kept."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from generator.bench.site_metrics import probes
from generator.bench.site_metrics.network import NetworkMeter
from generator.errors import AtlasError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run")
VIEWPORT = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class BrowserOptions:
    chromium: str = field(default_factory=lambda: os.environ.get("ATLAS_CHROMIUM", CHROMIUM))
    runs: int = 3  # fresh loads of each page; typings of each query
    queries: tuple[str, ...] = ("dog", "n0151")
    class_page: str = "classes/008.html"
    viewport: dict = field(default_factory=lambda: dict(VIEWPORT))
    scroll_timeout_ms: int = 120_000
    search_timeout_ms: int = 5_000


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def launch(playwright, options: BrowserOptions):
    if not Path(options.chromium).is_file():
        raise AtlasError(f"measure-site: no Chromium at {options.chromium} (apt-get install chromium, or --chromium "
                         f"PATH; --no-browser skips the browser part)")
    return playwright.chromium.launch(executable_path=options.chromium, args=list(CHROMIUM_ARGS))


def fresh_page(browser, options: BrowserOptions):
    """A new context (empty cache) and page, with the byte counter attached before the first request."""
    context = browser.new_context(viewport=options.viewport)
    context.add_init_script(probes.TRACK_BROKEN_IMAGES)
    page = context.new_page()
    return context, page, NetworkMeter.attach(context, page)


def home_run(browser, base: str, options: BrowserOptions) -> dict:
    """One fresh load of the home page, settled, then scrolled to the bottom until every image is in."""
    context, page, meter = fresh_page(browser, options)
    try:
        page.goto(base, wait_until="load")
        quiet = meter.settle(page)
        first = page.evaluate(probes.PAGE_TIMINGS)
        first.update(bytes=meter.bytes, responses=meter.responses, image_responses=meter.images,
                     network_quiet=quiet)
        scroll = page.evaluate(probes.SCROLL_TO_BOTTOM, {"timeoutMs": options.scroll_timeout_ms})
        meter.settle(page)
        scroll.update(bytes=meter.bytes, responses=meter.responses, image_responses=meter.images)
        return {"initial": first, "scroll": scroll, "failed_requests": list(meter.failed)}
    finally:
        context.close()


def measure_home(browser, base: str, options: BrowserOptions) -> dict:
    runs = [home_run(browser, base, options) for _ in range(options.runs)]
    first, scroll = runs[0]["initial"], runs[0]["scroll"]
    return {
        "url": base,
        "initial": {  # before any scroll; bytes are the first run's (the same every run)
            "load_ms": median([r["initial"]["load_ms"] for r in runs]),
            "first_contentful_paint_ms": median([r["initial"]["first_contentful_paint_ms"] for r in runs
                                                 if r["initial"]["first_contentful_paint_ms"] is not None]),
            "bytes": first["bytes"], "responses": first["responses"], "images": first["images"],
            "images_loaded": first["images_loaded"], "image_responses": first["image_responses"],
            "network_quiet": first["network_quiet"],
            "load_ms_runs": [ms(r["initial"]["load_ms"]) for r in runs],
        },
        "scroll": {
            "ms": median([r["scroll"]["ms"] for r in runs]),
            "reached_bottom_ms": median([r["scroll"]["reached_bottom_ms"] for r in runs]),
            "steps": scroll["steps"], "bytes": scroll["bytes"], "responses": scroll["responses"],
            "images": scroll["images"], "images_loaded": scroll["images_loaded"],
            "image_responses": scroll["image_responses"], "timed_out": any(r["scroll"]["timed_out"] for r in runs),
            "broken_images": scroll["broken"], "not_loaded": scroll["not_loaded"],
            "ms_runs": [ms(r["scroll"]["ms"]) for r in runs],
        },
        "failed_requests": sorted({f for r in runs for f in r["failed_requests"]}),
    }


def keystrokes(query: str) -> list[str]:
    """What the box holds after each key of ``query``: "dog" -> ["d", "do", "dog"]."""
    return [query[:k] for k in range(1, len(query) + 1)]


def measure_search(browser, base: str, options: BrowserOptions) -> list[dict]:
    """Each query typed key by key from an empty box, ``runs`` times; per keystroke the median time to the
    filtered grid. The slowest keystroke is the query's answer time."""
    context, page, meter = fresh_page(browser, options)
    try:
        page.goto(base, wait_until="load")
        meter.settle(page)
        if not page.evaluate("() => !!(document.getElementById('q') && document.getElementById('grid'))"):
            raise AtlasError("measure-site: the home page has no search box (#q) and grid (#grid)")
        results = []
        for query in options.queries:
            per_key: dict[str, list[dict]] = {v: [] for v in keystrokes(query)}
            for _ in range(options.runs):
                page.evaluate(probes.CLEAR_SEARCH)
                for value in per_key:
                    per_key[value].append(page.evaluate(probes.KEYSTROKE, {"value": value,
                                                                           "timeoutMs": options.search_timeout_ms}))
            keys = [{"value": v, "frame_ms": median([r["frame_ms"] for r in rs]),
                     "dom_ms": median([r["dom_ms"] for r in rs]), "matches": rs[-1]["matches"],
                     "frame_ms_runs": [ms(r["frame_ms"]) for r in rs]} for v, rs in per_key.items()]
            slowest = max(keys, key=lambda k: k["frame_ms"])
            results.append({"query": query, "matches": keys[-1]["matches"], "frame_ms": slowest["frame_ms"],
                            "dom_ms": max(k["dom_ms"] for k in keys), "slowest_keystroke": slowest["value"],
                            "timed_out": any(r["timed_out"] for rs in per_key.values() for r in rs),
                            "keystrokes": keys})
        page.evaluate(probes.CLEAR_SEARCH)
        return results
    finally:
        context.close()


def measure_page(browser, url: str, options: BrowserOptions) -> dict:
    """A page's load (to the load event) from a fresh context, ``runs`` times."""
    runs = []
    for _ in range(options.runs):
        context, page, meter = fresh_page(browser, options)
        try:
            response = page.goto(url, wait_until="load")
            if response is None or not response.ok:
                raise AtlasError(f"measure-site: {url} answered {response.status if response else 'nothing'}")
            timings = page.evaluate(probes.PAGE_TIMINGS)
            meter.settle(page)
            runs.append(dict(timings, bytes=meter.bytes, responses=meter.responses))
        finally:
            context.close()
    return {"url": url, "load_ms": median([r["load_ms"] for r in runs]),
            "first_contentful_paint_ms": median([r["first_contentful_paint_ms"] for r in runs
                                                 if r["first_contentful_paint_ms"] is not None]),
            "bytes": runs[0]["bytes"], "responses": runs[0]["responses"],
            "load_ms_runs": [ms(r["load_ms"]) for r in runs]}


def measure_in_browser(base: str, options: BrowserOptions) -> dict:
    """Every browser measurement against the site served at ``base``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise AtlasError("measure-site: playwright is not installed (pip install playwright; --no-browser skips "
                         "the browser part)") from None
    with sync_playwright() as p:
        browser = launch(p, options)
        try:
            return {"chromium": browser.version, "viewport": options.viewport, "runs": options.runs,
                    "home": measure_home(browser, base, options),
                    "search": measure_search(browser, base, options),
                    "class_page": measure_page(browser, base + options.class_page, options)
                    | {"path": options.class_page}}
        finally:
            browser.close()
