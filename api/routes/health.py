"""GET /v1/health: database, Temporal, providers, alerts and backlog. No authentication.

200 while Herald can accept and send notifications (database and Temporal up), else 503;
`degraded` parts (an open circuit, no worker polling) are reported without failing it.
"""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import health_checks as checks
from api.alerts import provider_alerts

router = APIRouter(prefix="/v1/health", tags=["health"])


@router.get("")
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    database, temporal, providers, backlog, alerts = await asyncio.gather(
        checks.database(state.sessions),
        checks.temporal(state.temporal, state.settings.task_queue),
        checks.providers(state.sessions, state.settings),
        checks.backlog(state.sessions),
        provider_alerts(state.sessions),  # failure rates over the threshold
    )
    parts = [database, temporal, backlog, *providers.values()]
    if database["status"] == "down" or temporal["status"] == "down":
        status = "down"
    elif any(part["status"] != "ok" for part in parts) or alerts:
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status, "database": database, "temporal": temporal, "providers": providers,
        "backlog": backlog, "alerts": alerts,
    }
    return JSONResponse(body, status_code=503 if status == "down" else 200)
