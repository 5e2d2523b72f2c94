"""Formatting for pages: the Jinja filters (numbers, knobs, percentages, sizes, times, dates), HTML attribute
escaping, and Markup for HTML the site builds itself."""

from __future__ import annotations

import math
import re

from markupsafe import Markup


def fmt_num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def fmt_knob(v) -> str:
    if isinstance(v, (list, tuple)):
        return "–".join(fmt_num(x) for x in v) if len(v) == 2 else ", ".join(fmt_num(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return fmt_num(v)


def fmt_pct(p) -> str:
    if p is None or not isinstance(p, (int, float)) or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%" if p < 0.995 else f"{100 * p:.2f}%"


def fmt_share(p) -> str:
    """A channel's share of a logit, as the strips show it: "14 %"; under 10 % with a decimal ("1.7 %": a logit is
    often spread over hundreds of channels, each a few percent), "<0.1 %", "−3.0 %"."""
    if p is None or not isinstance(p, (int, float)) or not math.isfinite(p):
        return "–"
    if 0 < p < 0.0005:
        return "<0.1 %"
    text = f"{100 * p:.1f} %" if abs(p) < 0.1 else f"{round(100 * p)} %"
    return text.replace("-", "−")


def fmt_bytes(n) -> str:
    if not isinstance(n, (int, float)):
        return ""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1e6:.1f} MB"


def fmt_secs(s) -> str:
    if not isinstance(s, (int, float)) or not math.isfinite(s):
        return "–"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def fmt_date(iso) -> str:
    if not isinstance(iso, str):
        return ""
    m = re.match(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)", iso)
    return f"{m.group(1)} {m.group(2)} UTC" if m else iso



def attr(s: str) -> str:
    """Text safe inside an HTML attribute or element."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def markup(s: str | None):
    """HTML the site built itself (plots, knob lists), passed through the templates unescaped."""
    return None if s is None else Markup(s)


FILTERS = {"num": fmt_num, "knob": fmt_knob, "pct": fmt_pct, "share": fmt_share, "kb": fmt_bytes, "secs": fmt_secs,
           "date": fmt_date}
