"""Herald's Python client.

    from herald_client import Herald, RecipientRef

    herald = Herald("https://herald.example.com", api_key)
    herald.notify(                       # returns at once; never raises on Herald's failures
        RecipientRef(external_id="user-42", email="ada@example.com"),
        "payment.completed",
        context={"amount": "42.00 EUR"},
        key_from=("order", 1234, "paid"),
    )
    accepted = herald.send(...)          # the same, strict: the answer or a typed error

`AsyncHerald` has the same methods as coroutines (`notify` stays a plain method).
"""

from herald_client import events, webhooks
from herald_client.async_client import AsyncHerald
from herald_client.client import Herald
from herald_client.errors import (
    Conflict,
    FieldProblem,
    Gone,
    HeraldError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationError,
)
from herald_client.keys import key_from
from herald_client.models import (
    Audience,
    Booking,
    ChatAddresses,
    Customer,
    InboxOptions,
    Invitee,
    Organizer,
    Payment,
    PreferencesUpdate,
    RecipientFields,
    RecipientRef,
)
from herald_client.outbox import DeadLetter
from herald_client.outcomes import Counters, DrainReport, OutboxPolicy
from herald_client.retry import RetryPolicy

__all__ = [
    "AsyncHerald",
    "Audience",
    "Booking",
    "ChatAddresses",
    "Conflict",
    "Counters",
    "Customer",
    "DeadLetter",
    "DrainReport",
    "FieldProblem",
    "Gone",
    "Herald",
    "HeraldError",
    "InboxOptions",
    "Invitee",
    "NotFound",
    "Organizer",
    "OutboxPolicy",
    "Payment",
    "PreferencesUpdate",
    "RateLimited",
    "RecipientFields",
    "RecipientRef",
    "RetryPolicy",
    "Unauthorized",
    "Unavailable",
    "ValidationError",
    "events",
    "key_from",
    "webhooks",
]
