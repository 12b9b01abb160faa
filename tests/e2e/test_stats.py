"""GET /v1/stats against deliveries inserted with exact statuses: every count and rate."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import new_tenant
from tests.utils.deliveries import Batch, add_deliveries, add_template

DAY1 = datetime(2025, 3, 1, 10, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
RANGE = {"from": "2025-03-01T00:00:00Z", "to": "2025-03-03T00:00:00Z"}

FIXTURE: list[Batch] = [
    (
        DAY1,
        "email",
        "sendgrid",
        "booking.confirmation",
        "T1",
        {"sent": 2, "delivered": 3, "opened": 2, "clicked": 1, "bounced": 1, "failed": 1},
    ),
    (DAY1, "sms", "twilio", "booking.reminder", None, {"delivered": 4, "failed": 2}),
    (
        DAY2,
        "email",
        "sendgrid",
        "payment.completed",
        "T2",
        {"opened": 1, "clicked": 2, "bounced": 2},
    ),
    (DAY2, "email", "smtp", "booking.confirmation", "T1", {"sent": 3}),
    (DAY2, "email", None, "payment.completed", None, {"failed": 1}),  # failed before any provider
    # never attempted: counted nowhere
    (
        DAY2,
        "email",
        None,
        "payment.completed",
        None,
        {"pending": 2, "suppressed": 3, "cancelled": 1, "digested": 1, "deferred": 1},
    ),
    # outside the range ([from, to)): counted nowhere
    (DAY1 - timedelta(days=1), "email", "sendgrid", "booking.confirmation", "T1", {"sent": 5}),
    (
        datetime(2025, 3, 3, tzinfo=UTC),
        "email",
        "sendgrid",
        "booking.confirmation",
        "T1",
        {"sent": 5},
    ),
]


@pytest.fixture
async def known_deliveries(stack, sessions) -> dict[str, str]:
    """Inserts FIXTURE for the stack's tenant; returns the template ids by fixture name."""
    async with sessions.begin() as session:
        templates = {
            name: await add_template(session, stack.tenant_id, name) for name in ("T1", "T2")
        }
        versions = {name: ids[1] for name, ids in templates.items()}
        await add_deliveries(session, stack.tenant_id, FIXTURE, versions)
    return {name: str(ids[0]) for name, ids in templates.items()}


def figures(sent, delivered, opened, clicked, failed, bounced) -> dict:
    """The expected counts, and the rates as the README defines them."""
    attempted = sent + failed + bounced

    def ratio(part, whole):
        return round(part / whole, 4) if whole else None

    return dict(
        sent=sent,
        delivered=delivered,
        opened=opened,
        clicked=clicked,
        failed=failed,
        bounced=bounced,
        attempted=attempted,
        delivery_rate=ratio(delivered, attempted),
        bounce_rate=ratio(bounced, attempted),
        open_rate=ratio(opened, delivered),
        click_rate=ratio(clicked, delivered),
    )


async def stats(stack, **params) -> dict:
    response = await stack.api.get("/v1/stats", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def by_key(result: dict) -> dict:
    return {group.pop("key"): group for group in result["groups"]}


async def test_totals(stack, known_deliveries):
    result = await stats(stack)
    assert result["totals"] == figures(
        sent=18, delivered=13, opened=6, clicked=3, failed=4, bounced=3
    )
    assert result["totals"]["delivery_rate"] == 0.52 and result["totals"]["open_rate"] == 0.4615
    assert result["groups"] == [] and result["from"] == "2025-03-01T00:00:00Z"


async def test_by_day(stack, known_deliveries):
    result = await stats(stack, group_by="day")
    assert by_key(result) == {
        "2025-03-01": figures(sent=12, delivered=10, opened=3, clicked=1, failed=3, bounced=1),
        "2025-03-02": figures(sent=6, delivered=3, opened=3, clicked=2, failed=1, bounced=2),
    }
    assert result["totals"] == figures(
        sent=18, delivered=13, opened=6, clicked=3, failed=4, bounced=3
    )


async def test_by_channel(stack, known_deliveries):
    assert by_key(await stats(stack, group_by="channel")) == {
        "email": figures(sent=14, delivered=9, opened=6, clicked=3, failed=2, bounced=3),
        "sms": figures(sent=4, delivered=4, opened=0, clicked=0, failed=2, bounced=0),
    }


async def test_by_provider(stack, known_deliveries):
    result = await stats(stack, group_by="provider")
    assert [group["key"] for group in result["groups"]] == ["sendgrid", "smtp", "twilio", None]
    assert by_key(result) == {
        "sendgrid": figures(sent=11, delivered=9, opened=6, clicked=3, failed=1, bounced=3),
        "smtp": figures(sent=3, delivered=0, opened=0, clicked=0, failed=0, bounced=0),
        "twilio": figures(sent=4, delivered=4, opened=0, clicked=0, failed=2, bounced=0),
        None: figures(sent=0, delivered=0, opened=0, clicked=0, failed=1, bounced=0),
    }


async def test_by_event_key(stack, known_deliveries):
    assert by_key(await stats(stack, group_by="event_key")) == {
        "booking.confirmation": figures(
            sent=11, delivered=6, opened=3, clicked=1, failed=1, bounced=1
        ),
        "booking.reminder": figures(sent=4, delivered=4, opened=0, clicked=0, failed=2, bounced=0),
        "payment.completed": figures(sent=3, delivered=3, opened=3, clicked=2, failed=1, bounced=2),
    }


async def test_by_template(stack, known_deliveries):
    assert by_key(await stats(stack, group_by="template")) == {
        known_deliveries["T1"]: figures(
            sent=11, delivered=6, opened=3, clicked=1, failed=1, bounced=1
        ),
        known_deliveries["T2"]: figures(
            sent=3, delivered=3, opened=3, clicked=2, failed=0, bounced=2
        ),
        None: figures(sent=4, delivered=4, opened=0, clicked=0, failed=3, bounced=0),
    }


async def test_filtered_to_a_channel_or_a_provider(stack, known_deliveries):
    sms = await stats(stack, channel="sms", group_by="day")
    assert sms["totals"] == figures(sent=4, delivered=4, opened=0, clicked=0, failed=2, bounced=0)
    assert [group["key"] for group in sms["groups"]] == ["2025-03-01"]
    sendgrid = await stats(stack, provider="sendgrid", group_by="template")
    assert sendgrid["totals"] == figures(
        sent=11, delivered=9, opened=6, clicked=3, failed=1, bounced=3
    )
    assert set(by_key(sendgrid)) == {known_deliveries["T1"], known_deliveries["T2"]}
    both = await stats(stack, channel="email", provider="smtp")
    assert both["totals"] == figures(sent=3, delivered=0, opened=0, clicked=0, failed=0, bounced=0)
    assert (await stats(stack, channel="sms", provider="smtp"))["totals"]["attempted"] == 0


async def test_another_tenant_sees_none_of_it(stack, sessions, known_deliveries):
    _, key = await new_tenant(sessions, "Other")
    async with await stack.as_tenant(key) as other:
        response = await other.get("/v1/stats", params={**RANGE, "group_by": "channel"})
    assert (
        response.json()["totals"] == figures(0, 0, 0, 0, 0, 0) and response.json()["groups"] == []
    )


async def test_default_range_is_the_last_30_days(stack):
    result = (await stack.api.get("/v1/stats")).json()
    start, end = (datetime.fromisoformat(result[k]) for k in ("from", "to"))
    assert end - start == timedelta(days=30)
    assert abs(end - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "params,field",
    [
        ({"from": "2025-03-03T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01"}, "to"),
        ({"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        ({"group_by": "recipient"}, "group_by"),
        ({"channel": "fax"}, "channel"),
        ({"provider": "send grid"}, "provider"),
    ],
)
async def test_invalid_parameters_are_422_naming_the_field(stack, params, field):
    response = await stack.api.get("/v1/stats", params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")
