"""The client's operations and models against Herald's /openapi.json: every operation's method,
path and query parameters exist; its body and answer models match the operation's schemas field
by field (names, types, required), nested models included; the event payloads match what
POST /v1/events validates `data` with. Drift on either side fails here."""

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from herald_client import Audience, models
from herald_client.api import Operations
from herald_client.binding import deferred, operation
from herald_client.calls import Call
from herald_client.models import PreferencesUpdate, RecipientFields
from herald_client.operations import (
    broadcasts,
    events,
    notifications,
    recipients,
    templates,
    topics,
)
from pydantic import BaseModel

from api.app import create_app
from api.schemas.events import BookingPayload, PaymentPayload
from config.settings import Settings
from tests.client.schema_drift import Drift, Side

NOW = datetime.now(UTC)
ID = uuid.uuid4()

# Every operation, called with every argument that reaches the URL.
SAMPLES: dict[str, Call[Any]] = {
    "send_notification": notifications.send_notification("r", "a.b", key_from=("o", 1)),
    "get_notification": notifications.get_notification(ID),
    "cancel_notification": notifications.cancel_notification(ID),
    "list_deliveries": notifications.list_deliveries(
        status="sent",
        channel="email",
        event_key="a.b",
        recipient="r",
        since=NOW,
        until=NOW,
        limit=10,
        cursor="c",
    ),
    "send_event": events.send_event(
        models.EventIn(id="e", type="payment.completed", occurred_at=NOW, data={})
    ),
    "put_recipient": recipients.put_recipient("r", RecipientFields()),
    "get_recipient": recipients.get_recipient("r"),
    "patch_recipient": recipients.patch_recipient("r", {"email": None}),
    "get_preferences": recipients.get_preferences("r"),
    "put_preferences": recipients.put_preferences("r", PreferencesUpdate()),
    "patch_preferences": recipients.patch_preferences("r", {}),
    "create_recipient_token": recipients.create_recipient_token("r", ttl_seconds=60),
    "preview_template": templates.preview_template(ID, {}),
    "send_template_test": templates.send_template_test(ID, email="a@example.com"),
    "create_broadcast": broadcasts.create_broadcast(Audience(all=True), "a.b"),
    "get_broadcast": broadcasts.get_broadcast(ID),
    "list_broadcasts": broadcasts.list_broadcasts(limit=10, cursor="c"),
    "pause_broadcast": broadcasts.pause_broadcast(ID),
    "resume_broadcast": broadcasts.resume_broadcast(ID),
    "cancel_broadcast": broadcasts.cancel_broadcast(ID),
    "subscribe": topics.subscribe("t", ["r"]),
    "unsubscribe": topics.unsubscribe("t", ["r"]),
    "list_topics": topics.list_topics(limit=10, cursor="c"),
    "list_topic_subscribers": topics.list_topic_subscribers("t", limit=10, cursor="c"),
    "list_recipient_topics": topics.list_recipient_topics("r", limit=10, cursor="c"),
    "delete_topic": topics.delete_topic("t"),
}

# Where the OpenAPI shows a free-form object, the schema Herald validates it with.
FREE_FORM_BODIES = {("PUT", "/v1/recipients/{external_id}/preferences"): "Preferences"}
PAYLOADS: list[tuple[type[BaseModel], type[BaseModel]]] = [
    (models.Booking, BookingPayload),
    (models.Payment, PaymentPayload),
]


def client_side(classes: set[type[BaseModel]], mode: str) -> Side:
    """The client's models as one set of named schemas, in `mode` (serialization: what a
    request sends; validation: what an answer must hold)."""
    defs: dict[str, dict[str, Any]] = {}
    for cls in classes:
        schema = cls.model_json_schema(mode=mode)  # type: ignore[arg-type]
        defs |= schema.pop("$defs", {})
        defs[cls.__name__] = schema
    return Side(defs)


def json_ref(content: dict[str, Any] | None) -> str | None:
    """The component a request or answer body names, if any."""
    for media in (content or {}).values():
        schema = media.get("schema", {})
        for option in [schema, *schema.get("anyOf", [])]:  # an optional body: X or null
            if "$ref" in option:
                return str(option["$ref"].rsplit("/", 1)[-1])
    return None


def drift(spec: dict[str, Any]) -> tuple[list[str], set[str]]:
    """What differs between the client and `spec`, and the client models compared."""
    problems: list[str] = []
    bodies = {c.body_model for c in SAMPLES.values() if c.body_model}
    answers = {c.result_model for c in SAMPLES.values() if c.result_model}
    herald = Side(copy.deepcopy(spec["components"]["schemas"]))
    sends = Drift(client_side(bodies | {m for m, _ in PAYLOADS}, "serialization"), herald)
    reads = Drift(client_side(answers, "validation"), herald)
    for name, call in SAMPLES.items():
        found = spec["paths"].get(call.route, {}).get(call.method.lower())
        if found is None:
            problems.append(f"{name}: {call.method} {call.route} is not in the OpenAPI")
            continue
        query = {p["name"] for p in found.get("parameters", []) if p["in"] == "query"}
        problems += [f"{name}: no query parameter {p!r}" for p in set(call.params) - query]
        documented = json_ref(found.get("requestBody", {}).get("content"))
        documented = documented or FREE_FORM_BODIES.get((call.method, call.route))
        if call.body_model is not None:
            if documented is None:
                problems.append(f"{name}: Herald documents no body model to compare")
            else:
                sends.model(call.body_model.__name__, documented, "request")
        success = [r for status, r in found["responses"].items() if status.startswith("2")]
        answer = next((json_ref(r.get("content")) for r in success if r.get("content")), None)
        if call.result_model is None:
            if answer is not None:
                problems.append(f"{name}: Herald answers {answer}, the client reads nothing")
        elif answer is None:
            problems.append(f"{name}: Herald documents no answer model")
        else:
            reads.model(call.result_model.__name__, answer, "response")
    for ours, theirs in PAYLOADS:  # not in the OpenAPI: `data` is a free object there
        schema = theirs.model_json_schema()
        payloads = Side(schema.pop("$defs", {}) | {theirs.__name__: schema})
        checked = Drift(sends.client, payloads)
        checked.model(ours.__name__, theirs.__name__, "request")
        problems += checked.problems
        sends.compared |= checked.compared
    problems += sends.problems + reads.problems
    return problems, {client for client, _, _ in sends.compared | reads.compared}


def test_every_operation_has_a_sample():
    builders = {
        attribute.build.__name__
        for attribute in vars(Operations).values()
        if isinstance(attribute, operation | deferred)
    }
    assert builders == set(SAMPLES)


async def test_the_client_matches_heralds_openapi(herald):
    async with httpx.AsyncClient(base_url=herald.url) as http:
        spec = (await http.get("/openapi.json")).raise_for_status().json()
    problems, compared = drift(spec)
    assert problems == []
    # Every model the package exports was compared, nested ones included.
    exported = {name for name in models.__all__ if isinstance(getattr(models, name), type)}
    assert exported - compared == set()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The OpenAPI of an application not started (no database or Temporal needed)."""
    return create_app(Settings(database_url="postgresql://unused/herald")).openapi()


def test_the_check_sees_drift(spec):
    """Each kind of change on Herald's side is reported, so a green check means something."""
    assert drift(spec)[0] == []
    schemas = spec["components"]["schemas"]
    cases = [
        # a field the client sends is gone
        (lambda: schemas["RecipientRef"]["properties"].pop("locale"), "'locale' is not in"),
        # a field the client reads changes type
        (
            lambda: schemas["NotificationAccepted"]["properties"].update(
                replayed={"type": "string"}
            ),
            "NotificationAccepted (response) vs Herald's NotificationAccepted.replayed",
        ),
        # Herald starts requiring a field of the body
        (lambda: schemas["TestSendRequest"].update(required=["email"]), "'email' is required"),
        # an enum value the client may send is dropped
        (
            lambda: schemas["Priority"].update(enum=["low", "normal", "high"]),
            "('enum', 'urgent') is not among",
        ),
        # a nested model's field (DeliveryPublic inside NotificationPublic) becomes nullable
        (
            lambda: schemas["DeliveryPublic"]["properties"].update(
                retry_count={"anyOf": [{"type": "integer"}, {"type": "null"}]}
            ),
            "DeliveryPublic (response) vs Herald's DeliveryPublic.retry_count: ('null',)",
        ),
        # a route moves
        (
            lambda: spec["paths"].update({"/v1/logs": {}}),
            "list_deliveries: GET /v1/logs is not in the OpenAPI",
        ),
    ]
    pristine = copy.deepcopy(spec)
    for change, reported in cases:
        change()
        problems = drift(spec)[0]
        assert any(reported in problem for problem in problems), (reported, problems)
        spec.clear()
        spec.update(copy.deepcopy(pristine))
        schemas = spec["components"]["schemas"]
