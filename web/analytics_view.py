"""The Analytics page's figures as it shows them: each chart with the table of its values, and
the same figures as the rows of its CSV export (so the export holds exactly what is shown)."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from api.schemas.stats import StatsFigures, StatsGroupPublic
from services.stats import Analytics, TemplatePerformance
from web.charts import Chart, Series, bar_chart, format_value, line_chart

# (figure, what the page calls it)
RATES = (
    ("delivery_rate", "Delivered"),
    ("bounce_rate", "Bounced"),
    ("open_rate", "Opened"),
    ("click_rate", "Clicked"),
)
VOLUMES = (
    ("attempted", "Attempted"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("bounced", "Bounced"),
)
COUNTS = ("attempted", "sent", "delivered", "opened", "clicked", "failed", "bounced")
TEMPLATES_CHARTED = 8  # the busiest; the comparison table lists every one
NO_PROVIDER = "none (failed before a provider)"


@dataclass(frozen=True)
class Row:
    label: str
    figures: StatsFigures


@dataclass(frozen=True)
class ChartView:
    """A chart, and its values as a table: `columns` (figure, header) of each row."""

    id: str
    heading: str
    svg: Markup
    key_header: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[Row]

    def cell(self, row: Row, figure: str) -> str:
        return figure_text(row.figures, figure)


def figure_text(figures: StatsFigures, figure: str) -> str:
    """A count as a number, a rate as a percentage ("—": nothing to divide by)."""
    return format_value(getattr(figures, figure), percent=figure.endswith("_rate"))


def charts(shown: Analytics) -> list[ChartView]:
    days = [Row(group.key or "", group) for group in shown.by_day]
    span = f"{shown.by_day[0].key} to {shown.by_day[-1].key} (UTC days)"
    return [
        _rates(
            "rates-over-time",
            "Rates over time",
            f"Delivery, bounce, open and click rate of each day from {span}.",
            "Day",
            days,
            [_short_day(row.label) for row in days],
            line=True,
        ),
        ChartView(
            "volume-over-time",
            "Deliveries attempted per day",
            bar_chart(
                Chart(
                    "volume-over-time",
                    "Deliveries attempted per day",
                    f"How many deliveries were attempted each day from {span}.",
                    [_short_day(row.label) for row in days],
                    [Series("Attempted", [row.figures.attempted for row in days])],
                )
            ),
            "Day",
            VOLUMES,
            days,
        ),
        _rates(
            "by-channel",
            "Rates by channel",
            "Delivery, bounce, open and click rate of each channel over the period.",
            "Channel",
            [Row(group.key or "none", group) for group in shown.by_channel],
        ),
        _rates(
            "by-provider",
            "Rates by provider",
            "Delivery, bounce, open and click rate of each provider over the period.",
            "Provider",
            [Row(provider_label(group), group) for group in shown.by_provider],
        ),
        _rates(
            "by-template",
            "Rates of the busiest templates",
            f"Delivery, bounce, open and click rate of the {TEMPLATES_CHARTED} templates with "
            "the most deliveries over the period; the comparison below lists every template.",
            "Template",
            [Row(t.name, t.figures) for t in shown.by_template[:TEMPLATES_CHARTED]],
        ),
    ]


def _rates(
    id: str,
    heading: str,
    description: str,
    key_header: str,
    rows: list[Row],
    labels: list[str] | None = None,
    line: bool = False,
) -> ChartView:
    chart = Chart(
        id,
        heading,
        description,
        labels if labels is not None else [row.label for row in rows],
        [Series(name, [getattr(row.figures, figure) for row in rows]) for figure, name in RATES],
        percent=True,
    )
    svg = line_chart(chart) if line else bar_chart(chart)
    return ChartView(id, heading, svg, key_header, [("attempted", "Attempted"), *RATES], rows)


def provider_label(group: StatsGroupPublic) -> str:
    return group.key or NO_PROVIDER


def _short_day(key: str) -> str:
    return date.fromisoformat(key).strftime("%b %-d")


# ------------------------------------------------------------------ CSV export

CSV_HEADER: list[object] = ["section", "key", "name", *COUNTS, *(figure for figure, _ in RATES)]


def csv_rows(shown: Analytics) -> Iterator[list[object]]:
    """Every figure the page shows, a row per group: the totals, each day, channel, provider
    and template; counts and rates as GET /v1/stats gives them (rates as fractions, empty
    where there is nothing to divide by)."""
    yield CSV_HEADER
    yield _csv_row("total", None, "all deliveries", shown.totals)
    for section, groups in (
        ("day", shown.by_day),
        ("channel", shown.by_channel),
        ("provider", shown.by_provider),
    ):
        for group in groups:
            name = provider_label(group) if section == "provider" else group.key or "none"
            yield _csv_row(section, group.key, name, group)
    for template in shown.by_template:
        yield _csv_row("template", _template_key(template), template.name, template.figures)


def _csv_row(section: str, key: str | None, name: str, figures: StatsFigures) -> list[object]:
    return [
        section,
        key or "",
        name,
        *(getattr(figures, count) for count in COUNTS),
        *("" if (rate := getattr(figures, figure)) is None else rate for figure, _ in RATES),
    ]


def _template_key(template: TemplatePerformance) -> str | None:
    return str(template.template_id) if template.template_id else None
