"""POST /v1/events: booking and payment events from the services that own them."""

from typing import Annotated

from fastapi import APIRouter, Header, Response
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
        202: {
            "description": "Accepted.",
            "headers": {
                "Preference-Applied": {
                    "description": "`respond-async` when the request's `Prefer` asked for it.",
                    "schema": {"type": "string"},
                }
            },
        },
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
    prefer: Annotated[
        list[str] | None,
        Header(
            description="`respond-async` (RFC 7240): answer as soon as the event is durably "
            "the booking chain's, `outcome` `queued`, without waiting up to 1.5 s for the "
            "chain's verdict; what a sender of many events at once wants. The answer then "
            "carries `Preference-Applied: respond-async`."
        ),
    ] = None,
) -> EventAccepted:
    """Accept an event once per id: booking events go to the booking's chain, payment events
    become a notification to the payer."""
    respond_async = RESPOND_ASYNC in preferences(prefer or [])
    accepted = await ingest_event(
        ledger,
        session,
        temporal,
        settings,
        tenant,
        body,
        _payload(body),
        await_chain=not respond_async,
    )
    if accepted.duplicate:
        response.status_code = 200
    elif respond_async and accepted.outcome is not None:  # a booking event: not waited for
        response.headers["Preference-Applied"] = RESPOND_ASYNC
    return accepted


RESPOND_ASYNC = "respond-async"


def preferences(prefer_headers: list[str]) -> set[str]:
    """The preference names of Prefer headers (RFC 7240: `name[=value][; parameter]`, comma
    separated, names case-insensitive); values and parameters are not needed here. A quoted
    value holding a comma is split too: at worst a name is read from inside it, harmlessly."""
    return {
        preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
        for header in prefer_headers
        for preference in header.split(",")
    }


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
