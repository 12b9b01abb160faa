"""The variables templates can use: what each means, an example, and which events carry it.

The examples double as sample data for previews and for template validation.
Sample times are what booking_time_variables() gives for a 30-minute booking at
2025-06-02 14:00 UTC, organizer in America/New_York, invitee in Europe/Berlin, locale "en".
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

BOOKING_EVENTS = (
    "booking.confirmation",
    "booking.reminder",
    "booking.cancellation",
    "booking.rescheduled",
    "booking.follow_up",
)
PAYMENT_EVENTS = ("payment.completed", "payment.failed", "payment.refunded")
AGENDA_EVENTS = ("daily_agenda",)
OPERATOR_EVENTS = ("herald.operator_invite", "herald.password_reset")  # Herald's own emails
EVERY_EVENT = ("*",)
CUSTOM_ANSWER_PREFIX = "custom_"


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    example: Any
    event_keys: tuple[str, ...]  # ("*",): every event, custom ones included


def _group(event_keys: tuple[str, ...], *rows: tuple[str, str, Any]) -> list[Variable]:
    return [Variable(name, description, example, event_keys) for name, description, example in rows]


SAMPLE_CUSTOM_ANSWERS = {"Company": "Acme GmbH", "What would you like to discuss?": "Pricing"}

VARIABLES: tuple[Variable, ...] = tuple(
    _group(
        BOOKING_EVENTS,
        ("booking_id", "Booking identifier", "bk_7Hq2Lx"),
        ("invitee_name", "Name of the person who booked", "Ana Souza"),
        ("invitee_email", "Invitee's email address", "ana@example.com"),
        ("invitee_phone", "Invitee's phone number (E.164)", "+4915112345678"),
        ("invitee_timezone", "Invitee's time zone (IANA name)", "Europe/Berlin"),
        ("organizer_timezone", "Organizer's time zone (IANA name)", "America/New_York"),
        ("event_name", "Name of the booked event type", "Intro call"),
        ("event_description", "Description of the event type", "A short call to get started."),
        ("duration", "Length of the meeting", "30 minutes"),
        ("start_time", "Start, in the organizer's time zone",
         "Monday, June 2, 2025, 10:00 AM EDT"),
        ("end_time", "End, in the organizer's time zone", "Monday, June 2, 2025, 10:30 AM EDT"),
        ("start_time_invitee", "Start, in the invitee's time zone",
         "Monday, June 2, 2025, 4:00 PM +0200"),
        ("end_time_invitee", "End, in the invitee's time zone",
         "Monday, June 2, 2025, 4:30 PM +0200"),
        ("start", "Start as an ISO 8601 date-time: Herald formats start_time & co. from it",
         "2025-06-02T14:00:00+00:00"),
        ("end", "End as an ISO 8601 date-time", "2025-06-02T14:30:00+00:00"),
        ("meeting_link", "Video meeting link, if any", "https://meet.example.com/j/842193001"),
        ("meeting_id", "Video meeting ID, if any", "842 193 001"),
        ("meeting_password", "Video meeting password, if any", "herald42"),
        ("booking_url", "Page showing the booking", "https://book.example.com/b/bk_7Hq2Lx"),
        ("reschedule_url", "Page to pick another time",
         "https://book.example.com/b/bk_7Hq2Lx/reschedule"),
        ("cancel_url", "Page to cancel the booking", "https://book.example.com/b/bk_7Hq2Lx/cancel"),
        ("audience", "Who a booking notice is for: 'invitee' or 'organizer'", "invitee"),
        ("custom_answers", "Answers to the booking form's questions, by question",
         SAMPLE_CUSTOM_ANSWERS),
        (f"{CUSTOM_ANSWER_PREFIX}<key>",
         "One answer, keyed by its question in snake_case (e.g. custom_company)", "Acme GmbH"),
    )
    + _group(
        BOOKING_EVENTS + AGENDA_EVENTS,
        ("organizer_name", "Name of the host", "Jordan Lee"),
        ("organizer_email", "Host's email address", "jordan@example.com"),
    )
    + _group(
        ("booking.cancellation",),
        ("cancellation_reason", "Why the booking was cancelled", "A scheduling conflict came up."),
    )
    + _group(
        ("booking.rescheduled",),
        ("previous_start", "Former start as an ISO 8601 date-time", "2025-05-30T13:00:00+00:00"),
        ("previous_start_time", "Former start, in the organizer's time zone",
         "Friday, May 30, 2025, 9:00 AM EDT"),
        ("previous_start_time_invitee", "Former start, in the invitee's time zone",
         "Friday, May 30, 2025, 3:00 PM +0200"),
    )
    + _group(
        PAYMENT_EVENTS,
        ("payment_id", "Payment identifier", "pay_3KfP9"),
        ("amount", "Amount charged, formatted for display", "49.00"),
        ("currency", "ISO 4217 currency code", "USD"),
        ("payment_method", "How the customer paid", "Visa ending in 4242"),
        ("payment_description", "What the payment is for", "Intro call with Jordan Lee"),
        ("customer_name", "Name of the person who paid", "Ana Souza"),
        ("customer_email", "Payer's email address", "ana@example.com"),
    )
    + _group(
        ("payment.completed", "payment.refunded"),
        ("receipt_url", "Receipt page", "https://pay.example.com/receipts/pay_3KfP9"),
    )
    + _group(
        ("payment.failed",),
        ("failure_reason", "Why the payment failed", "The card was declined."),
        ("payment_url", "Page to retry the payment", "https://pay.example.com/retry/pay_3KfP9"),
    )
    + _group(
        ("payment.refunded",),
        ("refund_amount", "Amount refunded, formatted for display", "49.00"),
    )
    + _group(
        AGENDA_EVENTS,
        ("agenda_date", "The day the agenda covers", "Monday, June 2, 2025"),
        ("agenda_url", "Page with the organizer's full schedule", "https://book.example.com/agenda"),
        ("bookings", ("That day's bookings, each with event_name, invitee_name, start_time, "
         "end_time (organizer's zone), meeting_link and booking_url"), [
             {"event_name": "Intro call", "invitee_name": "Ana Souza",
              "start_time": "10:00 AM", "end_time": "10:30 AM",
              "meeting_link": "https://meet.example.com/j/842193001",
              "booking_url": "https://book.example.com/b/bk_7Hq2Lx"},
             {"event_name": "Product demo", "invitee_name": "Sam Okafor",
              "start_time": "2:00 PM", "end_time": "3:00 PM",
              "meeting_link": "https://meet.example.com/j/551020330",
              "booking_url": "https://book.example.com/b/bk_9Wd4Rt"},
         ]),
    )
    + _group(
        OPERATOR_EVENTS,
        ("team_name", "The team (tenant) the operator belongs to", "Acme Scheduling"),
        ("expires_in", "How long the link works", "7 days"),
    )
    + _group(
        ("herald.operator_invite",),
        ("invite_url", "Link to accept the invitation (added when sent)",
         "https://herald.example.com/dashboard/invite/Xk2"),
        ("inviter_name", "Who sent the invitation", "Jordan Lee"),
        ("role", "The role offered: owner, editor or viewer", "editor"),
        ("invitation_id", "The invitation (Herald's own)", "5f0c2a4e-8f1d-4b7a-9a51-2d3c4b5a6f70"),
    )
    + _group(
        ("herald.password_reset",),
        ("reset_url", "Link to choose a new password (added when sent)",
         "https://herald.example.com/dashboard/reset/Xk2"),
        ("reset_id", "The reset (Herald's own)", "0b7d9e8c-1a2b-4c3d-8e9f-a0b1c2d3e4f5"),
    )
    + _group(
        EVERY_EVENT,
        ("recipient_name", "Name of the person receiving this notification", "Ana Souza"),
        ("recipient_email", "Email address of the recipient", "ana@example.com"),
        ("unsubscribe_url", "Page to stop these notifications", "https://herald.example.com/u/x9"),
        ("organization_name", "The sending business, shown in layouts", "Acme Scheduling"),
        ("title", "Headline of a custom notification", "Your report is ready"),
        ("message", "Text of a custom notification", "The May report can now be downloaded."),
        ("action_url", "Link a custom notification points to", "https://app.example.com/reports"),
    )
)  # fmt: skip


def catalogue() -> list[dict[str, Any]]:
    """Every variable as JSON-serialisable dicts: name, description, example, event_keys."""
    return [asdict(variable) | {"event_keys": list(variable.event_keys)} for variable in VARIABLES]


def variables_for(event_key: str) -> list[Variable]:
    """The variables `event_key` carries (custom events: the generic ones), the event's own
    first."""
    return [
        variable
        for variable in VARIABLES
        if event_key in variable.event_keys or variable.event_keys == EVERY_EVENT
    ]


def sample_context(event_key: str) -> dict[str, Any]:
    """Example values for every variable `event_key` carries (custom events: the generic ones)."""
    context = {
        variable.name: copy.deepcopy(variable.example)
        for variable in variables_for(event_key)
        if not variable.name.endswith("<key>")
    }
    if "custom_answers" in context:
        context |= flatten_custom_answers(context["custom_answers"])
    return context


def flatten_custom_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """{"Company size": "10"} -> {"custom_company_size": "10"}, for `{{ custom_company_size }}`."""
    flattened = {}
    for question, answer in answers.items():
        key = re.sub(r"[^a-z0-9]+", "_", str(question).lower()).strip("_")
        if key:
            flattened[f"{CUSTOM_ANSWER_PREFIX}{key}"] = answer
    return flattened
