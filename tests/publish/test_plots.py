"""The inline SVG plot: downsampled, and robust to what a failed render leaves (NaN, infinities, None)."""

from __future__ import annotations

import math
import re

from generator.publish.site.plots import PLOT_POINTS, finite_values, last_finite, svg_plot


def test_non_finite_values_break_the_line_and_never_reach_the_labels():
    values = [0.0, 1.0, math.nan, 2.0, 3.0, math.inf, None, 4.0, 5.0]
    probs = [0.1, 0.2, 0.3, math.nan, 0.5, 0.6, 0.7, 0.8, -math.inf]
    svg = svg_plot(values, probs, title="a <b> & 'c'")
    assert svg.count('<polyline class="v"') == 3 and svg.count('<polyline class="p"') == 2
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    assert "a &lt;b&gt; &amp; &#39;c&#39;" in svg and "probability reaches 80.0%" in svg
    assert finite_values(values) == [0.0, 1.0, None, 2.0, 3.0, None, None, 4.0, 5.0]
    assert last_finite(finite_values(probs)) == 0.8


def test_long_runs_are_downsampled_and_short_ones_have_no_plot():
    svg = svg_plot([float(i) for i in range(1000)])
    points = re.search(r'<polyline class="v" points="([^"]+)"', svg)[1].split()
    assert len(points) == PLOT_POINTS
    assert svg_plot([1.0]) is None and svg_plot([math.nan, 2.0]) is None and svg_plot("not a list") is None
