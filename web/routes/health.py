"""GET /dashboard/health: services/health.py's detailed report, made readable. The report is
Herald's shared infrastructure (database, Temporal, providers, provider alerts) with the
backlog of the operator's own tenant: no other tenant's figures."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionsDep, SettingsDep, TemporalDep
from services.health import health_report
from web.deps import CurrentTenant
from web.pages import PAGES_BY_KEY
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get(PAGES_BY_KEY["health"].path)
async def health_page(
    request: Request,
    tenant: CurrentTenant,
    sessions: SessionsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> HTMLResponse:
    report = await health_report(sessions, temporal, settings, backlog_of=tenant.id)
    return render(
        request, "health.html", page="health", health=report, checked_at=datetime.now(UTC)
    )
