"""POST /v1/events: booking and payment events from the services that own them."""

from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import SessionDep, SessionsDep, SettingsDep, TemporalDep, TenantDep
from api.schemas.events import BookingPayload, EventAccepted, EventIn, PaymentPayload
from services.events import ingest_event

router = APIRouter(prefix="/v1/events", tags=["events"])


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
async def create_event(
    body: EventIn,
    tenant: TenantDep,
    session: SessionDep,
    ledger: SessionsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> EventAccepted:
    """Accept an event once per id: booking events go to the booking's chain, payment events
    become a notification to the payer."""
    accepted = await ingest_event(ledger, session, temporal, settings, tenant, body, _payload(body))
    if accepted.duplicate:
        response.status_code = 200
    return accepted


def _payload(event: EventIn) -> BookingPayload | PaymentPayload:
    """The event's `data`, validated for its type."""
    model: type[BookingPayload] | type[PaymentPayload] = (
        BookingPayload if event.type.is_booking else PaymentPayload
    )
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        # Reported like any other body error, with the field's full path: `data.invitee.email`.
        raise RequestValidationError(
            [{**error, "loc": ("body", "data", *error["loc"])} for error in exc.errors()]
        ) from None
