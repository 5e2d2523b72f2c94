"""A tiny inline SVG plot of an optimization: the objective per step, and the class probability."""

from __future__ import annotations

import math

from generator.publish.site.filters import attr, fmt_num, fmt_pct

PLOT_POINTS = 100


def finite_values(xs) -> list:
    if not isinstance(xs, list):
        return []
    return [x if isinstance(x, (int, float)) and math.isfinite(x) else None for x in xs]


def downsample(n: int, points: int = PLOT_POINTS) -> list[int]:
    if n <= points:
        return list(range(n))
    return sorted({round(k * (n - 1) / (points - 1)) for k in range(points)})


def svg_plot(values, probs=None, *, value_name: str = "logit", width: int = 320, height: int = 132,
             title: str = "", points: int = PLOT_POINTS) -> str | None:
    """A tiny inline SVG: the objective per step (left axis) and the class probability (right axis, 0..1),
    each a polyline of at most ``points`` points (about one per 2-3 px is all a reader can see)."""
    values, probs = finite_values(values), finite_values(probs)
    n = len(values)
    if sum(v is not None for v in values) < 2:
        return None
    idx = downsample(n, points)
    left, right, top, bottom = 38, 34 if probs else 10, 18, 22
    pw, ph = width - left - right, height - top - bottom
    finite = [v for v in values if v is not None]
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1

    xs = {i: left + pw * i / max(1, n - 1) for i in idx}
    sv, ov = ph / (hi - lo), top + ph * hi / (hi - lo)  # y = ov - v * sv

    def line(series, scale, offset, clip=False):
        pts, runs = [], []
        for i in idx:
            v = series[i] if i < len(series) else None
            if v is None:
                if pts:
                    runs.append(pts)
                pts = []
                continue
            if clip:
                v = 0.0 if v < 0 else 1.0 if v > 1 else v
            pts.append("%.1f,%.1f" % (xs[i], offset - v * scale))
        if pts:
            runs.append(pts)
        return runs

    def yv(v):
        return ov - v * sv

    last = finite[-1]
    desc = f"{value_name} from {fmt_num(finite[0])} to {fmt_num(last)} over {n} steps"
    if probs and any(p is not None for p in probs):
        desc += f"; probability reaches {fmt_pct(last_finite(probs))}"
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{attr(title + ": " if title else "")}{attr(desc)}">',
        f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>',
        f'<text class="ax" x="{left - 4}" y="{top + 4}" text-anchor="end">{fmt_num(hi)}</text>',
        f'<text class="ax" x="{left - 4}" y="{top + ph}" text-anchor="end">{fmt_num(lo)}</text>',
        f'<text class="ax" x="{left}" y="{height - 6}">0</text>',
        f'<text class="ax" x="{left + pw}" y="{height - 6}" text-anchor="end">step {n - 1}</text>',
        f'<text class="lv" x="{left}" y="12">{attr(value_name)}</text>',
    ]
    if lo < 0 < hi:
        y0 = yv(0)
        parts.append(f'<line class="zero" x1="{left}" x2="{left + pw}" y1="{y0:.1f}" y2="{y0:.1f}"/>')
    for run in line(values, sv, ov):
        parts.append(f'<polyline class="v" points="{" ".join(run)}"/>')
    if probs and any(p is not None for p in probs):
        parts += [
            f'<text class="ax" x="{left + pw + 4}" y="{top + 4}">1</text>',
            f'<text class="ax" x="{left + pw + 4}" y="{top + ph}">0</text>',
            f'<text class="lp" x="{left + pw}" y="12" text-anchor="end">probability</text>',
        ]
        for run in line(probs, ph, top + ph, clip=True):
            parts.append(f'<polyline class="p" points="{" ".join(run)}"/>')
    parts.append("</svg>")
    return "".join(parts)



def last_finite(xs: list):
    """The last value that is a finite number (a probability at the end of an optimization), else None."""
    return next((x for x in reversed(xs) if x is not None), None)
