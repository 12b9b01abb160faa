"""GET /v1/health: database, Temporal, providers, alerts and backlog. No authentication.

200 while Herald can accept and send notifications (database and Temporal up), else 503;
`degraded` parts (an open circuit, no worker polling) are reported without failing it.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import SessionsDep, SettingsDep, TemporalDep
from services.health import health_report

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("")
async def health(
    sessions: SessionsDep, temporal: TemporalDep, settings: SettingsDep
) -> JSONResponse:
    report = await health_report(sessions, temporal, settings)
    return JSONResponse(report, status_code=503 if report["status"] == "down" else 200)
