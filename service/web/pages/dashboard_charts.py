"""The dashboard's charts as shapes for an SVG template: pure arithmetic on the figures.

Every chart is drawn on the server (templates/staff/_charts.html), so the page needs no script
and nothing the Content-Security-Policy must loosen. Levels are told apart without colour: each
has its own fill pattern and luminance, and its symbol in the legend (as on the queue).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.codes import Priority

WIDTH = 720
PLOT_LEFT = 56  # room for the value axis' labels
PLOT_RIGHT = WIDTH - 12
ROW = 28  # one bar of a horizontal chart, with its gap
LEVELS = tuple(level.value for level in Priority)  # most urgent first


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    kind: str  # the CSS class's suffix: a level, or a part of a chart
    title: str  # what the shape shows, in words (a tooltip, and for screen readers' SVG view)


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str


@dataclass
class Chart:
    height: float
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def nice_top(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least `value` (and at least 1)."""
    if value <= 1:
        return 1
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def days_chart(days: Sequence[Mapping[str, Any]]) -> Chart:
    """Intakes per day, stacked by level (most urgent at the bottom), with a value axis."""
    top_margin, plot_height = 12, 200
    chart = Chart(height=top_margin + plot_height + 40)
    top = nice_top(max((day["total"] for day in days), default=0))
    base = top_margin + plot_height
    step = nice_top(top / 5)  # whole intakes: 0, 1, 2... or 0, 5, 10... up to the top
    for tick in range(round(top / step) + 1):
        y = base - plot_height * tick * step / top
        chart.lines.append(Line(PLOT_LEFT, y, PLOT_RIGHT, y, "grid"))
        chart.texts.append(Text(PLOT_LEFT - 6, y + 4, f"{tick * step:g}", "end"))
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 8))  # about eight dates under the axis
    for index, day in enumerate(days):
        x = PLOT_LEFT + index * slot + slot * 0.1
        y = base
        for level in LEVELS:
            count = day["by_priority"][level]
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            chart.rects.append(
                Rect(x, y, slot * 0.8, height, level, f"{day['date']}: {count} {level}")
            )
        if index % every == 0:
            chart.texts.append(Text(x + slot * 0.4, base + 18, day["date"][5:], "middle"))
    chart.lines.append(Line(PLOT_LEFT, base, PLOT_RIGHT, base, "axis"))
    return chart


def bars_chart(values: Sequence[tuple[str, int]], kind: str) -> Chart:
    """One horizontal bar per (label, value), longest first as given."""
    label_width = 200
    chart = Chart(height=max(len(values), 1) * ROW + 8)
    top = nice_top(max((value for _, value in values), default=0))
    span = PLOT_RIGHT - label_width - 40
    for index, (label, value) in enumerate(values):
        y = 4 + index * ROW
        width = span * value / top
        chart.texts.append(Text(label_width - 8, y + 15, label, "end"))
        chart.rects.append(Rect(label_width, y, width, ROW - 8, kind, f"{label}: {value}"))
        chart.texts.append(Text(label_width + width + 6, y + 15, str(value)))
    return chart


def waits_chart(seen: Mapping[str, Mapping[str, Any]], thresholds: Mapping[str, int]) -> Chart:
    """Per level, its own scale: the median and the 90th percentile of the minutes to the
    doctor as two bars, and the level's long-wait threshold as a dashed line across them."""
    label_width, block = 120, 2 * ROW + 16
    chart = Chart(height=len(LEVELS) * block + 8)
    span = PLOT_RIGHT - label_width - 90
    for index, level in enumerate(LEVELS):
        waits, threshold = seen[level], thresholds[level]
        y = 4 + index * block
        top = nice_top(max(threshold, waits["p90_minutes"] or 0) * 1.1)
        chart.texts.append(Text(label_width - 8, y + 20, level.capitalize(), "end"))
        for row, (name, key) in enumerate((("median", "median_minutes"), ("90th", "p90_minutes"))):
            value = waits[key]
            bar_y = y + row * ROW
            if value is None:
                chart.texts.append(Text(label_width, bar_y + 15, f"{name}: nobody seen yet"))
                continue
            width = span * value / top
            title = f"{level} {name} percentile: {value:g} min"
            chart.rects.append(Rect(label_width, bar_y, width, ROW - 8, f"wait-{row}", title))
            chart.texts.append(Text(label_width + width + 6, bar_y + 15, f"{name} {value:g} min"))
        x = label_width + span * threshold / top
        chart.lines.append(Line(x, y - 2, x, y + 2 * ROW - 6, "threshold"))
        chart.texts.append(
            Text(x, y + 2 * ROW + 8, f"{threshold} min: {waits['over_threshold']} over", "middle")
        )
    return chart
