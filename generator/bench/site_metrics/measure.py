"""One measurement of a built site: sizes and links from the folder, then the browser against the site served
under a sub-path; the issue's targets judged on the result. Writes nothing (report.py does)."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from generator.bench.site_metrics.browser import BrowserOptions, measure_in_browser
from generator.bench.site_metrics.files import measure_sizes
from generator.bench.site_metrics.links import check_links, site_files
from generator.bench.site_metrics.serve import DEFAULT_PREFIX, normal_prefix, serve_site
from generator.bench.site_metrics.targets import PAGE_BYTES, judge_targets
from generator.errors import AtlasError
from generator.publish.layout import HOME

SCHEMA = 1
LISTED_PAGES = 20  # pages over the budget listed by name; all are counted


@dataclass(frozen=True)
class MeasureOptions:
    prefix: str = DEFAULT_PREFIX
    browser: BrowserOptions | None = BrowserOptions()  # None: sizes and links only


def machine() -> dict:
    return {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}


def measure_site(site: Path, options: MeasureOptions = MeasureOptions(), command: str = "") -> dict:
    if not (site / HOME).is_file():
        raise AtlasError(f"measure-site: {site}/ holds no {HOME}: not a built site (make atlas, or atlas site)")
    files = site_files(site)
    sizes = measure_sizes(site, files)
    over = sizes.pages_over(PAGE_BYTES)
    others = sizes.pages_over(-1)  # every page but the home page, largest first
    report = {
        "schema": SCHEMA, "command": command, "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "site": str(site), "machine": machine(),
        "files": sizes.to_dict() | {
            "largest_page_except_home": {"path": others[0].path, "bytes": others[0].bytes} if others else None,
            "pages_over_30kb": {"count": len(over),
                                "pages": [{"path": p.path, "bytes": p.bytes} for p in over[:LISTED_PAGES]]}},
        "links": check_links(site, files).to_dict(),
        "browser": None,
    }
    if options.browser is not None:
        with serve_site(site, options.prefix) as base:
            report["browser"] = measure_in_browser(base, options.browser) | {"prefix": normal_prefix(options.prefix)}
    report["targets"] = [t.to_dict() for t in judge_targets(report)]
    return report
