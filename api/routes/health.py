"""GET /v1/health: the state of the database, Temporal and the providers. No authentication."""

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from channels.registry import describe_providers

router = APIRouter(prefix="/v1/health", tags=["health"])


async def _database(request: Request) -> dict:
    try:
        async with request.app.state.sessions() as session:
            await asyncio.wait_for(session.execute(text("select 1")), timeout=3)
        return {"status": "ok"}
    except Exception as exc:  # any failure means: down, and say why
        return {"status": "down", "detail": type(exc).__name__}


async def _temporal(request: Request) -> dict:
    client = request.app.state.temporal
    try:
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=3)
        )
        return {"status": "ok", "namespace": client.namespace}
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}


@router.get("")
async def health(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_database(request), _temporal(request))
    providers = {
        channel: {"status": "ok", "configured": True, **detail}
        for channel, detail in describe_providers(request.app.state.settings).items()
    }
    components = {"database": database, "temporal": temporal, "providers": providers}
    healthy = database["status"] == "ok" and temporal["status"] == "ok"
    body = {"status": "ok" if healthy else "down", **components}
    return JSONResponse(body, status_code=200 if healthy else 503)
