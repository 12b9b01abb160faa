"""Malformed input on every kind of route: a 4xx naming the field, and nothing written.

Each of these was a 500 before issue 11 (PostgreSQL refuses NUL in text, UTF-8 refuses a lone
surrogate, JSON has no NaN or Infinity, a bigint holds 64 bits), or is a neighbour of one.
Bodies are sent as raw JSON text, so what Python's encoder would refuse to write reaches
the API as an attacker would send it."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from api.app import create_app
from config.settings import Settings
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import booking_event
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_graceful_shutdown import serving
from tests.e2e.test_templates_api import email_template
from tests.e2e.webhooks_factory import sendgrid_event, sendgrid_headers

NUL = "\x00"
SURROGATE = "\ud800"
NAN, INF = float("nan"), float("inf")
BIG = 2**63  # one past PostgreSQL's bigint


def notification(**context: Any) -> dict:
    return email_request("hostile@example.com", context=context)


def with_recipient(**recipient: str) -> dict:
    return {**notification(), "recipient": recipient}


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


def event(**data: Any) -> dict:
    body = booking_event("booking.created", "bk-hostile", datetime.now(UTC) + timedelta(days=2))
    body["data"].update(data)
    return body


# A number Python's encoder never writes: the decoder reads it as infinity.
RAW_1E999 = json.dumps(notification(big=0)).replace('"big": 0', '"big": 1e999')


# Per route: {case id: (the field its refusal must name, the JSON body)}. Bodies are encoded
# as an attacker would (see raw_json); a path's {recipient} and {template} are an existing
# recipient and template of the tenant.
NOTIFICATIONS = {
    # the free-form context: values, keys, items, nesting, numbers
    "context-value-nul": ("context.note", notification(note="a\x00b")),
    "context-key-nul": ("context", notification(**{"a\x00": "b"})),
    "context-list-item-nul": ("context.items.1", notification(items=["ok", "no\x00"])),
    "context-nested-nul": ("context.a.b.c", notification(a={"b": {"c": NUL}})),
    "context-nan": ("context.price", notification(price=NAN)),
    "context-infinity": ("context.price", notification(price=INF)),
    "context-minus-infinity": ("context.price", notification(price=-INF)),
    "context-1e999": ("context.big", RAW_1E999),
    "context-surrogate-value": ("context.note", notification(note=SURROGATE)),
    "context-low-surrogate": ("context.note", notification(note="x\udc00")),
    "context-surrogate-key": ("context", notification(**{SURROGATE: 1})),
    "context-int-past-64-bit": ("context.n", notification(n=BIG)),
    "context-int-below-64-bit": ("context.n", notification(n=-BIG - 1)),
    "context-too-deep": ("context.deep" + ".n" * 30, notification(deep=nested(40))),
    # typed fields
    "recipient-name-nul": ("recipient.name", with_recipient(email="a@example.com", name="A\x00")),
    "recipient-external-id-nul": ("recipient.external_id", with_recipient(external_id="u\x00")),
    "recipient-email-surrogate": ("recipient.email", with_recipient(email=f"a{SURROGATE}@x.com")),
    "event-key-nul": ("event_key", {**notification(), "event_key": "a.b\x00"}),
    "top-level-key-nul": ("body", {**notification(), "x\x00": 1}),
    # bodies the JSON decoder itself gives up on
    "nested-past-the-decoder": ("body", "[" * 100_000),
    "integer-of-5000-digits": ("body", '{"context": {"n": ' + "9" * 5000 + "}}"),
    "not-utf-8": ("body", b'{"context": {"n": "\xff"}}'),
}
PREFERENCES = {  # PUT and PATCH take free-form dicts, not an InputModel
    "put-key-nul": ("PUT", "body", {"preferred_method\x00": "email"}),
    "put-bare-true": ("PUT", "body", True),  # a JSON scalar, not an object
    "patch-bare-null": ("PATCH", "body", "null"),
    "put-nested-nul": ("PUT", "dnd.action", {"dnd": {"action": "de\x00fer"}}),
    "patch-nan": ("PATCH", "max_reminders_per_day", {"max_reminders_per_day": NAN}),
    "patch-big-int": ("PATCH", "max_reminders_per_day", {"max_reminders_per_day": 2**64}),
    "patch-surrogate": ("PATCH", "timezone", {"timezone": SURROGATE}),
}
DEFAULTS = {
    "nul": ("timezone", {"timezone": "UTC\x00"}),
    "minus-infinity": ("max_reminders_per_day", {"max_reminders_per_day": -INF}),
    "surrogate-key": ("body", {SURROGATE: True}),
}
NEW_TEMPLATES = {
    **{
        f"{field}-nul": (field, email_template(**{field: "Hi\x00 {{ invitee_name }}"}))
        for field in ("name", "subject", "html_body", "text_body", "action_url")
    },
    "sms-body-nul": ("body", {**email_template(), "channel": "sms", "body": "x\x00"}),
    "fallback-key-nul": ("fallbacks", email_template(fallbacks={"name\x00": "friend"})),
    "fallback-surrogate": ("fallbacks.name", email_template(fallbacks={"name": SURROGATE})),
    "placeholder-nul": ("required_placeholders.0", email_template(required_placeholders=["\x00"])),
    "owner-nul": ("owner_id", email_template(owner_id="org\x00")),
}
TEMPLATE_ROUTES = {  # (method, path under /v1/templates, field, body)
    "put-subject-nul": ("PUT", "/{template}", "subject", {"subject": "x\x00"}),
    "put-html-surrogate": ("PUT", "/{template}", "html_body", {"html_body": f"<p>{SURROGATE}"}),
    "put-nan": ("PUT", "/{template}", "is_active", {"is_active": NAN}),
    "preview-nul": ("POST", "/{template}/preview", "context.n", {"context": {"n": NUL}}),
    "preview-nan": ("POST", "/{template}/preview", "context.n", {"context": {"n": NAN}}),
    "test-surrogate": ("POST", "/{template}/test", "context.x", {"context": {"x": SURROGATE}}),
    "test-email-nul": ("POST", "/{template}/test", "email", {"email": "t\x00@example.com"}),
    "layout-nul": ("PUT", "/layout", "html", {"html": "<div>{{ content }}\x00</div>"}),
    "layout-surrogate": ("PUT", "/layout", "html", {"html": "{{ content }}" + SURROGATE}),
}
EVENTS = {  # the free-form data is checked before its payload's model
    "data-name-nul": ("data.invitee.name", event(invitee={"name": "G\x00", "email": "g@x.com"})),
    "data-key-nul": ("data", event(**{"extra\x00": 1})),
    "data-surrogate": ("data.event_description", event(event_description=SURROGATE)),
    "data-answer-nan": ("data.custom_answers.q", event(custom_answers={"q": NAN})),
    "data-answer-big-int": ("data.custom_answers.q", event(custom_answers={"q": 2**70})),
    "data-organizer-nul": (
        "data.organizer.id",
        event(organizer={"id": "o\x00", "email": "o@x.com"}),
    ),
    "data-reminder-infinity": (
        "data.reminder_minutes_before.0",
        event(reminder_minutes_before=[INF]),
    ),
    "id-nul": ("id", {**event(), "id": "evt\x00"}),
}
SETTINGS = {  # (method, path, field, body)
    "agenda-timezone-nul": ("PUT", "/v1/organizers/o-1/agenda", "timezone", {"timezone": "\x00"}),
    "reschedule-nan": (
        "POST",
        f"/v1/scheduled/{uuid.uuid4()}/reschedule",
        "send_at",
        {"send_at": NAN},
    ),
    "bulk-resend-key-nul": ("POST", "/v1/deliveries/resend", "event_key", {"event_key": "a\x00"}),
    "bulk-resend-limit-big": ("POST", "/v1/deliveries/resend", "limit", {"limit": BIG}),
    "follow-up-delay-big": (
        "PUT",
        "/v1/settings/bookings",
        "follow_up_delay_minutes",
        {"follow_up_delay_minutes": BIG},
    ),
    "follow-up-delay-nan": (
        "PUT",
        "/v1/settings/bookings",
        "follow_up_delay_minutes",
        {"follow_up_delay_minutes": NAN},
    ),
    "urgent-key-nul": (
        "PUT",
        "/v1/settings/delivery-policy",
        "urgent_bypass",
        {"urgent_bypass": {"a.b\x00": True}},
    ),
    "recipient-patch-name-nul": ("PATCH", "/v1/recipients/{recipient}", "name", {"name": "\x00"}),
    "recipient-patch-surrogate": (
        "PATCH",
        "/v1/recipients/{recipient}",
        "timezone",
        {"timezone": SURROGATE},
    ),
    "api-key-name-nul": ("POST", "/v1/api-keys", "name", {"name": "billing\x00"}),
    "email-from-name-nul": ("PUT", "/v1/settings/email", "from_name", {"from_name": "H\x00"}),
    "email-reply-to-surrogate": ("PUT", "/v1/settings/email", "reply_to", {"reply_to": SURROGATE}),
    "fallback-nan": (
        "PUT",
        "/v1/settings/delivery-policy",
        "fallbacks.a.b.within_minutes",
        {
            "fallbacks": {
                "a.b": {"from_channel": "email", "to_channel": "sms", "within_minutes": NAN}
            }
        },
    ),
}
PATH_PARAMETERS = {  # a percent-encoded NUL: (method, path, the parameter, body)
    "recipient-put": ("PUT", "/v1/recipients/u%00x", "external_id", {"name": "Ada"}),
    "recipient-get": ("GET", "/v1/recipients/u%00x", "external_id", None),
    "preferences-get": ("GET", "/v1/recipients/u%00x/preferences", "external_id", None),
    "preferences-put": ("PUT", "/v1/recipients/u%00x/preferences", "external_id", {}),
    "booking-get": ("GET", "/v1/bookings/bk%00", "booking_id", None),
    "agenda-get": ("GET", "/v1/organizers/org%00/agenda", "organizer_id", None),
    "agenda-put": ("PUT", "/v1/organizers/org%00/agenda", "organizer_id", {}),
    "api-key-delete": ("DELETE", "/v1/api-keys/k%00", "key_id", None),
    "unsubscribe-get": ("GET", "/v1/unsubscribe/t%00k", "token", None),
    "unsubscribe-post": ("POST", "/v1/unsubscribe/t%00k", "token", None),
}
QUERY_PARAMETERS = {  # (path, the parameter, its value)
    "templates-event-key-nul": ("/v1/templates", "event_key", "a\x00"),
    "templates-owner-nul": ("/v1/templates", "owner", "org\x00"),
    "templates-limit-2-63": ("/v1/templates", "limit", str(BIG)),
    "templates-cursor-not-ours": ("/v1/templates", "cursor", "9" * 40),
    "logs-event-key-nul": ("/v1/logs", "event_key", "a\x00"),
    "logs-recipient-nul": ("/v1/logs", "recipient", "u\x00"),
    "logs-cursor-nul": ("/v1/logs", "cursor", "\x00"),
    "logs-limit-huge": ("/v1/logs", "limit", str(2**64)),
    "logs-unknown-parameter-nul": ("/v1/logs", "x", "\x00"),
    "stats-group-by-nul": ("/v1/stats", "group_by", "day\x00"),
    "scheduled-limit-2-63": ("/v1/scheduled", "limit", str(BIG)),
}

# (method, path, body, query, the field the refusal must name)
CASES = [
    *[
        pytest.param("POST", "/v1/notifications", body, None, field, id=f"notification-{name}")
        for name, (field, body) in NOTIFICATIONS.items()
    ],
    pytest.param(
        "PUT", "/v1/recipients/{recipient}", {"name": "A\x00"}, None, "name", id="recipient-nul"
    ),
    pytest.param(
        "PUT",
        "/v1/recipients/{recipient}",
        {"name": SURROGATE},
        None,
        "name",
        id="recipient-surrogate",
    ),
    *[
        pytest.param(
            method,
            "/v1/recipients/{recipient}/preferences",
            body,
            None,
            field,
            id=f"preferences-{name}",
        )
        for name, (method, field, body) in PREFERENCES.items()
    ],
    *[
        pytest.param("PUT", "/v1/preferences/defaults", body, None, field, id=f"defaults-{name}")
        for name, (field, body) in DEFAULTS.items()
    ],
    *[
        pytest.param("POST", "/v1/templates", body, None, field, id=f"template-{name}")
        for name, (field, body) in NEW_TEMPLATES.items()
    ],
    *[
        pytest.param(method, "/v1/templates" + path, body, None, field, id=f"template-{name}")
        for name, (method, path, field, body) in TEMPLATE_ROUTES.items()
    ],
    *[
        pytest.param("POST", "/v1/events", body, None, field, id=f"event-{name}")
        for name, (field, body) in EVENTS.items()
    ],
    *[
        pytest.param(method, path, body, None, field, id=name)
        for name, (method, path, field, body) in SETTINGS.items()
    ],
    *[
        pytest.param(method, path, body, None, field, id=f"path-{name}")
        for name, (method, path, field, body) in PATH_PARAMETERS.items()
    ],
    *[
        pytest.param("GET", path, None, {field: value}, field, id=f"query-{name}")
        for name, (path, field, value) in QUERY_PARAMETERS.items()
    ],
]


def content_type(method: str) -> str:
    # PATCH routes take JSON merge patches (RFC 7396); FastAPI parses every +json type alike.
    return "application/merge-patch+json" if method == "PATCH" else "application/json"


def raw_json(body: Any) -> str | bytes:
    """JSON text as an attacker writes it: NaN and Infinity as bare words, surrogates escaped;
    text or bytes are sent as they are."""
    return body if isinstance(body, str | bytes) else json.dumps(body, allow_nan=True)


@pytest.fixture(scope="module")
async def hostile(database_url, sessions, temporal_env) -> Any:
    """One tenant's API (no worker: nothing here may start work) and an existing recipient and
    template, shared by every case."""
    settings = Settings(
        database_url=database_url,
        task_queue=f"herald-hostile-{uuid.uuid4()}",
        embedded_worker=False,
        secret_key=SecretStr("test-secret-key-not-for-production"),
    )
    _, key = await new_tenant(sessions, "Hostile")
    app = create_app(settings, temporal=temporal_env.client)
    async with serving(app, key) as api:
        recipient = f"hostile-{uuid.uuid4().hex[:8]}"
        created = await api.put(f"/v1/recipients/{recipient}", json={"email": "r@example.com"})
        template = await api.post("/v1/templates", json=email_template())
        assert created.status_code == 200 and template.status_code == 201, template.text
        yield api, {"recipient": recipient, "template": template.json()["id"]}


async def database_digest(sessions) -> dict[str, str]:
    """Every table's rows as a digest, but for last_used_at (any request stamps its API key's)."""
    async with sessions() as session:
        tables = (
            await session.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).all()
        row = "(to_jsonb(t) - 'last_used_at')::text"
        digest = f"SELECT md5(coalesce(string_agg({row}, ',' ORDER BY {row}), '')) FROM "
        return {table: await session.scalar(text(f'{digest} "{table}" t')) for table in tables}


@pytest.mark.parametrize(("method", "path", "body", "query", "field"), CASES)
async def test_hostile_input_is_refused_naming_the_field_and_writes_nothing(
    hostile, sessions, method, path, body, query, field
):
    api, existing = hostile
    before = await database_digest(sessions)
    response = await api.request(
        method,
        path.format(**existing),
        params=query,
        content=None if body is None else raw_json(body),
        headers={} if body is None else {"Content-Type": content_type(method)},
    )
    assert 400 <= response.status_code < 500, response.text
    problem = response.json()
    assert field in [error["field"] for error in problem["errors"]], problem
    assert await database_digest(sessions) == before


def test_the_corpus_covers_every_kind_of_route():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)  # ids are unique


async def test_a_chunked_body_over_the_limit_is_413_and_writes_nothing(hostile, sessions):
    api, _ = hostile
    before = await database_digest(sessions)
    body = json.dumps(email_request("big@example.com", context={"blob": "x" * (300 * 1024)}))

    async def chunks():  # no Content-Length: the body streams in, 16 KiB at a time
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024].encode()

    response = await api.post(
        "/v1/notifications", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert "content-length" not in response.request.headers
    assert response.json()["errors"][0]["field"] == "body"
    assert await database_digest(sessions) == before


async def test_a_chunked_body_within_the_limit_is_accepted(hostile, sessions):
    api, existing = hostile
    before = await database_digest(sessions)
    body = json.dumps({"name": "Chunked Ada", "email": "chunked@example.com"}).encode()

    async def chunks():
        for byte in range(0, len(body), 7):
            yield body[byte : byte + 7]

    response = await api.put(
        f"/v1/recipients/{existing['recipient']}",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Chunked Ada"
    assert await database_digest(sessions) != before  # the digest does see a write


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"sg_message_id": "m\x00.filter"}, id="message-id-nul"),
        pytest.param({"email": SURROGATE}, id="email-surrogate"),
        pytest.param({"timestamp": NAN}, id="timestamp-nan"),
        pytest.param({"sg_event_id": "e\x00"}, id="event-id-nul"),
    ],
)
async def test_a_signed_sendgrid_batch_with_unstorable_values_is_400(tracked, sessions, event):
    """The webhook parses its own body (to check the signature over the bytes first), so the
    app-wide check does not see it; it applies the same one."""
    before = await database_digest(sessions)
    body = json.dumps([sendgrid_event("delivered", message_id="m-1") | event]).encode()
    response = await tracked.api.post(
        "/v1/webhooks/sendgrid/events", content=body, headers=sendgrid_headers(body)
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_event"
    assert await database_digest(sessions) == before
