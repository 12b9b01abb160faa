"""GET /dashboard/analytics: delivery, bounce, open and click rates over a period, per day,
channel, provider and template, as charts with their tables (services/stats.py, the stats
API's service); GET /dashboard/analytics/export.csv: the same figures as CSV."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep
from api.schemas.stats import PERIOD_DAYS, AnalyticsFilters
from domain.types import Channel
from services.stats import Analytics, analytics
from web.analytics_view import RATES, charts, csv_rows, figure_text
from web.csv_export import csv_download
from web.deps import CurrentTenant
from web.forms import FieldErrors, checked
from web.pages import PAGES_BY_KEY
from web.templating import render

router = APIRouter(include_in_schema=False)
ANALYTICS = PAGES_BY_KEY["analytics"].path
EXPORT = f"{ANALYTICS}/export.csv"
FILTERS = ("days", "channel", "provider")


def _filters(request: Request) -> tuple[AnalyticsFilters | None, FieldErrors, dict[str, str]]:
    """The filters of the query string (empty: all; unknown parameters ignored)."""
    values = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    typed: dict[str, object] = {name: value for name, value in values.items() if value}
    if values["days"].isdigit():
        typed["days"] = int(values["days"])
    filters, errors = checked(AnalyticsFilters, typed)
    return filters, errors, values


def _query(filters: AnalyticsFilters) -> str:
    chosen = {"days": filters.days, "channel": filters.channel, "provider": filters.provider}
    return urlencode({name: value for name, value in chosen.items() if value})


@router.get(ANALYTICS)
async def analytics_page(
    request: Request, tenant: CurrentTenant, session: SessionDep
) -> HTMLResponse:
    filters, errors, values = _filters(request)
    shown: Analytics | None = None
    if filters is not None:
        shown = await analytics(session, tenant, filters)
    return render(
        request,
        "analytics.html",
        page="analytics",
        shown=shown,
        charts=charts(shown) if shown else [],
        rates=RATES,
        figure_text=figure_text,
        export_url=f"{EXPORT}?{_query(filters)}" if filters else "",
        errors=errors,
        values=values,
        periods=[(str(days), f"Last {days} days") for days in PERIOD_DAYS],
        channels=[("", "All channels"), *((c.value, c.value) for c in Channel)],
        providers=[("", "All providers"), *((p, p) for p in (shown.providers if shown else []))],
        status_code=422 if errors else 200,
    )


@router.get(EXPORT)
async def analytics_export(
    request: Request, tenant: CurrentTenant, session: SessionDep
) -> Response:
    filters, _, _ = _filters(request)
    if filters is None:  # the page, with the filters' problems beside them
        return await analytics_page(request, tenant, session)
    shown = await analytics(session, tenant, filters)
    chosen = "".join(f"-{value}" for value in (filters.channel, filters.provider) if value)
    name = f"herald-analytics-{shown.by_day[0].key}-to-{shown.by_day[-1].key}{chosen}.csv"
    return csv_download(csv_rows(shown), name)
