"""The dashboard's Analytics at the HTTP level (issue 14): the charts (inline SVG) each with the
table of its values, the period and the filters, the template comparison, and the CSV export,
all checked against GET /v1/stats for the same range and filters; bad filters are refused
beside their field. Deliveries are inserted with exact statuses, days before today."""

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.operators import Role
from tests.conftest import new_tenant
from tests.e2e.test_dashboard_shell import section
from tests.utils.analytics_csv import assert_export_matches_the_stats_api
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import field_error
from tests.utils.deliveries import Batch, add_deliveries, add_template
from tests.utils.html_tables import table

CHARTS = ("rates-over-time", "volume-over-time", "by-channel", "by-provider", "by-template")
# Names a spreadsheet would run as a formula, or a browser as markup.
FORMULA = '=HYPERLINK("https://evil.example","click")'
MARKUP = "Booking <b>confirmed</b>"
RATE_NAMES = ("delivery_rate", "bounce_rate", "open_rate", "click_rate")


def today() -> date:
    return datetime.now(UTC).date()


def midnight(days_ago: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(), UTC)


def batches() -> list[Batch]:
    now = datetime.now(UTC)
    today = midnight(0) + (now - midnight(0)) / 2  # today, in the past, whatever the hour
    return [
        (
            today,
            "email",
            "sendgrid",
            "booking.confirmation",
            MARKUP,
            {"delivered": 3, "opened": 2, "clicked": 1, "bounced": 1, "failed": 1},
        ),
        (today, "sms", "twilio", "booking.reminder", None, {"delivered": 4, "failed": 2}),
        # failed before a provider; never attempted (counted nowhere)
        (today, "email", None, "payment.completed", None, {"failed": 1, "pending": 2}),
        (today, "email", None, "payment.completed", None, {"suppressed": 1}),
        (
            midnight(1) + timedelta(hours=12),
            "email",
            "smtp",
            "payment.completed",
            FORMULA,
            {"sent": 3},
        ),
        (
            midnight(9) + timedelta(hours=12),
            "email",
            "sendgrid",
            "payment.completed",
            FORMULA,
            {"opened": 1, "bounced": 2},
        ),
        (
            midnight(40) + timedelta(hours=12),
            "email",
            "sendgrid",
            "booking.confirmation",
            MARKUP,
            {"sent": 5},
        ),
        (
            midnight(100) + timedelta(hours=12),
            "email",
            "sendgrid",
            "booking.confirmation",
            MARKUP,
            {"sent": 7},
        ),
    ]


@pytest.fixture
async def deliveries(stack, sessions) -> dict[str, str]:
    """The batches for the stack's tenant, and a delivery of another tenant's today; returns
    the templates' ids by name."""
    async with sessions.begin() as session:
        templates = {
            name: await add_template(session, stack.tenant_id, name) for name in (MARKUP, FORMULA)
        }
        versions = {name: ids[1] for name, ids in templates.items()}
        await add_deliveries(session, stack.tenant_id, batches(), versions)
    other, _ = await new_tenant(sessions, "Other")
    async with sessions.begin() as session:
        today = [(datetime.now(UTC), "email", "smtp", "payment.completed", None, {"sent": 50})]
        await add_deliveries(session, other, today, {})
    return {name: str(ids[0]) for name, ids in templates.items()}


@pytest.fixture
async def browser(stack, sessions):
    owner = await signed_in_operator(sessions, stack.settings, stack.tenant_id)
    async with dashboard_client(stack.app, owner.cookies) as client:
        yield client


async def page(browser, **query) -> str:
    response = await browser.get("/dashboard/analytics", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def period(shown: str) -> dict[str, str]:
    """The range the page says it shows (its <time> elements), as the API's from and to."""
    start, end = re.findall(r'<time datetime="([^"]+)">', shown)[:2]
    return {"from": start, "to": end}


async def stats(stack, shown: str, **params) -> dict:
    response = await stack.api.get("/v1/stats", params={**period(shown), **params})
    assert response.status_code == 200, response.text
    return response.json()


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def chart_table(shown: str, chart: str) -> list[list[str]]:
    """A chart's data table, without its header row."""
    return table(section(shown, f"{chart}-heading"))[1:]


def figure(shown: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', shown)
    assert found, name
    return found.group(1)


async def test_every_chart_is_an_svg_with_its_title_description_and_data_table(
    stack, browser, deliveries
):
    shown = await page(browser)
    for chart in CHARTS:
        part = section(shown, f"{chart}-heading")
        svg = re.search(r"<svg [^>]*>", part)
        assert svg, chart
        assert 'role="img"' in svg.group(0)
        assert f'aria-labelledby="{chart}-title" aria-describedby="{chart}-desc"' in svg.group(0)
        assert re.search(rf'<title id="{chart}-title">[^<]+</title>', part), chart
        assert re.search(rf'<desc id="{chart}-desc">[^<]+</desc>', part), chart
        # The table is in a <details>: shown on demand, always there for assistive technology.
        assert f'<details class="chart-data" id="{chart}-data">' in part
        assert len(table(part)) > 1, chart
    # Nothing is fetched: no script, image or stylesheet from another host.
    assert not re.search(r'(src|href)="(https?:)?//', shown)

    # The rates over time: a line per rate with a dot per value; each day of the 30 in the table.
    days = chart_table(shown, "rates-over-time")
    first = today() - timedelta(days=29)
    assert [row[0] for row in days] == [(first + timedelta(days=n)).isoformat() for n in range(30)]
    by_day = {g["key"]: g for g in (await stats(stack, shown, group_by="day"))["groups"]}
    assert len(by_day) == 3
    rates = section(shown, "rates-over-time-heading")
    assert rates.count("<polyline") >= 1
    assert rates.count("<circle") == sum(  # none where nothing was delivered to open
        group[rate] is not None for group in by_day.values() for rate in RATE_NAMES
    )
    for row in days:
        counted = by_day.get(row[0])
        rates_shown = row[2:]
        if counted is None:
            assert row[1] == "0" and rates_shown == ["—"] * 4
        else:
            assert row[1] == str(counted["attempted"])
            assert rates_shown == [percent(counted[rate]) for rate in RATE_NAMES]
    # The volume: a bar for each day (a sliver for none), saying its value when pointed at.
    volume = section(shown, "volume-over-time-heading")
    attempted = re.findall(
        r"<rect class=\"bar s0\"[^>]*><title>[^<]*: Attempted ([\d,]+)</title>", volume
    )
    assert [int(n) for n in attempted] == [
        int(row[1]) for row in chart_table(shown, "volume-over-time")
    ]
    assert sum(n != "0" for n in attempted) == 3


async def test_the_figures_are_the_stats_apis_for_the_period_shown(stack, browser, deliveries):
    shown = await page(browser)
    totals = (await stats(stack, shown))["totals"]
    assert figure(shown, "attempted") == str(totals["attempted"]) == "21"  # not the other tenant's
    assert figure(shown, "delivery_rate") == percent(totals["delivery_rate"])
    channels = {g["key"]: g for g in (await stats(stack, shown, group_by="channel"))["groups"]}
    assert {row[0]: row[1] for row in chart_table(shown, "by-channel")} == {
        key: str(group["attempted"]) for key, group in channels.items()
    }
    providers = [row[0] for row in chart_table(shown, "by-provider")]
    assert providers == ["sendgrid", "smtp", "twilio", "none (failed before a provider)"]

    # The templates compared: every one, busiest first, names escaped.
    compared = table(section(shown, "templates-compared"))[1:]
    counted = {g["key"]: g for g in (await stats(stack, shown, group_by="template"))["groups"]}
    assert [row[0] for row in compared] == [MARKUP, "No template (Herald's own text)", FORMULA]
    for row in compared:
        key = deliveries.get(row[0])
        group = counted[key]
        assert row[3:] == [
            str(group["attempted"]),
            str(group["sent"]),
            *(
                percent(group[r])
                for r in ("delivery_rate", "open_rate", "click_rate", "bounce_rate")
            ),
        ]
    assert "<b>confirmed</b>" not in shown and html.escape(MARKUP) in shown


async def test_the_period_and_the_filters(stack, browser, deliveries):
    week = await page(browser, days="7")
    assert len(chart_table(week, "rates-over-time")) == 7
    assert (
        figure(week, "attempted") == str((await stats(stack, week))["totals"]["attempted"]) == "18"
    )

    quarter = await page(browser, days="90")
    compared = {row[0]: row[3] for row in table(section(quarter, "templates-compared"))[1:]}
    assert compared[MARKUP] == "13"  # 40 days ago counts in 90 days, 100 days ago does not

    sms = await page(browser, channel="sms")
    assert [row[0] for row in chart_table(sms, "by-channel")] == ["sms"]
    assert figure(sms, "attempted") == str(
        (await stats(stack, sms, channel="sms"))["totals"]["attempted"]
    )

    smtp = await page(browser, provider="smtp")
    assert [row[0] for row in chart_table(smtp, "by-provider")] == ["smtp"]
    assert figure(smtp, "attempted") == "3"
    # Filtered to one provider, the filter still offers the period's others.
    options = re.findall(
        r'<option value="([^"]*)"( selected)?>', section_of_select(smtp, "provider")
    )
    assert options == [("", ""), ("sendgrid", ""), ("smtp", " selected"), ("twilio", "")]


def section_of_select(shown: str, name: str) -> str:
    start = shown.index(f'<select id="field-{name}"')
    return shown[start : shown.index("</select>", start)]


async def test_csv_export_holds_exactly_what_is_shown_as_the_stats_api_counts_it(
    stack, browser, deliveries
):
    shown = await page(browser, days="30", channel="email")
    link = re.search(r'<a class="button" href="([^"]+)" download>Export CSV</a>', shown)
    assert link, "no export link"
    response = await browser.get(html.unescape(link.group(1)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    first = today() - timedelta(days=29)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="herald-analytics-{first}-to-{today()}-email.csv"'
    )
    assert response.headers["cache-control"] == "no-store"
    rows = await assert_export_matches_the_stats_api(
        stack.api, response.text, first, 30, channel="email"
    )
    # What the page's tables show, row for row.
    days = chart_table(shown, "rates-over-time")
    assert [row["key"] for row in rows if row["section"] == "day"] == [day[0] for day in days]
    templates = [row for row in rows if row["section"] == "template"]
    assert [row["key"] for row in templates] == [deliveries[MARKUP], deliveries[FORMULA], ""]
    # A name a spreadsheet would run as a formula is written as text.
    assert templates[1]["name"] == "'" + FORMULA
    assert all(not row["name"].startswith(("=", "+", "-", "@")) for row in rows)


async def test_bad_filters_are_refused_beside_their_field_in_the_apis_words(stack, browser):
    response = await browser.get("/dashboard/analytics", params={"days": "13", "channel": "fax"})
    assert response.status_code == 422
    assert field_error(response.text, "days") == "Input should be 7, 30 or 90"
    api = await stack.api.get("/v1/stats", params={"channel": "fax"})
    (problem,) = [p for p in api.json()["errors"] if p["field"] == "channel"]
    assert field_error(response.text, "channel") == problem["problem"]
    assert "<svg" not in response.text and "Export CSV" not in response.text
    export = await browser.get("/dashboard/analytics/export.csv", params={"provider": "a b"})
    assert export.status_code == 422 and export.headers["content-type"].startswith("text/html")
    assert field_error(export.text, "provider").startswith("String should match pattern")


async def test_a_viewer_sees_the_analytics_and_an_empty_period_says_so(stack, sessions):
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    async with dashboard_client(stack.app, viewer.cookies) as client:
        shown = await page(client)
    assert figure(shown, "attempted") == "0"
    assert "Nothing to show in this period" in section(shown, "rates-over-time-heading")
    assert "No deliveries in this period." in section(shown, "templates-compared")
