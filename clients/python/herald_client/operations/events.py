"""POST /v1/events (the envelopes: herald_client.events)."""

from herald_client import calls
from herald_client.calls import Call
from herald_client.models import EventAccepted, EventIn


def send_event(event: EventIn) -> Call[EventAccepted]:
    """Hand over a booking or payment event; its id is accepted once (a repeat answers
    `duplicate=True` and does nothing)."""
    return calls.send("POST", "/v1/events", EventAccepted, event, replay_key=event.id)
