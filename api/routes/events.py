"""POST /v1/events: booking and payment events from the services that own them."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.event_ingestion import ingest_event
from api.event_schemas import EventAccepted, EventIn

router = APIRouter(prefix="/v1/events", tags=["events"])


async def _sessions(request: Request) -> async_sessionmaker:  # async: called inline, not in a thread
    return request.app.state.sessions


LedgerDep = Annotated[async_sessionmaker, Depends(_sessions)]


@router.post(
    "",
    status_code=202,
    response_model=EventAccepted,
    responses={
        200: {
            "description": "A duplicate: this event id was accepted before, nothing was done again."
        },
        409: {
            "description": "The event id was used for another event, or the booking is unknown: "
            "send booking.created first, then retry this event."
        },
        410: {"description": "The booking's chain has ended; the event changes nothing."},
    },
)
async def post_event(
    body: EventIn,
    tenant: TenantDep,
    session: SessionDep,
    ledger: LedgerDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> EventAccepted:
    """Accept an event once per id: booking events go to the booking's chain, payment events
    become a notification to the payer."""
    accepted = await ingest_event(ledger, session, temporal, settings, tenant, body)
    if accepted.duplicate:
        response.status_code = 200
    return accepted
