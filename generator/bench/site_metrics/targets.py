"""Issue #14's targets for a 1000-class site, each judged met or not from a measurement report."""

from __future__ import annotations

from dataclasses import asdict, dataclass

HOME_INITIAL_BYTES = 1_500_000  # 1.5 MB (decimal), before any scroll
SEARCH_MS = 50  # keystroke to filtered grid on screen
PAGE_BYTES = 30_000  # 30 KB, any page but the home page
SITE_BYTES = 400_000_000  # 400 MB, the whole site/


@dataclass(frozen=True)
class Target:
    name: str
    limit: float
    unit: str  # "bytes" | "ms"
    value: float | None  # None: not measured (e.g. --no-browser)
    detail: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value <= self.limit

    def to_dict(self) -> dict:
        return asdict(self) | {"met": self.met}


def judge_targets(report: dict) -> list[Target]:
    """``report``: measure.measure_site's report without its targets."""
    files, browser = report["files"], report.get("browser")
    over = files["pages_over_30kb"]
    largest = files["largest_page_except_home"]
    search = browser["search"] if browser else []
    slowest = max(search, key=lambda s: s["frame_ms"]) if search else None
    return [
        Target("home page's initial transfer (before any scroll)", HOME_INITIAL_BYTES, "bytes",
               browser["home"]["initial"]["bytes"] if browser else None),
        Target("search answers (slowest keystroke, median of runs)", SEARCH_MS, "ms",
               slowest["frame_ms"] if slowest else None,
               f"{slowest['query']!r}, keystroke {slowest['slowest_keystroke']!r}" if slowest else ""),
        Target("largest page except the home page", PAGE_BYTES, "bytes", largest["bytes"] if largest else 0,
               f"{largest['path']}; {over['count']} page(s) over" if largest else "no other pages"),
        Target("whole site", SITE_BYTES, "bytes", files["total_bytes"]),
    ]
