"""A broadcast's pages, release and status, on real PostgreSQL (activities/broadcasts.py): each
recipient decided as a single notification would be, in bulk; in-app messages and their inbox
events written with the page; a page run twice writing nothing twice; every audience walked
once by keyset; a cancel cancelling what waits; deferrals released when due."""

import asyncio
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.broadcasts import BroadcastActivities
from activities.planning import PlanningActivities
from config.providers import build_providers
from config.settings import Settings
from db.inbox import get_message
from domain.broadcasts import (
    AudienceKind,
    BroadcastStatus,
    BroadcastStatusInput,
    PageInput,
    PageResult,
    ReleaseInput,
)
from domain.contracts import PlanInput
from tests.conftest import new_tenant

CONTEXT = {"title": "Spring sale", "message": "Everything is 20% off until Sunday."}


@pytest.fixture
async def tenant(sessions) -> uuid.UUID:
    tenant_id, _key = await new_tenant(sessions, "Broadcaster")
    return tenant_id


@pytest.fixture
async def activities(sessions, database_url, temporal_env):
    settings = Settings(
        database_url=database_url,
        task_queue=f"broadcast-pages-{uuid.uuid4()}",
        secret_key=SecretStr("test-secret-key-not-for-production"),
        broadcast_page_size=50,
        broadcast_page_parts=3,  # each page in parts, as BROADCAST_PAGE_PARTS can ask
    )
    providers = build_providers(settings)
    try:
        yield BroadcastActivities(sessions, providers, settings, temporal_env.client)
    finally:
        await providers.close()


async def run(method, input: Any) -> Any:
    return await ActivityEnvironment().run(method, input)


async def sql(sessions, statement: str, **parameters: Any) -> list[Any]:
    async with sessions.begin() as session:
        result = await session.execute(text(statement), parameters)
        return list(result) if result.returns_rows else []


async def add_recipients(
    sessions, tenant_id: uuid.UUID, count: int, **columns: Any
) -> list[uuid.UUID]:
    """`count` recipients with these columns (preference_overrides as a dict), in id order."""
    overrides = json.dumps(columns.pop("preference_overrides", {}))
    ids = sorted(uuid.uuid4() for _ in range(count))
    run_tag = uuid.uuid4().hex[:8]
    for i, recipient_id in enumerate(ids):
        values = {"email": f"r{i}-{run_tag}@example.com", "timezone": "UTC"} | columns
        await sql(
            sessions,
            "INSERT INTO recipients (id, tenant_id, external_id, name, email, phone, timezone,"
            " preference_overrides) VALUES (:id, :tenant_id, :external_id, :name, :email,"
            " :phone, :timezone, CAST(:overrides AS jsonb))",
            id=recipient_id,
            tenant_id=tenant_id,
            external_id=f"ext-{i}-{run_tag}",
            name=f"Person {i}",
            email=values["email"],
            phone=values.get("phone"),
            timezone=values["timezone"],
            overrides=overrides,
        )
    return ids


async def a_broadcast(
    sessions,
    tenant_id: uuid.UUID,
    *,
    kind: AudienceKind = AudienceKind.RECIPIENTS,
    listed: list[uuid.UUID] | None = None,
    topic: str | None = None,
    channels: list[str] | None = None,
    event_key: str = "product.news",
    status: str = "running",
) -> uuid.UUID:
    broadcast_id = uuid.uuid4()
    await sql(
        sessions,
        "INSERT INTO broadcasts (id, tenant_id, idempotency_key, request_digest, event_key,"
        " priority, channels, context, inbox_options, audience_kind, topic_key, workflow_id,"
        " status) VALUES (:id, :tenant_id, :key, :digest, :event_key, 'normal', :channels,"
        " CAST(:context AS jsonb), CAST(:inbox AS jsonb), :kind, :topic, :workflow_id, :status)",
        id=broadcast_id,
        tenant_id=tenant_id,
        key=f"test-{broadcast_id}",
        digest=hashlib.sha256(broadcast_id.bytes).digest(),
        event_key=event_key,
        channels=channels if channels is not None else ["in_app", "email"],
        context=json.dumps(CONTEXT),
        inbox=json.dumps({"tags": ["sale"]}),
        kind=kind.value,
        topic=topic,
        workflow_id=f"broadcast-{tenant_id}-{broadcast_id}",
        status=status,
    )
    if listed:
        await sql(
            sessions,
            "INSERT INTO broadcast_recipients (broadcast_id, recipient_id)"
            " SELECT :id, unnest(CAST(:ids AS uuid[]))",
            id=broadcast_id,
            ids=listed,
        )
    return broadcast_id


async def walk(activities, broadcast_id, tenant_id, limit: int = 50) -> list[PageResult]:
    pages: list[PageResult] = []
    after = None
    while True:
        page = await run(
            activities.plan_broadcast_page, PageInput(broadcast_id, tenant_id, after, limit)
        )
        if page.last_recipient_id is None:
            return pages
        pages.append(page)
        after = page.last_recipient_id


async def deliveries_of(sessions, broadcast_id) -> dict[uuid.UUID, dict[str, Any]]:
    """recipient id -> channel -> (status, status_reason, deferred_until)."""
    rows = await sql(
        sessions,
        "SELECT n.recipient_id, d.channel, d.status, d.status_reason, d.deferred_until"
        " FROM notifications n JOIN deliveries d ON d.notification_id = n.id"
        " WHERE n.broadcast_id = :id",
        id=broadcast_id,
    )
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows:
        found.setdefault(r.recipient_id, {})[r.channel] = (
            r.status,
            r.status_reason,
            r.deferred_until,
        )
    return found


async def counters(sessions, broadcast_id) -> dict[str, Any]:
    [row] = await sql(
        sessions,
        "SELECT planned, sent, suppressed, deferred, failed, total, cursor, status, started_at,"
        " finished_at FROM broadcasts WHERE id = :id",
        id=broadcast_id,
    )
    return row._asdict()


async def single_plan(sessions, tenant_id, recipient_id, channels, event_key="product.news"):
    """What planning one notification decides for the recipient (activities/planning.py):
    channel -> (status, status_reason, deferred_until)."""
    notification_id = uuid.uuid4()
    key = f"single-{notification_id}"
    await sql(
        sessions,
        "INSERT INTO notifications (id, tenant_id, recipient_id, event_key, priority, channels,"
        " context, idempotency_key, request_digest, workflow_id, status, recipient_email,"
        " recipient_phone) SELECT :id, :tenant_id, r.id, :event_key, 'normal', :channels,"
        " CAST(:context AS jsonb), :key, :digest, :key, 'accepted', r.email, r.phone"
        " FROM recipients r WHERE r.id = :recipient_id",
        id=notification_id,
        tenant_id=tenant_id,
        recipient_id=recipient_id,
        event_key=event_key,
        channels=channels,
        context=json.dumps(CONTEXT),
        key=key,
        digest=hashlib.sha256(key.encode()).digest(),
    )
    plan = await PlanningActivities(sessions).plan_notification(
        PlanInput(notification_id, tenant_id, datetime.now(UTC))
    )
    return {c.channel.value: (c.status.value, c.reason, c.until) for c in plan.channels}


def as_planned(decided: dict[str, Any]) -> dict[str, Any]:
    """A broadcast's deliveries as planning left them: its in-app message is delivered by the
    page, where a single notification's waits for its send step."""
    return {
        channel: ("pending", reason, until) if status == "delivered" else (status, reason, until)
        for channel, (status, reason, until) in decided.items()
    }


def quiet_now(zone: str = "UTC") -> dict[str, Any]:
    """Do-not-disturb hours around the present moment, in `zone`."""
    local = datetime.now(ZoneInfo(zone))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).strftime("%H:%M")
    return {"dnd": {"enabled": True, "start": start, "end": end, "action": "defer"}}


async def test_each_recipient_is_decided_as_a_single_notification_would_be(
    sessions, tenant, activities
):
    """Twins: one in the broadcast, one planned alone through the single path, for each kind
    of recipient; the decisions are the same, with the rule's reason."""
    kinds: dict[str, dict[str, Any]] = {
        "plain": {},
        "opted_out": {"preference_overrides": {"rules": {"product": {"email": False}}}},
        "muted": {"preference_overrides": {"muted_event_keys": ["product.news"]}},
        "quiet": {"preference_overrides": quiet_now()},
        "digest": {"preference_overrides": {"digests": {"product": {"frequency": "daily"}}}},
        "rate_limited": {
            "preference_overrides": {"rate_limit": {"max_count": 1, "window_minutes": 60}}
        },
        "suppressed_address": {"email": f"unsub-{uuid.uuid4().hex[:6]}@example.com"},
        "invalid_address": {"email": f"bounced-{uuid.uuid4().hex[:6]}@example.com"},
    }
    twins = {}
    for kind, columns in kinds.items():
        twins[kind] = await add_recipients(sessions, tenant, 2, **columns)
    await sql(
        sessions,
        "INSERT INTO address_suppressions (tenant_id, channel, address, category, recipient_id)"
        " VALUES (:t, 'email', :address, 'product', :r)",
        t=tenant,
        address=kinds["suppressed_address"]["email"],
        r=twins["suppressed_address"][0],
    )
    await sql(
        sessions,
        "INSERT INTO invalid_addresses (id, tenant_id, channel, address, reason)"
        " VALUES (:id, :t, 'email', :address, 'hard bounce')",
        id=uuid.uuid4(),
        t=tenant,
        address=kinds["invalid_address"]["email"],
    )
    # The rate-limited twins have used their one send of the window already.
    window_start = datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
    for recipient_id in twins["rate_limited"]:
        await sql(
            sessions,
            "INSERT INTO send_counters (recipient_id, kind, window_start, count)"
            " VALUES (:r, 'rate_window', :w, 1)",
            r=recipient_id,
            w=window_start,
        )
    in_broadcast = [pair[0] for pair in twins.values()]
    broadcast_id = await a_broadcast(sessions, tenant, listed=in_broadcast)

    pages = await walk(activities, broadcast_id, tenant)

    decided = await deliveries_of(sessions, broadcast_id)
    assert set(decided) == set(in_broadcast)
    for kind, (member, twin) in twins.items():
        alone = await single_plan(sessions, tenant, twin, ["in_app", "email"])
        assert as_planned(decided[member]) == alone, kind
    # The rules that decided, by kind (so the comparison above compared something).
    status = {kind: decided[pair[0]] for kind, pair in twins.items()}
    assert status["plain"]["in_app"][0] == "delivered" and status["plain"]["email"][0] == "pending"
    assert status["opted_out"]["email"][0] == "suppressed"
    assert status["opted_out"]["email"][1].startswith("rule_disabled: ")
    assert {c: s[0] for c, s in status["muted"].items()} == {
        "in_app": "suppressed",
        "email": "suppressed",
    }
    assert status["quiet"]["email"][0] == "deferred" and status["quiet"]["email"][2] is not None
    assert status["digest"]["email"][0] == "digested"
    assert status["rate_limited"]["email"][0] in {"deferred", "suppressed"}
    assert status["suppressed_address"]["email"][0] == "suppressed"
    assert status["invalid_address"]["email"] == (
        "suppressed",
        "invalid_address: hard bounce",
        None,
    )
    # The page's result and the broadcast's counters say what the rows say.
    rows = [s for channels in decided.values() for s in channels.values()]
    count = {state: sum(1 for s in rows if s[0] == state) for state in {s[0] for s in rows}}
    progress = await counters(sessions, broadcast_id)
    assert progress["planned"] == len(in_broadcast) == sum(p.written for p in pages)
    assert progress["suppressed"] == count["suppressed"] == sum(p.suppressed for p in pages)
    assert progress["deferred"] == count["deferred"] == sum(p.deferred for p in pages)
    assert progress["sent"] == count["delivered"] == sum(p.sent for p in pages)
    assert sum(p.pending.get("email", 0) for p in pages) == count["pending"]
    quiet_until = status["quiet"]["email"][2]
    assert min(p.deferred_until for p in pages if p.deferred_until) <= quiet_until
    assert progress["cursor"] == max(in_broadcast)


async def test_the_daily_reminder_cap_holds_a_broadcast_as_a_single_notification(
    sessions, tenant, activities
):
    """A reminder broadcast to twins who have had their one reminder today: the same decision
    as planning one reminder for the twin, and no slot taken beyond the cap."""
    capped = await add_recipients(
        sessions, tenant, 2, preference_overrides={"max_reminders_per_day": 1}
    )
    fresh = await add_recipients(
        sessions, tenant, 2, preference_overrides={"max_reminders_per_day": 1}
    )
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for recipient_id in capped:
        await sql(
            sessions,
            "INSERT INTO send_counters (recipient_id, kind, window_start, count)"
            " VALUES (:r, 'reminders_day', :w, 1)",
            r=recipient_id,
            w=midnight,
        )
    broadcast_id = await a_broadcast(
        sessions,
        tenant,
        listed=[capped[0], fresh[0]],
        channels=["email"],
        event_key="booking.reminder",
    )
    await walk(activities, broadcast_id, tenant)

    decided = await deliveries_of(sessions, broadcast_id)
    for member, twin in (capped, fresh):
        alone = await single_plan(sessions, tenant, twin, ["email"], "booking.reminder")
        assert as_planned(decided[member]) == alone
    assert decided[capped[0]]["email"][0] in {"deferred", "suppressed"}
    assert decided[fresh[0]]["email"][0] == "pending"
    slots = await sql(
        sessions,
        "SELECT recipient_id, count FROM send_counters WHERE kind = 'reminders_day'"
        " AND recipient_id = ANY(CAST(:ids AS uuid[]))",
        ids=[capped[0], fresh[0]],
    )
    assert {s.recipient_id: s.count for s in slots} == {capped[0]: 1, fresh[0]: 1}


async def test_a_digested_recipient_is_handed_to_its_digest(
    sessions, tenant, activities, temporal_env
):
    [recipient] = await add_recipients(
        sessions,
        tenant,
        1,
        preference_overrides={"digests": {"product": {"frequency": "daily"}}},
    )
    broadcast_id = await a_broadcast(sessions, tenant, listed=[recipient], channels=["email"])
    await walk(activities, broadcast_id, tenant)
    handle = temporal_env.client.get_workflow_handle(f"digest-{tenant}-{recipient}-product-daily")
    try:
        described = await handle.describe()
        assert described.status is not None
    finally:
        await handle.terminate()


async def test_in_app_messages_and_their_inbox_events_are_written_with_the_page(
    sessions, tenant, activities
):
    recipients = await add_recipients(sessions, tenant, 30)
    # One already has an event in its inbox: its new one is numbered after it.
    await sql(
        sessions,
        "INSERT INTO inbox_cursors (recipient_id, last_seq) VALUES (:r, 4)",
        r=recipients[0],
    )
    broadcast_id = await a_broadcast(sessions, tenant, listed=recipients, channels=["in_app"])

    await walk(activities, broadcast_id, tenant, limit=7)

    messages = await sql(
        sessions,
        "SELECT m.recipient_id, m.title, m.body, m.category, m.tags, m.id = d.id AS same_id"
        " FROM in_app_messages m JOIN deliveries d ON d.id = m.id"
        " JOIN notifications n ON n.id = m.notification_id WHERE n.broadcast_id = :id",
        id=broadcast_id,
    )
    assert sorted(m.recipient_id for m in messages) == recipients
    assert {(m.title, m.body, m.category, tuple(m.tags)) for m in messages} == {
        (CONTEXT["title"], CONTEXT["message"], "product.news", ("sale",))
    }
    events = await sql(
        sessions,
        "SELECT recipient_id, seq, kind, data FROM inbox_events"
        " WHERE recipient_id = ANY(CAST(:ids AS uuid[])) ORDER BY recipient_id",
        ids=recipients,
    )
    assert [e.recipient_id for e in events] == recipients
    assert {e.recipient_id: e.seq for e in events} == {
        r: 5 if r == recipients[0] else 1 for r in recipients
    }
    assert {e.kind for e in events} == {"message.created"}
    by_recipient = {m.recipient_id: m for m in messages}
    for e in events:
        assert e.data["message"]["title"] == CONTEXT["title"]
        assert e.data["message"]["notification_id"]
        assert e.data["counts"] == {"total": 1, "unread": 1, "unseen": 1}
        assert by_recipient[e.recipient_id].same_id
        # The event a single notification's message gets (built in SQL here), to the character.
        message_id = uuid.UUID(e.data["message"]["id"])
        async with sessions() as session:
            stored = await get_message(session, e.recipient_id, tenant, message_id)
        assert stored is not None and e.data["message"] == stored.as_json()
    cursors = await sql(
        sessions,
        "SELECT recipient_id, last_seq FROM inbox_cursors"
        " WHERE recipient_id = ANY(CAST(:ids AS uuid[]))",
        ids=recipients,
    )
    assert {c.recipient_id: c.last_seq for c in cursors} == {e.recipient_id: e.seq for e in events}
    statuses = await sql(
        sessions,
        "SELECT n.status, d.status AS delivery, d.provider, count(*) FROM notifications n"
        " JOIN deliveries d ON d.notification_id = n.id WHERE n.broadcast_id = :id"
        " GROUP BY 1, 2, 3",
        id=broadcast_id,
    )
    assert [tuple(s) for s in statuses] == [("sent", "delivered", "database", 30)]


async def test_a_page_run_again_writes_nothing_twice(sessions, tenant, activities):
    recipients = await add_recipients(
        sessions,
        tenant,
        12,
        preference_overrides={"rate_limit": {"max_count": 5, "window_minutes": 60}},
    )
    broadcast_id = await a_broadcast(sessions, tenant, listed=recipients)
    first = await run(activities.plan_broadcast_page, PageInput(broadcast_id, tenant, None, 12))
    before = await counters(sessions, broadcast_id)
    tables = ("notifications", "deliveries", "in_app_messages", "inbox_events")

    async def counts() -> dict[str, int]:
        found = {}
        for table in tables:
            [(n,)] = await sql(
                sessions,
                f"SELECT count(*) FROM {table} WHERE recipient_id = ANY(CAST(:ids AS uuid[]))"
                if table not in ("deliveries",)
                else "SELECT count(*) FROM deliveries d JOIN notifications n"
                " ON n.id = d.notification_id WHERE n.recipient_id = ANY(CAST(:ids AS uuid[]))",
                ids=recipients,
            )
            found[table] = n
        [(slots,)] = await sql(
            sessions,
            "SELECT sum(count) FROM send_counters WHERE recipient_id = ANY(CAST(:ids AS uuid[]))",
            ids=recipients,
        )
        found["rate slots"] = slots
        return found

    written = await counts()
    again = await run(activities.plan_broadcast_page, PageInput(broadcast_id, tenant, None, 12))

    assert first.written == 12 and again.written == 0
    assert written == {
        "notifications": 12,
        "deliveries": 24,
        "in_app_messages": 12,
        "inbox_events": 12,
        "rate slots": 12,  # one per notification, as a single one takes
    }
    assert await counts() == written
    assert await counters(sessions, broadcast_id) == before
    # Its sends may not have been made: the page run again still reports them.
    assert again.last_recipient_id == first.last_recipient_id == recipients[-1]
    assert again.pending == first.pending == {"email": 12}


async def test_two_runs_of_a_page_at_once_write_it_once(sessions, tenant, activities):
    """The second waits for the first, and decides no one again (no second counter slot)."""
    recipients = await add_recipients(
        sessions,
        tenant,
        40,
        preference_overrides={"rate_limit": {"max_count": 5, "window_minutes": 60}},
    )
    broadcast_id = await a_broadcast(sessions, tenant, listed=recipients)
    page = PageInput(broadcast_id, tenant, None, 40)

    both = await asyncio.gather(
        run(activities.plan_broadcast_page, page), run(activities.plan_broadcast_page, page)
    )

    assert sorted(r.written for r in both) == [0, 40]
    [(notifications, messages)] = await sql(
        sessions,
        "SELECT count(DISTINCT n.id), count(m.id) FROM notifications n"
        " LEFT JOIN in_app_messages m ON m.notification_id = n.id WHERE n.broadcast_id = :id",
        id=broadcast_id,
    )
    assert (notifications, messages) == (40, 40)
    progress = await counters(sessions, broadcast_id)
    assert (progress["planned"], progress["sent"]) == (40, 40)
    [(slots,)] = await sql(
        sessions,
        "SELECT sum(count) FROM send_counters WHERE recipient_id = ANY(CAST(:ids AS uuid[]))",
        ids=recipients,
    )
    assert slots == 40


@pytest.mark.parametrize("kind", list(AudienceKind))
async def test_keyset_paging_covers_every_recipient_once(sessions, activities, kind):
    tenant_id, _key = await new_tenant(sessions, f"Audience {kind}")  # the whole tenant is its own
    recipients = await add_recipients(sessions, tenant_id, 23)
    topic = None
    audience = recipients
    if kind == AudienceKind.TOPIC:
        topic = "weekly.news"
        audience = recipients[::2]
        await sql(
            sessions, "INSERT INTO topics (tenant_id, key) VALUES (:t, :k)", t=tenant_id, k=topic
        )
        await sql(
            sessions,
            "INSERT INTO topic_subscriptions (tenant_id, topic_key, recipient_id)"
            " SELECT :t, :k, unnest(CAST(:ids AS uuid[]))",
            t=tenant_id,
            k=topic,
            ids=audience,
        )
    elif kind == AudienceKind.RECIPIENTS:
        audience = recipients[1::3]
    broadcast_id = await a_broadcast(
        sessions,
        tenant_id,
        kind=kind,
        listed=audience if kind == AudienceKind.RECIPIENTS else None,
        topic=topic,
        channels=["in_app"],
    )
    await run(
        activities.set_broadcast_status,
        BroadcastStatusInput(broadcast_id, tenant_id, BroadcastStatus.RUNNING),
    )

    pages = await walk(activities, broadcast_id, tenant_id, limit=4)

    notified = await sql(
        sessions,
        "SELECT recipient_id FROM notifications WHERE broadcast_id = :id ORDER BY recipient_id",
        id=broadcast_id,
    )
    assert [n.recipient_id for n in notified] == sorted(audience)
    assert [p.last_recipient_id for p in pages] == sorted(audience)[3::4] + (
        [] if len(audience) % 4 == 0 else [max(audience)]
    )
    progress = await counters(sessions, broadcast_id)
    assert progress["total"] == progress["planned"] == len(audience)
    assert {p.total for p in pages} == {len(audience)}  # for the workflow's progress query


async def test_running_fills_started_at_and_total_once_and_a_finished_broadcast_never_moves(
    sessions, tenant, activities
):
    recipients = await add_recipients(sessions, tenant, 3)
    broadcast_id = await a_broadcast(sessions, tenant, listed=recipients, status="scheduled")
    running = BroadcastStatusInput(broadcast_id, tenant, BroadcastStatus.RUNNING)
    await run(activities.set_broadcast_status, running)
    first = await counters(sessions, broadcast_id)
    await sql(
        sessions,
        "INSERT INTO broadcast_recipients (broadcast_id, recipient_id) VALUES (:b, :r)",
        b=broadcast_id,
        r=(await add_recipients(sessions, tenant, 1))[0],
    )
    await run(
        activities.set_broadcast_status,
        BroadcastStatusInput(broadcast_id, tenant, BroadcastStatus.PAUSED),
    )
    await run(activities.set_broadcast_status, running)  # resumed: started once, counted once
    again = await counters(sessions, broadcast_id)
    assert (first["status"], first["total"], first["finished_at"]) == ("running", 3, None)
    assert (again["started_at"], again["total"]) == (first["started_at"], 3)

    await run(
        activities.set_broadcast_status,
        BroadcastStatusInput(broadcast_id, tenant, BroadcastStatus.COMPLETED),
    )
    done = await counters(sessions, broadcast_id)
    await run(activities.set_broadcast_status, running)
    assert done["status"] == "completed" and done["finished_at"] is not None
    assert await counters(sessions, broadcast_id) == done
    page = await run(activities.plan_broadcast_page, PageInput(broadcast_id, tenant, None, 10))
    assert page.last_recipient_id is None and page.written == 0


async def test_cancel_cancels_what_waits_and_keeps_what_was_sent(sessions, tenant, activities):
    quiet = await add_recipients(sessions, tenant, 4, preference_overrides=quiet_now())
    awake = await add_recipients(sessions, tenant, 3)
    broadcast_id = await a_broadcast(sessions, tenant, listed=sorted(quiet + awake))
    await walk(activities, broadcast_id, tenant)
    before = await deliveries_of(sessions, broadcast_id)
    assert {before[r]["email"][0] for r in quiet} == {"deferred"}
    assert {before[r]["email"][0] for r in awake} == {"pending"}

    await run(
        activities.set_broadcast_status,
        BroadcastStatusInput(broadcast_id, tenant, BroadcastStatus.CANCELLED),
    )

    after = await deliveries_of(sessions, broadcast_id)
    assert {r: {c: s[0] for c, s in channels.items()} for r, channels in after.items()} == {
        **{r: {"in_app": "cancelled", "email": "cancelled"} for r in quiet},
        **{r: {"in_app": "delivered", "email": "cancelled"} for r in awake},
    }
    notifications = await sql(
        sessions,
        "SELECT recipient_id, status FROM notifications WHERE broadcast_id = :id",
        id=broadcast_id,
    )
    assert {n.recipient_id: n.status for n in notifications} == {
        **{r: "cancelled" for r in quiet},
        **{r: "sent" for r in awake},
    }
    progress = await counters(sessions, broadcast_id)
    assert progress["status"] == "cancelled" and progress["finished_at"] is not None
    assert progress["deferred"] == 0


async def test_release_plans_the_due_deferrals_again(sessions, tenant, activities):
    quiet = await add_recipients(sessions, tenant, 5, preference_overrides=quiet_now())
    broadcast_id = await a_broadcast(sessions, tenant, listed=quiet)
    [page] = await walk(activities, broadcast_id, tenant)
    assert page.deferred == 10 and page.deferred_until is not None
    # Not due yet: nothing moves.
    early = await run(
        activities.release_broadcast_deferred,
        ReleaseInput(broadcast_id, tenant, datetime.now(UTC)),
    )
    assert (early.released, early.pending, early.next_deferred_until) == (
        0,
        {},
        page.deferred_until,
    )
    # The quiet hours end for four of them (their preferences change); the fifth stays quiet.
    await sql(
        sessions,
        "UPDATE recipients SET preference_overrides = '{}' WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=quiet[:4],
    )
    await sql(
        sessions,
        "UPDATE deliveries d SET deferred_until = now() - interval '1 second'"
        " FROM notifications n WHERE n.id = d.notification_id AND n.broadcast_id = :id",
        id=broadcast_id,
    )

    released = await run(
        activities.release_broadcast_deferred,
        ReleaseInput(broadcast_id, tenant, datetime.now(UTC)),
    )

    after = await deliveries_of(sessions, broadcast_id)
    assert {r: {c: s[0] for c, s in after[r].items()} for r in quiet[:4]} == {
        r: {"in_app": "delivered", "email": "pending"} for r in quiet[:4]
    }
    assert {c: s[0] for c, s in after[quiet[4]].items()} == {
        "in_app": "deferred",
        "email": "deferred",
    }
    assert released.released == 8 and released.sent == 4
    assert released.pending == {"email": 4}
    assert released.next_deferred_until == after[quiet[4]]["email"][2] > datetime.now(UTC)
    progress = await counters(sessions, broadcast_id)
    assert (progress["deferred"], progress["sent"]) == (2, 4)
    messages = await sql(
        sessions,
        "SELECT recipient_id FROM in_app_messages WHERE recipient_id = ANY(CAST(:ids AS uuid[]))",
        ids=quiet,
    )
    assert sorted(m.recipient_id for m in messages) == quiet[:4]
    events = await sql(
        sessions,
        "SELECT recipient_id FROM inbox_events WHERE recipient_id = ANY(CAST(:ids AS uuid[]))",
        ids=quiet,
    )
    assert sorted(e.recipient_id for e in events) == quiet[:4]
    statuses = await sql(
        sessions,
        "SELECT recipient_id, status FROM notifications WHERE broadcast_id = :id",
        id=broadcast_id,
    )
    assert {s.recipient_id: s.status for s in statuses} == {
        **{r: "sending" for r in quiet[:4]},
        quiet[4]: "deferred",
    }
