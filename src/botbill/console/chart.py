"""The Usage graph as inline SVG: a pure function from a usage series to markup.

Rendered on the server, the graph needs no script and no chart library, and everything it
says is page text: each bucket is a focusable group whose tooltip (Date, Sessions, Voice
Sessions, Agents) is SVG text, shown by CSS on hover and on keyboard focus, and whose
``<title>`` is what assistive technology reads.

Billing sessions and voice sessions share the left axis; agents, a count of people that is
usually far smaller, have their own axis on the right so that their line is readable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 960
HEIGHT = 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 56, 16, 40
TIP_WIDTH, TIP_HEIGHT, TIP_LINE = 190, 82, 17
X_LABELS = 8
"""At most this many dates under the axis; the tooltips and the table carry every one."""

_Y = Callable[[int, "Scale"], float]
_X = Callable[[int], float]


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One bucket: its label as the tooltip's Date, and the three series' values."""

    date: str
    sessions: int
    voice_sessions: int
    agents: int


@dataclass(frozen=True, slots=True)
class Scale:
    """A linear axis from 0 to ``top``, with ``ticks`` evenly spaced values."""

    top: int
    ticks: tuple[int, ...]


def nice_scale(largest: int, *, steps: int = 4) -> Scale:
    """An axis from 0 whose ticks are round (1, 2 or 5 times a power of ten) and reach at
    least ``largest``; an empty series gets the axis 0..``steps``."""
    if largest < 0:
        raise ValueError("counts are never negative")
    raw = max(largest, 1) / steps
    power = 1
    while power * 10 <= raw:
        power *= 10
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = -(-max(largest, 1) // step)
    return Scale(top=step * count, ticks=tuple(step * i for i in range(count + 1)))


def usage_chart(points: Sequence[ChartPoint], *, title: str) -> str:
    """The graph of ``points`` in bucket order, as an ``<svg>`` element."""
    left = nice_scale(max((max(p.sessions, p.voice_sessions) for p in points), default=0))
    right = nice_scale(max((p.agents for p in points), default=0))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    column = plot_w / max(len(points), 1)

    def x(index: int) -> float:
        return MARGIN_LEFT + column * (index + 0.5)

    def y(value: int, scale: Scale) -> float:
        return MARGIN_TOP + plot_h * (1 - value / scale.top)

    parts = [
        f'<svg class="usage-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    parts += _axes(left, right, y, plot_w)
    parts += _x_labels(points, x)
    for series, css in (("sessions", "s-sessions"), ("voice_sessions", "s-voice")):
        parts.append(
            _line([(x(i), y(getattr(p, series), left)) for i, p in enumerate(points)], css)
        )
    parts.append(_line([(x(i), y(p.agents, right)) for i, p in enumerate(points)], "s-agents"))
    for index, point in enumerate(points):
        parts.append(
            _point(
                point,
                index=index,
                x=x(index),
                column=column,
                ys=(y(point.sessions, left), y(point.voice_sessions, left), y(point.agents, right)),
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _axes(left: Scale, right: Scale, y: _Y, plot_w: float) -> list[str]:
    parts = ['<g class="axes" aria-hidden="true">']
    x0, x1 = MARGIN_LEFT, MARGIN_LEFT + plot_w
    for tick in left.ticks:
        ty = y(tick, left)
        parts.append(f'<line class="grid" x1="{x0}" y1="{ty:.1f}" x2="{x1:.1f}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="tick" x="{x0 - 6}" y="{ty + 4:.1f}" text-anchor="end">')
        parts.append(f"{tick:,}</text>")
    for tick in right.ticks:
        ty = y(tick, right)
        parts.append(f'<text class="tick s-agents" x="{x1 + 6:.1f}" y="{ty + 4:.1f}">')
        parts.append(f"{tick:,}</text>")
    parts.append("</g>")
    return parts


def _x_labels(points: Sequence[ChartPoint], x: _X) -> list[str]:
    every = max(1, -(-len(points) // X_LABELS))
    base = HEIGHT - MARGIN_BOTTOM + 18
    labels = [
        f'<text class="tick" x="{x(i):.1f}" y="{base}" text-anchor="middle">'
        f"{escape(point.date)}</text>"
        for i, point in enumerate(points)
        if i % every == 0
    ]
    return ['<g class="x-labels" aria-hidden="true">', *labels, "</g>"]


def _line(coordinates: list[tuple[float, float]], css: str) -> str:
    if not coordinates:
        return ""
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coordinates)
    dots = "".join(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5"/>' for px, py in coordinates)
    return (
        f'<g class="series {css}" aria-hidden="true">'
        f'<polyline points="{path}"/>{dots if len(coordinates) <= 60 else ""}</g>'
    )


def _point(
    point: ChartPoint, *, index: int, x: float, column: float, ys: tuple[float, float, float]
) -> str:
    rows = (
        ("Date", point.date),
        ("Sessions", f"{point.sessions:,}"),
        ("Voice Sessions", f"{point.voice_sessions:,}"),
        ("Agents", f"{point.agents:,}"),
    )
    spoken = ", ".join(f"{name}: {value}" for name, value in rows)
    top = MARGIN_TOP + 4
    tip_x = min(max(x + 12, MARGIN_LEFT), WIDTH - TIP_WIDTH - 2)
    if x + 12 + TIP_WIDTH > WIDTH - 2:
        tip_x = max(x - 12 - TIP_WIDTH, 2)
    lines = "".join(
        f'<text x="{tip_x + 10:.1f}" y="{top + 20 + k * TIP_LINE}">'
        f'<tspan class="tip-name">{name}</tspan><tspan class="tip-value" '
        f'x="{tip_x + TIP_WIDTH - 10:.1f}" text-anchor="end">{escape(value)}</tspan></text>'
        for k, (name, value) in enumerate(rows)
    )
    markers = "".join(
        f'<circle class="marker {css}" cx="{x:.1f}" cy="{py:.1f}" r="4.5"/>'
        for py, css in zip(ys, ("s-sessions", "s-voice", "s-agents"), strict=True)
    )
    return (
        f'<g class="point" tabindex="0" data-index="{index}" role="img" '
        f'aria-label="{escape(spoken)}"><title>{escape(spoken)}</title>'
        f'<rect class="hit" x="{x - column / 2:.1f}" y="{MARGIN_TOP}" width="{column:.1f}" '
        f'height="{HEIGHT - MARGIN_TOP - MARGIN_BOTTOM}"/>'
        f'<line class="cursor" x1="{x:.1f}" y1="{MARGIN_TOP}" x2="{x:.1f}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}"/>{markers}'
        f'<g class="tip"><rect x="{tip_x:.1f}" y="{top}" width="{TIP_WIDTH}" '
        f'height="{TIP_HEIGHT}" rx="6"/>{lines}</g></g>'
    )
