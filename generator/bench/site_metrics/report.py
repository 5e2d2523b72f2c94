"""The measurement as JSON (every number) and as a Markdown section for bench/results/full-atlas.md."""

from __future__ import annotations

import json
from pathlib import Path

LISTED_BROKEN = 50  # broken links listed in the Markdown; the JSON has them all


def size(n: int | None) -> str:
    """Decimal units, as the targets are written: 1.5 MB = 1,500,000 bytes."""
    if n is None:
        return "–"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def millis(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def verdict(met: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[met]


def target_value(t: dict) -> str:
    return size(t["value"]) if t["unit"] == "bytes" else millis(t["value"])


def limit_value(t: dict) -> str:
    return size(t["limit"]) if t["unit"] == "bytes" else millis(t["limit"])


def files_section(files: dict, links: dict) -> list[str]:
    lines = ["### Files", "",
             f"- `site/`: **{size(files['total_bytes'])}** in {files['files']:,} files, {files['pages']:,} pages "
             f"({size(files['disk_bytes'])} counting each hard-linked file once)",
             f"- home page HTML: **{size(files['home_html_bytes'])}** ({size(files['home_html_gzip_bytes'])} gzipped)",
             f"- search index (`search.js`): **{size(files['search_index_bytes'])}** "
             f"({size(files['search_index_gzip_bytes'])} gzipped)", "",
             "| folder | size |", "|---|---:|"]
    lines += [f"| {name} | {size(n)} |" for name, n in files["by_folder"].items()]
    lines += ["", "| largest page of each kind | bytes |", "|---|---:|"]
    lines += [f"| `{p['path']}` ({kind}) | {p['bytes']:,} |" for kind, p in files["largest_page_by_kind"].items()]
    over = files["pages_over_30kb"]
    if over["count"]:
        lines += ["", f"Pages over 30 KB besides the home page: {over['count']} (largest: "
                  + ", ".join(f"`{p['path']}` {p['bytes']:,} B" for p in over["pages"][:5]) + ")"]
    lines += ["", "### Link check", "",
              f"{links['checked']:,} internal references (a, img, video src/poster, link, script, source) on "
              f"{links['pages']:,} pages checked against the site's files ({links['skipped']:,} external or "
              f"#fragment-only skipped): **{links['broken_count']} broken**."]
    if links["broken"]:
        lines += ["", "| page | reference | resolves to |", "|---|---|---|"]
        lines += [f"| `{b['page']}` | `<{b['tag']} {b['attr']}=\"{b['url']}\">` | `{b['resolved']}` |"
                  for b in links["broken"][:LISTED_BROKEN]]
        if len(links["broken"]) > LISTED_BROKEN:
            lines.append(f"\n… and {len(links['broken']) - LISTED_BROKEN} more (in the JSON).")
    return lines


def browser_section(browser: dict) -> list[str]:
    home, scroll, page = browser["home"]["initial"], browser["home"]["scroll"], browser["class_page"]
    runs = browser["runs"]
    lines = ["### In Chromium", "",
             f"Chromium {browser['chromium']}, headless, viewport {browser['viewport']['width']}x"
             f"{browser['viewport']['height']}, the site served from `http://127.0.0.1{browser['prefix']}` by "
             f"Python's http.server (no compression: Pages gzips HTML, CSS and JS, so real transfers of those are "
             f"smaller; localhost, so times are the browser's work, not a network's). A fresh context (empty cache) "
             f"per load; times are medians of {runs} run(s).", "",
             "| home page | value |", "|---|---:|",
             f"| time to the load event | {millis(home['load_ms'])} |",
             f"| first contentful paint | {millis(home['first_contentful_paint_ms'])} |",
             f"| bytes transferred before any scroll | {size(home['bytes'])} ({home['responses']} responses) |",
             f"| images loaded before any scroll | {home['images_loaded']} of {home['images']} |",
             f"| time to scroll to the bottom with every image loaded | {millis(scroll['ms'])} "
             f"(bottom reached after {millis(scroll['reached_bottom_ms'])}, {scroll['steps']} viewports) |",
             f"| bytes transferred by then | {size(scroll['bytes'])} ({scroll['responses']} responses) |",
             f"| images loaded by then | {scroll['images_loaded']} of {scroll['images']}"
             f"{' (timed out)' if scroll['timed_out'] else ''} |"]
    if scroll["broken_images"] or browser["home"]["failed_requests"]:
        lines.append(f"\nBroken images: {scroll['broken_images'][:10]}; failed requests: "
                     f"{browser['home']['failed_requests'][:10]}")
    lines += ["", "Search: each query typed key by key into the gallery's box (an `input` event per key), timed "
              "in the page from the event to the next frame drawn with the filtered grid; per keystroke the median "
              "of the runs, and the query's time is its slowest keystroke.", "",
              "| query | matches | slowest keystroke | to the filtered DOM (slowest) | per keystroke |",
              "|---|---:|---:|---:|---|"]
    for s in browser["search"]:
        keys = ", ".join(f"{k['value']!r} {k['frame_ms']:.0f}" for k in s["keystrokes"])
        lines.append(f"| `{s['query']}` | {s['matches']} | {millis(s['frame_ms'])} ({s['slowest_keystroke']!r}) | "
                     f"{millis(s['dom_ms'])} | {keys} ms |")
    lines += ["", f"Class page `{page['path']}`: load event after "
              f"**{millis(page['load_ms'])}** (first contentful paint {millis(page['first_contentful_paint_ms'])}), "
              f"{size(page['bytes'])} transferred ({page['responses']} responses, the video included once it "
              f"starts)."]
    return lines


def markdown(report: dict) -> str:
    lines = ["## `site/` measured", "",
             f"`{report['command'] or 'atlas measure-site'}` on {report['date']} "
             f"({report['machine']['cpus']} CPUs, {report['machine']['machine']}).", "",
             "| target | measured | limit | |", "|---|---:|---:|---|"]
    for t in report["targets"]:
        detail = f" ({t['detail']})" if t["detail"] else ""
        lines.append(f"| {t['name']}{detail} | {target_value(t)} | {limit_value(t)} | {verdict(t['met'])} |")
    lines += [""] + files_section(report["files"], report["links"]) + [""]
    skipped = ["Browser measurements skipped (--no-browser)."]
    lines += browser_section(report["browser"]) if report["browser"] else skipped
    return "\n".join(lines) + "\n"


def write_report(report: dict, json_path: Path, md_path: Path) -> str:
    """Writes both files; returns the Markdown."""
    text = markdown(report)
    for path in (json_path, md_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(text, encoding="utf-8")
    return text
