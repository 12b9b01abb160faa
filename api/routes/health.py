"""GET /v1/health: cheap and public, for load balancers and container health checks.
GET /v1/health/details: the operator's full report, behind METRICS_TOKEN.

Both answer 200 while Herald can accept and send notifications (database and Temporal up),
else 503; the details report `degraded` parts (an open circuit, no worker polling, an alert)
without failing.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import OperatorDep, SessionsDep, SettingsDep, TemporalDep
from api.schemas.health import HealthPublic
from services.health import health_report

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get(
    "",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database or Temporal is down"}},
)
async def get_health(
    request: Request, sessions: SessionsDep, temporal: TemporalDep
) -> JSONResponse:
    """No key needed. Reads no table: a database ping and a Temporal call, each cut off after a
    second, and the answer is shared for a second between callers."""
    return _answer(await request.app.state.public_health.answer(sessions, temporal))


@router.get(
    "/details",
    response_model=dict[str, Any],
    responses={
        404: {"description": "No METRICS_TOKEN is set: the route is off (`not_found`)."},
        503: {
            "description": "The database or Temporal is down: the same report, `status: down`.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
async def get_health_details(
    _: OperatorDep, sessions: SessionsDep, temporal: TemporalDep, settings: SettingsDep
) -> JSONResponse:
    """Database, Temporal (workers polling each lane's task queue), providers (circuits, failure
    rates), alerts and the backlog across tenants. Needs `Authorization: Bearer
    <METRICS_TOKEN>`; 404 when no METRICS_TOKEN is set."""
    return _answer(await health_report(sessions, temporal, settings))


def _answer(report: dict[str, Any]) -> JSONResponse:
    return JSONResponse(report, status_code=503 if report["status"] == "down" else 200)
