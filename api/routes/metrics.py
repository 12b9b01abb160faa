"""GET /metrics: this process's Prometheus metrics (each API replica and worker serves its own),
to `Authorization: Bearer <METRICS_TOKEN>` only; 404 when no METRICS_TOKEN is set."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import OperatorDep

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(_: OperatorDep) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
