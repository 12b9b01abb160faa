"""The dashboard's Analytics export checked against GET /v1/stats: every row of the CSV is the
API's figures for the same range and filters (the totals, each day, channel, provider and
template), so what the page shows is what the API counts."""

import csv
import io
from datetime import date, datetime, timedelta

import httpx

COUNTS = ("attempted", "sent", "delivered", "opened", "clicked", "failed", "bounced")
RATES = ("delivery_rate", "bounce_rate", "open_rate", "click_rate")
HEADER = ["section", "key", "name", *COUNTS, *RATES]
SECTIONS = {"day": "day", "channel": "channel", "provider": "provider", "template": "template"}
NOTHING = {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(RATES, None)}


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == HEADER, header
    return [dict(zip(header, row, strict=True)) for row in reader]


def _figures(row: dict[str, str]) -> dict[str, float | int | None]:
    return {
        **{count: int(row[count]) for count in COUNTS},
        **{rate: float(row[rate]) if row[rate] else None for rate in RATES},
    }


def _expected(group: dict) -> dict[str, float | int | None]:
    return {name: group[name] for name in (*COUNTS, *RATES)}


async def assert_export_matches_the_stats_api(
    api: httpx.AsyncClient, text: str, first_day: date, days: int, **filters: str
) -> list[dict[str, str]]:
    """Every row of the export `text` (of `days` UTC days from `first_day`, with `filters`)
    against the API asked for the same; returns the rows."""
    rows = csv_rows(text)
    start = datetime.combine(first_day, datetime.min.time()).isoformat() + "Z"
    end = datetime.combine(first_day + timedelta(days=days), datetime.min.time()).isoformat() + "Z"
    query = {"from": start, "to": end, **filters}

    async def stats(**group: str) -> dict:
        response = await api.get("/v1/stats", params={**query, **group})
        assert response.status_code == 200, response.text
        return response.json()

    totals = [row for row in rows if row["section"] == "total"]
    assert len(totals) == 1 and _figures(totals[0]) == _expected((await stats())["totals"])
    for section, group_by in SECTIONS.items():
        shown = {row["key"] or None: _figures(row) for row in rows if row["section"] == section}
        counted = {g["key"]: _expected(g) for g in (await stats(group_by=group_by))["groups"]}
        if section == "day":  # the export has every day of the period, those without any too
            every_day = [(first_day + timedelta(days=n)).isoformat() for n in range(days)]
            assert list(shown) == every_day
            counted = {day: counted.get(day, NOTHING) for day in every_day}
        assert shown == counted, section
    return rows
