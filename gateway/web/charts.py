"""Charts drawn on the server as inline SVG: no script, no library, readable without JavaScript.

One chart: the median hours to accept and to resolve per week, as pairs of
bars on a shared scale with a few labelled grid lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from gateway.web.partner_figures import WeekStages

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 34
# The unit an axis is labelled in: the first whose span holds the largest value comfortably.
UNITS = ((2.0, "min", 60.0), (72.0, "h", 1.0), (float("inf"), "d", 1 / 24))
ACCEPT_COLOUR, RESOLVE_COLOUR = "#6366f1", "#22c55e"


def _nice_top(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def stage_chart(weeks: Sequence[WeekStages], title: str) -> Markup:
    """The weekly stage times of one partner as an SVG element."""
    if not weeks:
        return Markup('<p class="muted small">No handoffs in this period.</p>')
    values = [v for w in weeks for v in (w.accept_hours, w.resolve_hours) if v is not None]
    largest = max(values, default=0.0)
    unit, per_hour = next((name, factor) for limit, name, factor in UNITS if largest < limit)
    top = _nice_top(largest * per_hour)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(weeks)
    bar = max(2.0, min(18.0, slot / 3))
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="10">',
             f"<title>{escape(title)}</title>"]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 3:.1f}" text-anchor="end" fill="#6b7280">{value:.3g} {unit}</text>')
    label_every = max(1, math.ceil(len(weeks) / 10))
    for index, week in enumerate(weeks):
        x = LEFT + slot * index + slot / 2
        for offset, value, colour, name in ((-bar, week.accept_hours, ACCEPT_COLOUR, "accept"),
                                            (0.0, week.resolve_hours, RESOLVE_COLOUR, "resolve")):
            if value is None:
                continue
            height = plot_h * value * per_hour / top
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'rx="2" fill="{colour}"><title>week of {week.week:%d %b}: {name} {value:.1f} h '
                f'(median of {week.handed})</title></rect>')
        if index % label_every == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" fill="#6b7280">'
                         f'{week.week:%d %b}</text>')
    legend_y = HEIGHT - 6
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 8}" width="10" height="10" rx="2" fill="{ACCEPT_COLOUR}"/>'
                 f'<text x="{LEFT + 14}" y="{legend_y}" fill="#374151">median time to accept</text>'
                 f'<rect x="{LEFT + 150}" y="{legend_y - 8}" width="10" height="10" rx="2" fill="{RESOLVE_COLOUR}"/>'
                 f'<text x="{LEFT + 164}" y="{legend_y}" fill="#374151">median time to resolve</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
