"""A broadcast's pages (activities/broadcasts.py): the audience read by keyset, what the policy
needs for a page's recipients, and the page's rows written, each in a few set-based statements.

Plain SQL over arrays (`unnest`), as db/deliveries.py: a page of 500 recipients is one round
trip per kind of row, never one per recipient.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.deliveries import PUSH_DEVICES_SQL, WEBHOOK_CHANNEL_SQL, NotificationRow, RecipientRow
from db.opt_outs import unsubscribed_sql
from db.policy_store import settings_from_columns
from domain.broadcasts import FINISHED_BROADCAST_STATUSES, AudienceKind, BroadcastStatus
from domain.contacts import ERASED_PREFIX
from domain.policy import TenantSettings
from domain.types import Channel, DeliveryStatus

FINISHED_SQL = ", ".join(f"'{status}'" for status in sorted(FINISHED_BROADCAST_STATUSES))


@dataclass(frozen=True)
class BroadcastRow:
    """A broadcast with what planning each of its recipients needs from its tenant."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    event_key: str
    priority: str
    channels: list[str] | None
    context: dict[str, Any]
    audience_kind: AudienceKind
    topic_key: str | None
    status: BroadcastStatus
    total: int | None  # the audience's size when it started running
    preference_defaults: dict[str, Any]
    policy_settings: TenantSettings

    @property
    def notification(self) -> NotificationRow:
        """The notification each recipient gets, as planning and rendering read one (its id
        is the recipient's own: `notification_id_for`)."""
        return NotificationRow(
            self.id, self.tenant_id, self.event_key, self.priority, self.channels, self.context,
            None,
        )  # fmt: skip


_BROADCAST = """
    SELECT b.id, b.tenant_id, b.event_key, b.priority, b.channels, b.context, b.audience_kind,
           b.topic_key, b.status, b.total, t.preference_defaults,
           p.reminder_event_keys, p.urgent_bypass, p.fallbacks, p.retry_window_minutes
    FROM broadcasts b
    JOIN tenants t ON t.id = b.tenant_id
    LEFT JOIN tenant_policy_settings p ON p.tenant_id = b.tenant_id
    WHERE b.id = :broadcast_id AND b.tenant_id = :tenant_id
"""
# A release's and a status change's transaction hold the broadcast's lock; a page's parts hold
# it shared, so a page's parts run at once, and a cancel waits for the page under way. Each part
# also holds its own lock (the broadcast and where the part starts): two runs of one page (a
# retry while the first still runs) take turns, and the second finds the first's notifications
# written. Advisory locks, not the row's: the sends' counter updates of the row do not wait for
# a page being planned.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:broadcast_id AS text), 15))")
_LOCK_PART = text("""
    SELECT pg_advisory_xact_lock_shared(hashtextextended(CAST(:broadcast_id AS text), 15)),
           pg_advisory_xact_lock(hashtextextended(CAST(:broadcast_id AS text) || ':'
                                                  || coalesce(CAST(:after AS text), ''), 15))
""")
_READ_BROADCAST = text(_BROADCAST)


async def lock_broadcast(
    session: AsyncSession, broadcast_id: uuid.UUID, tenant_id: uuid.UUID
) -> BroadcastRow | None:
    """The broadcast, read once its lock is held (so as it is after the run before)."""
    await session.execute(_LOCK, {"broadcast_id": broadcast_id})
    return await read_broadcast(session, broadcast_id, tenant_id)


async def lock_page_part(
    session: AsyncSession, broadcast_id: uuid.UUID, tenant_id: uuid.UUID, after: uuid.UUID | None
) -> BroadcastRow | None:
    """The broadcast, read once the locks of its page's part starting after `after` are held."""
    await session.execute(_LOCK_PART, {"broadcast_id": broadcast_id, "after": after})
    return await read_broadcast(session, broadcast_id, tenant_id)


async def read_broadcast(
    session: AsyncSession, broadcast_id: uuid.UUID, tenant_id: uuid.UUID
) -> BroadcastRow | None:
    row = (
        await session.execute(
            _READ_BROADCAST, {"broadcast_id": broadcast_id, "tenant_id": tenant_id}
        )
    ).one_or_none()
    if row is None:
        return None
    settings, _fallbacks = settings_from_columns(
        row.reminder_event_keys, row.urgent_bypass, row.fallbacks, row.retry_window_minutes
    )
    return BroadcastRow(
        row.id,
        row.tenant_id,
        row.event_key,
        row.priority,
        row.channels,
        row.context or {},
        AudienceKind(row.audience_kind),
        row.topic_key,
        BroadcastStatus(row.status),
        row.total,
        row.preference_defaults,
        settings,
    )


# The audience's recipient ids, by kind; `{after}` is the keyset condition (or nothing).
_AUDIENCE = {
    AudienceKind.RECIPIENTS: """SELECT recipient_id FROM broadcast_recipients
        WHERE broadcast_id = :broadcast_id {after}""",
    AudienceKind.TOPIC: """SELECT recipient_id FROM topic_subscriptions
        WHERE tenant_id = :tenant_id AND topic_key = :topic_key {after}""",
    # Erased recipients' anonymous rows are no one's: never an audience.
    AudienceKind.TENANT: f"""SELECT id AS recipient_id FROM recipients
        WHERE tenant_id = :tenant_id AND external_id NOT LIKE '{ERASED_PREFIX}%' {{after}}""",
}


def _audience(
    kind: AudienceKind,
    after: uuid.UUID | None,
    column: str = "recipient_id",
    through: uuid.UUID | None = None,
) -> str:
    """The audience's ids after `after` (None: from the first), through `through` (None: to
    the last)."""
    column = "id" if kind == AudienceKind.TENANT else column
    bounds = (f"AND {column} > :after" if after else "") + (
        f" AND {column} <= :through" if through else ""
    )
    return _AUDIENCE[kind].format(after=bounds)


def _audience_parameters(
    broadcast: BroadcastRow, after: uuid.UUID | None, through: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "broadcast_id": broadcast.id,
        "tenant_id": broadcast.tenant_id,
        "topic_key": broadcast.topic_key,
        "after": after,
        "through": through,
    }


async def audience_ids(
    session: AsyncSession, broadcast: BroadcastRow, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """The ids of the audience's next `limit` recipients after `after`, in order."""
    statement = text(f"{_audience(broadcast.audience_kind, after)} ORDER BY 1 LIMIT :limit")
    parameters = _audience_parameters(broadcast, after) | {"limit": limit}
    return list((await session.execute(statement, parameters)).scalars())


async def audience_size(session: AsyncSession, broadcast: BroadcastRow) -> int:
    statement = text(f"SELECT count(*) FROM ({_audience(broadcast.audience_kind, None)}) a")
    return int(await session.scalar(statement, _audience_parameters(broadcast, None)) or 0)


@dataclass(frozen=True)
class Member:
    """One recipient of a page: who, whether an earlier run wrote its notification, and what
    the policy reads about its addresses (as db/deliveries.load_notification_context)."""

    recipient: RecipientRow
    written: bool
    invalid_addresses: dict[str, str]  # channel -> why its address there is undeliverable
    unsubscribed: frozenset[tuple[str, str]]  # (channel, category) of its addresses


def invalid_sql(channel: str, address: str) -> str:
    return f"""(SELECT i.reason FROM invalid_addresses i WHERE i.tenant_id = r.tenant_id
                AND i.channel = '{channel}' AND lower(i.address) = lower({address}))"""


# Each recipient read by its id (OFFSET 0 keeps the planner from merging the lookup into a
# scan of the tenant's recipients, which it picked on a freshly loaded table without statistics,
# filtering that whole scan for every recipient of the page).
_PAGE = """
    WITH page AS MATERIALIZED ({audience})
    SELECT r.id, r.external_id, r.name, r.email, r.phone, r.timezone, r.locale,
           r.preference_overrides, r.chat_addresses,
           {push_devices} AS push_devices, {webhook_channel} AS webhook_channel,
           EXISTS (SELECT FROM notifications n WHERE n.broadcast_id = :broadcast_id
                   AND n.recipient_id = r.id) AS written,
           {email_invalid} AS email_invalid, {sms_invalid} AS sms_invalid,
           {email_unsubscribed} AS email_unsubscribed, {sms_unsubscribed} AS sms_unsubscribed
    FROM page
    CROSS JOIN LATERAL (SELECT * FROM recipients WHERE id = page.recipient_id OFFSET 0) r
    WHERE r.tenant_id = :tenant_id
    ORDER BY r.id
"""


async def audience_page(
    session: AsyncSession,
    broadcast: BroadcastRow,
    after: uuid.UUID | None,
    through: uuid.UUID,
) -> list[Member]:
    """The audience's recipients after `after` (None: from the first) through `through`, by
    id, in one query."""
    statement = text(
        _PAGE.format(
            audience=_audience(broadcast.audience_kind, after, through=through),
            # Read only when the broadcast may go by push or webhook (a subquery per recipient).
            push_devices=PUSH_DEVICES_SQL if _may_use(broadcast, Channel.PUSH) else "0",
            webhook_channel=(
                WEBHOOK_CHANNEL_SQL if _may_use(broadcast, Channel.WEBHOOK) else "false"
            ),
            email_invalid=invalid_sql("email", "r.email"),
            sms_invalid=invalid_sql("sms", "r.phone"),
            email_unsubscribed=unsubscribed_sql("email", "r.email", tenant="r.tenant_id"),
            sms_unsubscribed=unsubscribed_sql("sms", "r.phone", tenant="r.tenant_id"),
        )
    )
    rows = await session.execute(statement, _audience_parameters(broadcast, after, through))
    return [member_of(row) for row in rows]


def _may_use(broadcast: BroadcastRow, channel: Channel) -> bool:
    """Whether the broadcast may send on `channel`: it names it, or names none (then the
    recipients' preferences choose)."""
    return broadcast.channels is None or channel in broadcast.channels


def member_of(row: Row[Any]) -> Member:
    """A Member from a row with `_PAGE`'s columns."""
    invalid: dict[str, str] = {}
    unsubscribed: frozenset[tuple[str, str]] = frozenset()
    if row.email_invalid or row.sms_invalid:  # rare: most rows skip building these
        invalid = {
            channel: reason
            for channel, reason in (("email", row.email_invalid), ("sms", row.sms_invalid))
            if reason
        }
    if row.email_unsubscribed or row.sms_unsubscribed:
        unsubscribed = frozenset(
            [("email", category) for category in row.email_unsubscribed]
            + [("sms", category) for category in row.sms_unsubscribed]
        )
    recipient = RecipientRow(
        row.id,
        row.external_id,
        row.name,
        row.email,
        row.phone,
        row.timezone,
        row.locale,
        row.preference_overrides,
        row.chat_addresses or {},
        row.push_devices,
        row.webhook_channel,
    )
    return Member(recipient, row.written, invalid, unsubscribed)


# --- send counters (caps and rate limits), many recipients at once -------------------------

CounterKey = tuple[uuid.UUID, str, datetime]  # recipient, kind, window start

_COUNTS = text("""
    SELECT c.recipient_id, c.kind, c.window_start, c.count AS sent
    FROM unnest(CAST(:recipient_ids AS uuid[]), CAST(:kinds AS text[]),
                CAST(:windows AS timestamptz[])) AS w(recipient_id, kind, window_start)
    JOIN send_counters c USING (recipient_id, kind, window_start)
""")


async def sent_counts(session: AsyncSession, keys: list[CounterKey]) -> dict[CounterKey, int]:
    """policy_store.sent_in for many counters: those never taken are left out (0)."""
    if not keys:
        return {}
    rows = await session.execute(_COUNTS, _counter_parameters(keys))
    return {(r.recipient_id, r.kind, r.window_start): r.sent for r in rows}


# policy_store.take_slot for many counters: a slot is taken only while fewer than the counter's
# cap are; the rows are locked in key order, so two pages (or a single notification) sharing a
# recipient take turns.
_TAKE = text("""
    WITH wanted AS (
        SELECT * FROM unnest(CAST(:recipient_ids AS uuid[]), CAST(:kinds AS text[]),
                             CAST(:windows AS timestamptz[]), CAST(:caps AS int[]))
            AS w(recipient_id, kind, window_start, cap)
    )
    INSERT INTO send_counters AS c (recipient_id, kind, window_start, count)
    SELECT recipient_id, kind, window_start, 1 FROM wanted
    ORDER BY recipient_id, kind, window_start
    ON CONFLICT (recipient_id, kind, window_start) DO UPDATE SET count = c.count + 1
    WHERE c.count < (SELECT w.cap FROM wanted w WHERE w.recipient_id = c.recipient_id
                     AND w.kind = c.kind AND w.window_start = c.window_start)
    RETURNING c.recipient_id, c.kind, c.window_start
""")


async def take_slots(
    session: AsyncSession, wanted: list[tuple[CounterKey, int]]
) -> set[CounterKey]:
    """The counters (with their caps) whose slot was taken; the others were full."""
    if not wanted:
        return set()
    parameters = _counter_parameters([key for key, _cap in wanted])
    parameters["caps"] = [cap for _key, cap in wanted]
    rows = await session.execute(_TAKE, parameters)
    return {(r.recipient_id, r.kind, r.window_start) for r in rows}


def _counter_parameters(keys: list[CounterKey]) -> dict[str, Any]:
    return {
        "recipient_ids": [key[0] for key in keys],
        "kinds": [key[1] for key in keys],
        "windows": [key[2] for key in keys],
    }


# --- the page's rows -----------------------------------------------------------------------


Rows = list[dict[str, Any]]  # rows to write, each a dict of its columns' values


@dataclass
class PageRows:
    """Everything a page writes."""

    notifications: Rows = field(default_factory=list)  # NOTIFICATION_COLUMNS
    deliveries: Rows = field(default_factory=list)  # DELIVERY_COLUMNS
    messages: Rows = field(default_factory=list)  # MESSAGE_COLUMNS


# Each kind of row's columns and their SQL types.
NOTIFICATION_COLUMNS = {
    "id": "uuid",
    "recipient_id": "uuid",
    "key": "text",
    "status": "text",
    "status_reason": "text",
    "email": "text",
    "phone": "text",
}
DELIVERY_COLUMNS = {
    "id": "uuid",
    "notification_id": "uuid",
    "channel": "text",
    "address": "text",
    "status": "text",
    "status_reason": "text",
    "deferred_until": "timestamptz",
    "subject": "text",
    "template_version_id": "uuid",
    "error": "text",
}
MESSAGE_COLUMNS = {
    "id": "uuid",
    "recipient_id": "uuid",
    "notification_id": "uuid",
    "title": "text",
    "body": "text",
    "action_url": "text",
}


def recordset(name: str, columns: dict[str, str]) -> str:
    """The rows bound as `:name` (`as_json`), as a table `name` with these columns. One JSON
    text, which PostgreSQL reads fast: binding each column as an array, psycopg took longer
    to adapt the arrays' elements one by one than the statement took to run."""
    definition = ", ".join(f"{column} {kind}" for column, kind in columns.items())
    return f"json_to_recordset(CAST(:{name} AS json)) AS {name}({definition})"


def as_json(rows: Rows) -> str:
    """Rows as one JSON text; orjson writes UUIDs and datetimes itself (ISO 8601), at a tenth of
    the cost of the json module with a `default` hook, which had been a tenth of a broadcast
    page's time in the worker (py-spy, `make bench`)."""
    return orjson.dumps(rows).decode()


_DELIVERED, _FAILED = DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value


# One statement: the notifications not written yet (ON CONFLICT: a page written twice writes
# nothing twice), then only the new notifications' deliveries and in-app messages. An in-app
# message is delivered the moment its row exists (as activities/delivery.py stores one).
# Returns one row per new notification and delivery, with the id of the in-app message it stored.
def _insert_messages(where: str) -> str:
    """Insert the in-app messages of `m` (MESSAGE_COLUMNS) with the broadcast `b`'s priority,
    category (its event key), tags and expiry (its inbox options), where `where` holds; returns
    the ids of those stored (a message stored before is left as it is)."""
    return f"""
        INSERT INTO in_app_messages
            (id, tenant_id, recipient_id, notification_id, title, body, action_url, priority,
             category, tags, expires_at)
        SELECT m.id, b.tenant_id, m.recipient_id, m.notification_id, m.title, m.body,
               m.action_url, b.priority, b.event_key,
               coalesce(ARRAY(SELECT jsonb_array_elements_text(b.inbox_options -> 'tags')), '{{}}'),
               CAST(b.inbox_options ->> 'expires_at' AS timestamptz)
        FROM {recordset("m", MESSAGE_COLUMNS)}, b
        {where}
        ON CONFLICT (id) DO NOTHING
        RETURNING id
    """


_WRITE_PAGE = text(f"""
    WITH b AS (SELECT * FROM broadcasts WHERE id = :broadcast_id),
    new_n AS (
        INSERT INTO notifications
            (id, tenant_id, recipient_id, event_key, priority, channels, context, idempotency_key,
             request_digest, workflow_id, status, status_reason, recipient_email, recipient_phone,
             inbox_options, broadcast_id)
        -- Its request digest is its key's (services.new_notifications.idempotency_key_digest).
        SELECT n.id, b.tenant_id, n.recipient_id, b.event_key, b.priority, b.channels, b.context,
               n.key, sha256(convert_to(n.key, 'UTF8')), b.workflow_id, n.status,
               n.status_reason, n.email, n.phone, b.inbox_options, b.id
        FROM {recordset("n", NOTIFICATION_COLUMNS)}, b
        ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
        RETURNING id, recipient_id, status
    ),
    new_d AS (
        INSERT INTO deliveries
            (id, tenant_id, notification_id, channel, address, status, status_reason,
             deferred_until, provider, subject, template_version_id, error, sent_at, delivered_at,
             failed_at)
        SELECT d.id, :tenant_id, d.notification_id, d.channel, d.address, d.status,
               d.status_reason, d.deferred_until,
               CASE WHEN d.status = '{_DELIVERED}' THEN 'database' END, d.subject,
               d.template_version_id, d.error,
               CASE WHEN d.status = '{_DELIVERED}' THEN now() END,
               CASE WHEN d.status = '{_DELIVERED}' THEN now() END,
               CASE WHEN d.status = '{_FAILED}' THEN now() END
        FROM {recordset("d", DELIVERY_COLUMNS)}
        WHERE d.notification_id IN (SELECT id FROM new_n)
        ON CONFLICT (id) DO NOTHING
        RETURNING id, notification_id, channel, status, deferred_until
    ),
    new_m AS ({_insert_messages("WHERE m.notification_id IN (SELECT id FROM new_n)")})
    SELECT new_n.id AS notification_id, new_n.recipient_id, new_n.status AS notification_status,
           new_d.id AS delivery_id, new_d.channel, new_d.status, new_d.deferred_until,
           new_m.id AS message_id
    FROM new_n
    LEFT JOIN new_d ON new_d.notification_id = new_n.id
    LEFT JOIN new_m ON new_m.id = new_d.id
""")


@dataclass(frozen=True)
class WrittenDelivery:
    notification_id: uuid.UUID
    recipient_id: uuid.UUID
    notification_status: str
    delivery_id: uuid.UUID | None  # None: a new notification without deliveries
    channel: str | None
    status: str | None
    deferred_until: datetime | None
    message_id: uuid.UUID | None  # the in-app message it stored (the delivery's id)


async def write_page(
    session: AsyncSession, broadcast: BroadcastRow, rows: PageRows
) -> list[WrittenDelivery]:
    """The page's rows that were not written before, and what was written (see _WRITE_PAGE)."""
    parameters = {
        "broadcast_id": broadcast.id,
        "tenant_id": broadcast.tenant_id,
        "n": as_json(rows.notifications),
        "d": as_json(rows.deliveries),
        "m": as_json(rows.messages),
    }
    written = await session.execute(_WRITE_PAGE, parameters)
    return [
        WrittenDelivery(
            row.notification_id,
            row.recipient_id,
            row.notification_status,
            row.delivery_id,
            row.channel,
            row.status,
            row.deferred_until,
            row.message_id,
        )
        for row in written
    ]


_STORE_MESSAGES = text(f"""
    WITH b AS (SELECT * FROM broadcasts WHERE id = :broadcast_id)
    {_insert_messages("")}
""")


async def store_messages(
    session: AsyncSession, broadcast: BroadcastRow, messages: Rows
) -> list[uuid.UUID]:
    """In-app messages of the broadcast's notifications (MESSAGE_COLUMNS), but those stored
    already; the ids of those stored now."""
    if not messages:
        return []
    parameters = {"broadcast_id": broadcast.id, "m": as_json(messages)}
    return list((await session.execute(_STORE_MESSAGES, parameters)).scalars())


# --- the broadcast's row -------------------------------------------------------------------

_ADVANCE = text(f"""
    UPDATE broadcasts
    SET cursor = CASE WHEN cursor IS NULL OR cursor < CAST(:last AS uuid) THEN CAST(:last AS uuid)
                      ELSE cursor END,
        planned = planned + :planned, sent = sent + :sent, suppressed = suppressed + :suppressed,
        deferred = deferred + :deferred, failed = failed + :failed
    WHERE id = :broadcast_id AND status NOT IN ({FINISHED_SQL})
""")


@dataclass(frozen=True)
class Progress:
    """What a page or a release adds to the broadcast's counters (negative: takes away)."""

    planned: int = 0
    sent: int = 0
    suppressed: int = 0
    deferred: int = 0
    failed: int = 0


async def advance(
    session: AsyncSession, broadcast_id: uuid.UUID, last: uuid.UUID | None, added: Progress
) -> None:
    """Add to the counters and move the cursor forward to `last` (never back)."""
    await session.execute(
        _ADVANCE,
        {
            "broadcast_id": broadcast_id,
            "last": last,
            "planned": added.planned,
            "sent": added.sent,
            "suppressed": added.suppressed,
            "deferred": added.deferred,
            "failed": added.failed,
        },
    )


_PENDING = text(f"""
    SELECT d.channel, count(*) AS pending
    FROM notifications n JOIN deliveries d ON d.notification_id = n.id
    WHERE n.broadcast_id = :broadcast_id AND n.recipient_id = ANY(CAST(:recipient_ids AS uuid[]))
      AND d.status = '{DeliveryStatus.PENDING.value}'
    GROUP BY d.channel
""")


async def pending_counts(
    session: AsyncSession, broadcast_id: uuid.UUID, recipient_ids: list[uuid.UUID]
) -> dict[str, int]:
    """The pending deliveries of these recipients' notifications of the broadcast, by channel."""
    if not recipient_ids:
        return {}
    rows = await session.execute(
        _PENDING, {"broadcast_id": broadcast_id, "recipient_ids": recipient_ids}
    )
    return {row.channel: row.pending for row in rows}
