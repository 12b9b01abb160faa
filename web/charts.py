"""Charts as inline SVG, drawn on the server from the figures: no script, no charting library,
nothing fetched, so a page shows them offline and under its Content-Security-Policy.

A chart is a `Chart` (labels along the x axis, one or more `Series` of values, None where there
is none) drawn by `line_chart` or `bar_chart`. Each SVG is an image named by its <title> and
described by its <desc> for assistive technology; the page prints the same figures in a table
beside it.
Colours come from the stylesheet by class (s0, s1, ...: dark mode included); lines also differ
by their dashes, so colour is never the only signal."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 44, 36  # room for the y labels, the legend, the x labels
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
FONT_SIZE = 13
CHARACTER_WIDTH = 7.5  # about, at FONT_SIZE: to lay the legend out
MAX_X_LABELS = 8  # more would overlap: every n-th label is written, all are in the table
MAX_LABEL_CHARACTERS = 14
Y_INTERVALS = 4
MAX_BAR_WIDTH = 40
ZERO_HEIGHT = 1.5
DASHES = ("", "7 4", "2 4", "10 4 2 4")  # one per series, repeating


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    id: str  # prefixes the ids of its <title> and <desc>: unique on the page
    title: str
    description: str  # what it shows, in words
    labels: Sequence[str]  # one per position along the x axis
    series: Sequence[Series]
    percent: bool = False  # values are fractions (0.25), drawn on a 0-100 % axis


def format_value(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if percent else f"{value:,.0f}"


def line_chart(chart: Chart) -> Markup:
    """A line per series, a dot per value; a gap where a value is None."""
    top = _top(chart)
    count = len(chart.labels)
    step = PLOT_WIDTH / (count - 1) if count > 1 else 0

    def x(index: int) -> float:
        return LEFT + index * step if count > 1 else LEFT + PLOT_WIDTH / 2

    marks = []
    for number, series in enumerate(chart.series):
        points = [(index, x(index), _y(value, top)) for index, value in enumerate(series.values)]
        dash = DASHES[number % len(DASHES)]
        for run in _runs(points, series.values):
            if len(run) > 1:
                coordinates = " ".join(f"{px:.1f},{py:.1f}" for _, px, py in run)
                marks.append(
                    f'<polyline class="line s{number}" fill="none" stroke-width="2"'
                    f'{_dash(dash)} points="{coordinates}"/>'
                )
        for index, px, py in points:
            if series.values[index] is not None:
                tip = _tip(chart, series, index)
                marks.append(
                    f'<circle class="dot s{number}" cx="{px:.1f}" cy="{py:.1f}" r="3">'
                    f"<title>{tip}</title></circle>"
                )
    return _svg(chart, top, [x(index) for index in range(count)], marks, "line")


def bar_chart(chart: Chart) -> Markup:
    """Bars side by side per label, one per series; none where a value is None."""
    top = _top(chart)
    count = max(len(chart.labels), 1)
    band = PLOT_WIDTH / count
    width = min(band * 0.8 / max(len(chart.series), 1), MAX_BAR_WIDTH)
    group = width * len(chart.series)  # centred in its band
    marks = []
    for number, series in enumerate(chart.series):
        for index, value in enumerate(series.values):
            if value is None:
                continue
            # A zero still shows, as a sliver on the axis: it is a value, unlike None.
            y = min(_y(value, top), TOP + PLOT_HEIGHT - ZERO_HEIGHT)
            left = LEFT + index * band + (band - group) / 2 + number * width
            marks.append(
                f'<rect class="bar s{number}" x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{TOP + PLOT_HEIGHT - y:.1f}"><title>{_tip(chart, series, index)}</title>'
                "</rect>"
            )
    centres = [LEFT + index * band + band / 2 for index in range(len(chart.labels))]
    return _svg(chart, top, centres, marks, "bar")


def _svg(chart: Chart, top: float, xs: list[float], marks: list[str], kind: str) -> Markup:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-labelledby="{_id(chart, "title")}"'
        f' aria-describedby="{_id(chart, "desc")}"'
        f' font-size="{FONT_SIZE}">',
        f'<title id="{_id(chart, "title")}">{escape(chart.title)}</title>',
        f'<desc id="{_id(chart, "desc")}">{escape(chart.description)}</desc>',
        *_y_axis(chart, top),
        *_x_labels(chart, xs),
        *_legend(chart, kind),
        *marks,
    ]
    if not any(value is not None for series in chart.series for value in series.values):
        parts.append(
            f'<text class="chart-empty" x="{LEFT + PLOT_WIDTH / 2}" y="{TOP + PLOT_HEIGHT / 2}"'
            ' text-anchor="middle">Nothing to show in this period</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _top(chart: Chart) -> float:
    """The value at the top of the y axis: 100 % for rates; for counts, a round number at or
    above the largest."""
    if chart.percent:
        return 1.0
    largest = max((v for s in chart.series for v in s.values if v is not None), default=0)
    return nice_step(largest / Y_INTERVALS) * Y_INTERVALS


def nice_step(rough: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `rough` (at least 1: counts
    are whole)."""
    if rough <= 1:
        return 1
    power = 10 ** math.floor(math.log10(rough))
    return next(power * m for m in (1, 2, 5, 10) if power * m >= rough)


def _y(value: float | None, top: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - (value or 0) / top)


def _y_axis(chart: Chart, top: float) -> list[str]:
    lines = []
    for tick in range(Y_INTERVALS + 1):
        value = top * tick / Y_INTERVALS
        y = _y(value, top)
        lines.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{y:.1f}"'
            f' y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{f'{value * 100:.0f}%' if chart.percent else format_value(value, False)}</text>"
        )
    return lines


def _x_labels(chart: Chart, xs: list[float]) -> list[str]:
    every = math.ceil(len(chart.labels) / MAX_X_LABELS) or 1
    return [
        f'<text class="chart-axis" x="{x:.1f}" y="{TOP + PLOT_HEIGHT + 22}" text-anchor="middle">'
        f"{escape(_shortened(label))}</text>"
        for index, (label, x) in enumerate(zip(chart.labels, xs, strict=True))
        if index % every == 0
    ]


def _legend(chart: Chart, kind: str) -> list[str]:
    items, x = [], float(LEFT)
    for number, series in enumerate(chart.series):
        if kind == "line":
            swatch = (
                f'<line class="line s{number}" x1="{x:.1f}" x2="{x + 22:.1f}" y1="14" y2="14"'
                f' stroke-width="2"{_dash(DASHES[number % len(DASHES)])}/>'
            )
        else:
            swatch = (
                f'<rect class="swatch s{number}" x="{x + 6:.1f}" y="8" width="12" height="12"/>'
            )
        items.append(
            f'<g class="chart-legend">{swatch}<text x="{x + 28:.1f}" y="18">'
            f"{escape(series.name)}</text></g>"
        )
        x += 28 + len(series.name) * CHARACTER_WIDTH + 18
    return items


def _runs(points: list[tuple[int, float, float]], values: Sequence[float | None]):
    """The stretches of consecutive values, between the gaps."""
    run: list[tuple[int, float, float]] = []
    for point in points:
        if values[point[0]] is None:
            if run:
                yield run
            run = []
        else:
            run.append(point)
    if run:
        yield run


def _tip(chart: Chart, series: Series, index: int) -> str:
    value = format_value(series.values[index], chart.percent)
    return escape(f"{chart.labels[index]}: {series.name} {value}")


def _dash(pattern: str) -> str:
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def _shortened(label: str) -> str:
    if len(label) <= MAX_LABEL_CHARACTERS:
        return label
    return label[: MAX_LABEL_CHARACTERS - 1] + "…"


def _id(chart: Chart, part: str) -> str:
    return escape(f"{chart.id}-{part}")
