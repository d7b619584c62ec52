"""A line chart as hand-written SVG (no plotting library): turn number -> latency in ms.

``turn_latency_svg(series)`` draws each series (label, colour, dashed, values of turns 1..n) on
one logarithmic latency axis (the clients differ by three orders of magnitude), a linear turn
axis, a grid and a legend under the plot. Pure string formatting; the output is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

__all__ = ["Series", "turn_latency_svg"]

WIDTH, HEIGHT = 820, 470
LEFT, RIGHT, TOP = 72, 24, 44
PLOT_HEIGHT = 300
LEGEND_ROW = 18
PALETTE = ("#1f77b4", "#2ca02c", "#7f7f7f", "#bcbd22", "#9467bd", "#d62728", "#ff7f0e")


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]  # latency in ms of turns 1, 2, …
    colour: str
    dashed: bool = False


def _log_ticks(low: float, high: float) -> list[float]:
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if low <= value <= high:
                ticks.append(value)
    return ticks


def _bounds(low: float, high: float) -> tuple[float, float]:
    """The axis: the largest 1-2-5 step at or below ``low``, the smallest at or above ``high``."""
    steps = [m * 10.0**e for e in range(-4, 8) for m in (1, 2, 5)]
    bottom = max((v for v in steps if v <= low), default=steps[0])
    top = min((v for v in steps if v >= high), default=steps[-1])
    return bottom, top if top > bottom else bottom * 10


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _x_step(turns: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if turns / step <= 10:
            return step
    return 1000


def turn_latency_svg(series: list[Series], title: str, subtitle: str = "") -> str:
    """The SVG document (a string)."""
    drawn = [s for s in series if s.values]
    values = [v for s in drawn for v in s.values if v > 0]
    low, high = _bounds(min(values, default=0.1), max(values, default=10.0))
    turns = max((len(s.values) for s in drawn), default=1)
    plot_width = WIDTH - LEFT - RIGHT
    bottom = TOP + PLOT_HEIGHT

    def x(turn: float) -> float:
        return LEFT + (turn - 1) / max(1, turns - 1) * plot_width

    def y(ms: float) -> float:
        span = math.log10(high) - math.log10(low)
        return bottom - (math.log10(max(ms, low)) - math.log10(low)) / span * PLOT_HEIGHT

    legend_rows = (len(drawn) + 1) // 2
    height = bottom + 56 + legend_rows * LEGEND_ROW
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="{LEFT}" y="36" fill="#555">{escape(subtitle)}</text>',
    ]
    for tick in _log_ticks(low, high):
        ty = y(tick)
        major = math.isclose(math.log10(tick) % 1, 0, abs_tol=1e-9)
        colour = "#ccc" if major else "#eee"
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_width}" y2="{ty:.1f}" '
            f'stroke="{colour}"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    step = _x_step(turns)
    for turn in [1, *range(step, turns + 1, step)]:
        tx = x(turn)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP}" x2="{tx:.1f}" y2="{bottom}" stroke="#eee"/>')
        out.append(f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle">{turn}</text>')
    out += [
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_width}" height="{PLOT_HEIGHT}" fill="none" '
        'stroke="#888"/>',
        f'<text x="{LEFT + plot_width / 2:.0f}" y="{bottom + 34}" text-anchor="middle">'
        "turn number</text>",
        f'<text x="16" y="{TOP + PLOT_HEIGHT / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + PLOT_HEIGHT / 2:.0f})">latency, ms (log scale)</text>',
    ]
    for s in drawn:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values, 1))
        dash = ' stroke-dasharray="6 3"' if s.dashed else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="1.6"'
            f"{dash}/>"
        )
    for index, s in enumerate(drawn):
        lx = LEFT + (index % 2) * (plot_width / 2)
        ly = bottom + 56 + (index // 2) * LEGEND_ROW
        dash = ' stroke-dasharray="6 3"' if s.dashed else ""
        out.append(
            f'<line x1="{lx:.0f}" y1="{ly - 4}" x2="{lx + 24:.0f}" y2="{ly - 4}" '
            f'stroke="{s.colour}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{lx + 30:.0f}" y="{ly}">{escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
