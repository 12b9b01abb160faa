"""GET /dashboard: the Overview."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SessionsDep, SettingsDep, TemporalDep
from services.overview import overview
from web.deps import CurrentTenant
from web.pages import PAGES_BY_KEY
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get(PAGES_BY_KEY["overview"].path)
async def overview_page(
    request: Request,
    tenant: CurrentTenant,
    session: SessionDep,
    sessions: SessionsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return render(
        request,
        "overview.html",
        page="overview",
        overview=await overview(session, sessions, temporal, settings, tenant),
    )
