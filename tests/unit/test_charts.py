"""web/charts.py: the SVG a chart is drawn as, parsed as XML (what a browser reads)."""

import xml.etree.ElementTree as ET

import pytest

from web.charts import (
    HEIGHT,
    LEFT,
    PLOT_HEIGHT,
    PLOT_WIDTH,
    TOP,
    Chart,
    Series,
    bar_chart,
    format_value,
    line_chart,
    nice_step,
)

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def all_of(root: ET.Element, tag: str) -> list[ET.Element]:
    return root.findall(f".//{SVG}{tag}")


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polyline.get("points", "").split()]  # type: ignore[misc]


RATES = Chart(
    "rates",
    "Rates <over> time",
    "Delivery & open rate per day",
    ["Nov 1", "Nov 2", "Nov 3", "Nov 4"],
    [Series("Delivered", [1.0, 0.5, None, 0.0]), Series("Opened", [0.25, 0.25, 0.25, 0.25])],
    percent=True,
)


def test_it_names_itself_for_assistive_technology_with_its_text_escaped():
    root = parsed(line_chart(RATES))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "rates-title"
    assert root.get("aria-describedby") == "rates-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "rates-title"
    assert title.text == "Rates <over> time"  # escaped in the markup, read back as written
    assert desc is not None and desc.text == "Delivery & open rate per day"
    assert "<over>" not in str(line_chart(RATES))


def test_a_line_per_run_of_values_a_dot_per_value_placed_on_the_axes():
    root = parsed(line_chart(RATES))
    lines = [p for p in all_of(root, "polyline")]
    delivered = [p for p in lines if "s0" in p.get("class", "")]
    # The gap splits the first series: a line over days 1-2; day 4 alone is only a dot.
    assert len(delivered) == 1
    expected = [(LEFT, TOP), (LEFT + PLOT_WIDTH / 3, TOP + PLOT_HEIGHT / 2)]
    assert [c for point in points(delivered[0]) for c in point] == pytest.approx(
        [c for point in expected for c in point], abs=0.1
    )
    opened = [p for p in lines if "s1" in p.get("class", "")]
    assert len(opened) == 1 and len(points(opened[0])) == 4
    assert {y for _, y in points(opened[0])} == {TOP + PLOT_HEIGHT * 0.75}
    dots = all_of(root, "circle")
    assert len(dots) == 3 + 4
    last = [d for d in dots if "s0" in d.get("class", "")][-1]
    assert (float(last.get("cx", 0)), float(last.get("cy", 0))) == (
        LEFT + PLOT_WIDTH,
        TOP + PLOT_HEIGHT,
    )
    tip = last.find(f"{SVG}title")
    assert tip is not None and tip.text == "Nov 4: Delivered 0.0%"
    # Series differ by dashes as well as colour.
    assert opened[0].get("stroke-dasharray") and not delivered[0].get("stroke-dasharray")


def test_axes_are_labelled_percent_for_rates():
    texts = [t.text for t in all_of(parsed(line_chart(RATES)), "text")]
    assert {"0%", "25%", "50%", "75%", "100%"} <= set(texts)
    assert {"Nov 1", "Nov 4", "Delivered", "Opened"} <= set(texts)


def test_bars_side_by_side_their_height_to_scale_and_none_for_no_value():
    chart = Chart(
        "volume",
        "Sent",
        "How many",
        ["email", "sms"],
        [Series("Sent", [150, 40]), Series("Failed", [None, 0])],
    )
    root = parsed(bar_chart(chart))
    bars = [r for r in all_of(root, "rect") if "bar" in r.get("class", "")]
    assert len(bars) == 3  # no bar for the value that is None
    heights = [float(r.get("height", 0)) for r in bars]
    top = 200  # 150 rounded up on a 4-interval axis of 50s
    # A zero is a sliver on the axis, not nothing.
    assert heights == pytest.approx([PLOT_HEIGHT * v / top for v in (150, 40)] + [1.5], abs=0.1)
    texts = [t.text for t in all_of(root, "text")]
    assert {"0", "50", "100", "150", "200"} <= set(texts)
    # Every bar stands on the x axis.
    assert all(
        float(r.get("y", 0)) + float(r.get("height", 0)) == pytest.approx(TOP + PLOT_HEIGHT)
        for r in bars
    )


def test_long_labels_are_shortened_and_crowded_ones_thinned():
    many = [f"day {n}" for n in range(90)]
    chart = Chart("c", "t", "d", many, [Series("x", [1] * 90)])
    labels = [
        t.text for t in all_of(parsed(bar_chart(chart)), "text") if (t.text or "").startswith("day")
    ]
    assert 1 < len(labels) <= 8 and labels[0] == "day 0"
    long = Chart("c", "t", "d", ["A very long template name indeed"], [Series("x", [1])])
    texts = [t.text for t in all_of(parsed(bar_chart(long)), "text")]
    assert "A very long t…" in texts


def test_nothing_to_show_says_so():
    empty = Chart("e", "t", "d", ["a", "b"], [Series("x", [None, None])], percent=True)
    root = parsed(line_chart(empty))
    assert "Nothing to show in this period" in [t.text for t in all_of(root, "text")]
    assert not all_of(root, "polyline") and not all_of(root, "circle")
    assert root.get("viewBox") == f"0 0 640 {HEIGHT}"


@pytest.mark.parametrize(
    "rough,step", [(0, 1), (0.3, 1), (1, 1), (1.2, 2), (3, 5), (7, 10), (37.5, 50), (120, 200)]
)
def test_nice_step(rough, step):
    assert nice_step(rough) == step


def test_format_value():
    assert format_value(0.8766, percent=True) == "87.7%"
    assert format_value(1234, percent=False) == "1,234"
    assert format_value(None, percent=True) == "—"
