"""The notification workflow's queries: plan, load, record.

They run several times for every notification, so they are plain SQL returning plain rows:
under `make bench` the ORM's entity loading and statement compilation were ~35% of the
worker's CPU (py-spy), and these few statements are simple enough to read as SQL.
"""

import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from db.opt_outs import unsubscribed_sql
from db.policy_store import settings_from_columns
from domain.chat import chat_address
from domain.email_headers import EmailIdentity
from domain.inbox import InboxMessage
from domain.name_based_ids import NameBasedIds
from domain.planning import reachable_channels
from domain.policy import TenantSettings
from domain.types import OPEN_DELIVERY_STATUSES, Channel

DELIVERY_NAMESPACE = uuid.UUID("6f1d3a52-3c1e-4d8a-9a63-0d5b1c1e7e11")
_delivery_ids = NameBasedIds(DELIVERY_NAMESPACE)
# SQL's spelling of the open statuses: a delivery in one of them has not been settled yet.
_OPEN = ", ".join(f"'{status}'" for status in sorted(OPEN_DELIVERY_STATUSES))


def delivery_id_for(notification_id: uuid.UUID, channel: str, chain: int = 0) -> uuid.UUID:
    """Deterministic, so a retried plan step finds the rows it already wrote."""
    return _delivery_ids(f"{notification_id}:{channel}:{chain}")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NotificationRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    event_key: str
    priority: str
    channels: list[str] | None
    context: dict[str, Any]
    send_at: datetime | None


@dataclass(frozen=True)
class RecipientRow:
    id: uuid.UUID
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    timezone: str
    locale: str
    preference_overrides: dict[str, Any]
    chat_addresses: dict[str, Any] = field(default_factory=dict)
    push_devices: int = 0  # active devices, when read for planning (else 0)
    webhook_channel: bool = False  # the tenant has an enabled webhook channel (planning)

    @property
    def reachable(self) -> set[Channel]:
        """The channels the recipient has an address for (domain.planning)."""
        return reachable_channels(
            self.email,
            self.phone,
            push_devices=self.push_devices,
            chat_address=chat_address(self.chat_addresses),
            webhook_channel=self.webhook_channel,
        )

    def address_for(self, channel: str) -> str | None:
        """What a delivery on `channel` records as its address: the email address, the phone
        number, the chat address (`slack:U123`). Push goes to the recipient's devices and the
        webhook channel to the tenant's URL, both read when sending: None."""
        if channel == Channel.EMAIL:
            return self.email
        if channel == Channel.SMS:
            return self.phone
        if channel == Channel.CHAT:
            return chat_address(self.chat_addresses)
        return None


@dataclass(frozen=True)
class DeliveryRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    channel: str
    address: str | None
    status: str
    status_reason: str | None
    error: str | None
    provider: str | None
    provider_message_id: str | None
    deferred_until: datetime | None


@dataclass(frozen=True)
class NotificationContext:
    notification: NotificationRow
    recipient: RecipientRow
    preference_defaults: dict[str, Any]
    deliveries: list[DeliveryRow]  # non-empty when a previous run of the plan step committed
    policy_settings: TenantSettings
    fallbacks: dict[str, dict]  # the tenant's fallback rules by event key
    invalid_addresses: dict[
        str, str
    ]  # channel -> why the recipient's address there is undeliverable
    # (channel, category) pairs the recipient's addresses are unsubscribed from, through
    # whichever recipient (db/opt_outs.py)
    unsubscribed: frozenset[tuple[str, str]] = frozenset()


# The records the queries below read rows into.
RecordT = TypeVar("RecordT", NotificationRow, RecipientRow, DeliveryRow)


@dataclass(frozen=True)
class DeliveryJob:
    delivery: DeliveryRow
    notification: NotificationRow
    recipient: RecipientRow
    identity: EmailIdentity  # the tenant's sender, for an email
    claimed: bool  # this attempt holds the delivery's send claim
    claim_held_for: float | None  # how many seconds another attempt's claim still holds it


def _columns(table: str, record: type[RecordT], instead: dict[str, str] | None = None) -> str:
    """`n.id AS n_id, n.tenant_id AS n_tenant_id, ...`: every field of `record`, labelled by
    table; `instead` gives some fields another expression."""
    instead = instead or {}
    return ", ".join(
        f"{instead.get(f.name, f'{table}.{f.name}')} AS {table}_{f.name}" for f in fields(record)
    )


def _record(row: Row[Any], table: str, record: type[RecordT]) -> RecordT:
    """The `record` a row's `_columns(table, record)` columns hold, read by name."""
    values = row._mapping
    return record(**{f: values[f"{table}_{f}"] for f in _FIELD_NAMES[record]})


# Each record's field names, worked out once rather than for every row read.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    record: tuple(f.name for f in fields(record))
    for record in (NotificationRow, RecipientRow, DeliveryRow)
}
_NOTIFICATION = _columns("n", NotificationRow)
# What planning reads about a recipient's push devices and its tenant's webhook channel.
PUSH_DEVICES_SQL = "(SELECT count(*) FROM devices dv WHERE dv.recipient_id = r.id AND dv.active)"
WEBHOOK_CHANNEL_SQL = (
    "EXISTS (SELECT FROM webhook_channels w WHERE w.tenant_id = r.tenant_id AND w.enabled)"
)
_REACHABILITY = {"push_devices": PUSH_DEVICES_SQL, "webhook_channel": WEBHOOK_CHANNEL_SQL}
_RECIPIENT = _columns("r", RecipientRow, {"push_devices": "0", "webhook_channel": "false"})
# Planning sends to the addresses the notification was accepted with (migration 0009), so a
# later write to the recipient cannot redirect it; rows from before have none: the recipient's.
_EMAIL, _PHONE = "coalesce(n.recipient_email, r.email)", "coalesce(n.recipient_phone, r.phone)"
_RECIPIENT_AS_ACCEPTED = _columns(
    "r", RecipientRow, {"email": _EMAIL, "phone": _PHONE, **_REACHABILITY}
)
_DELIVERY = _columns("d", DeliveryRow)

# Everything the planning step reads, in one round trip: the notification, its recipient,
# the tenant's defaults and policy settings, deliveries already planned, whether a
# provider reported the recipient's addresses as undeliverable, and what they unsubscribed from.
_LOAD_CONTEXT = text(f"""
    SELECT {_NOTIFICATION}, {_RECIPIENT_AS_ACCEPTED}, t.preference_defaults,
           coalesce((SELECT json_agg(json_build_object(
                         'id', d.id, 'tenant_id', d.tenant_id, 'channel', d.channel,
                         'address', d.address, 'status', d.status, 'status_reason', d.status_reason,
                         'error', d.error, 'provider', d.provider,
                         'provider_message_id', d.provider_message_id,
                         'deferred_until', d.deferred_until) ORDER BY d.created_at)
                     FROM deliveries d WHERE d.notification_id = n.id), '[]') AS deliveries,
           p.reminder_event_keys, p.urgent_bypass, p.fallbacks, p.retry_window_minutes,
           (SELECT i.reason FROM invalid_addresses i WHERE i.tenant_id = n.tenant_id
                AND i.channel = 'email' AND lower(i.address) = lower({_EMAIL})) AS email_invalid,
           (SELECT i.reason FROM invalid_addresses i WHERE i.tenant_id = n.tenant_id
                AND i.channel = 'sms' AND lower(i.address) = lower({_PHONE})) AS sms_invalid,
           {unsubscribed_sql("email", _EMAIL)} AS email_unsubscribed,
           {unsubscribed_sql("sms", _PHONE)} AS sms_unsubscribed
    FROM notifications n
    JOIN recipients r ON r.id = n.recipient_id
    JOIN tenants t ON t.id = n.tenant_id
    LEFT JOIN tenant_policy_settings p ON p.tenant_id = n.tenant_id
    WHERE n.id = :notification_id AND n.tenant_id = :tenant_id
""")


async def load_notification_context(
    session: AsyncSession, notification_id: uuid.UUID, tenant_id: uuid.UUID
) -> NotificationContext | None:
    row = (
        await session.execute(
            _LOAD_CONTEXT, {"notification_id": notification_id, "tenant_id": tenant_id}
        )
    ).one_or_none()
    if row is None:
        return None
    settings, fallbacks = settings_from_columns(
        row.reminder_event_keys, row.urgent_bypass, row.fallbacks, row.retry_window_minutes
    )
    invalid = {
        channel: reason
        for channel, reason in (("email", row.email_invalid), ("sms", row.sms_invalid))
        if reason
    }
    return NotificationContext(
        _record(row, "n", NotificationRow),
        _record(row, "r", RecipientRow),
        row.preference_defaults,
        [_delivery_from_json(d) for d in row.deliveries],
        settings,
        fallbacks,
        invalid,
        frozenset(
            (channel, category)
            for channel, categories in (
                ("email", row.email_unsubscribed),
                ("sms", row.sms_unsubscribed),
            )
            for category in categories
        ),
    )


def _delivery_from_json(d: dict[str, Any]) -> DeliveryRow:
    until = d["deferred_until"]
    return DeliveryRow(
        **{
            **d,
            "id": uuid.UUID(d["id"]),
            "tenant_id": uuid.UUID(d["tenant_id"]),
            "deferred_until": datetime.fromisoformat(until) if until else None,
        }
    )


_PLAN_COLUMNS = (
    "id",
    "tenant_id",
    "notification_id",
    "channel",
    "address",
    "status",
    "status_reason",
    "deferred_until",
)


# A send's job (DeliveryJob) from a delivery `d`: its notification and recipient, and the
# tenant's email identity.
JOB_COLUMNS = f"{_DELIVERY}, {_NOTIFICATION}, {_RECIPIENT}, e.from_name, e.from_address, e.reply_to"
JOB_JOINS = """
    JOIN notifications n ON n.id = d.notification_id
    JOIN recipients r ON r.id = n.recipient_id
    LEFT JOIN tenant_email_identities e ON e.tenant_id = d.tenant_id AND d.channel = 'email'
"""
CLAIMED_UNTIL = "now() + make_interval(secs => :lease_seconds)"
_CLAIMED_CHANNELS = ("email", "sms")


def _needs_claim(table: str) -> str:
    """A send to a provider is claimed: an open email or SMS delivery with an address (the
    same as `_claimable`, in SQL)."""
    return (
        f"{table}.status IN ({_OPEN}) AND {table}.channel IN {_CLAIMED_CHANNELS}"
        f" AND {table}.address IS NOT NULL"
    )


def _claimable(row: dict[str, Any]) -> bool:
    """`_needs_claim` of a row about to be inserted."""
    return (
        row["status"] in OPEN_DELIVERY_STATUSES
        and row["channel"] in _CLAIMED_CHANNELS
        and row["address"] is not None
    )


def job_from_row(row: Row[Any], claimed: bool, claim_held_for: float | None) -> DeliveryJob:
    return DeliveryJob(
        _record(row, "d", DeliveryRow),
        _record(row, "n", NotificationRow),
        _record(row, "r", RecipientRow),
        EmailIdentity(row.from_name, row.from_address, row.reply_to),
        claimed=claimed,
        claim_held_for=claim_held_for,
    )


async def record_plan(
    session: AsyncSession,
    notification_id: uuid.UUID,
    rows: list[dict[str, Any]],
    status: str | None,
    claim: tuple[uuid.UUID, float] | None = None,
) -> DeliveryJob | None:
    """A new plan's deliveries and (unless None) the notification's status, in one statement:
    atomic without a transaction, and a single round trip.

    With `claim` (one of the plan's deliveries, and a lease in seconds), that delivery, when it
    is a send to a provider, is inserted claimed for the send the caller makes next (as
    load_and_claim_delivery_job claims one), and its job is returned. None when there is no
    such send, or when the row was there already: another attempt planned it first, and a send
    reads and claims its job as every send does."""
    if not rows:
        if status is not None:
            await set_notification_status(session, notification_id, status)
        return None
    claimed = next(
        (
            i
            for i, row in enumerate(rows)
            if claim is not None and row["id"] == claim[0] and _claimable(row)
        ),
        None,
    )
    columns = _PLAN_COLUMNS if claimed is None else (*_PLAN_COLUMNS, "send_claimed_until")
    values = ", ".join(
        "("
        + ", ".join(f":{column}_{i}" for column in _PLAN_COLUMNS)
        + ("" if claimed is None else f", {CLAIMED_UNTIL if i == claimed else 'NULL'}")
        + ")"
        for i in range(len(rows))
    )
    insert = f"""
        INSERT INTO deliveries ({", ".join(columns)}) VALUES {values}
        ON CONFLICT (id) DO NOTHING
    """
    settle = """
        UPDATE notifications SET status = CAST(:status AS text), updated_at = now()
        WHERE id = :notification_id AND CAST(:status AS text) IS NOT NULL
    """
    parameters = {
        f"{column}_{i}": row[column] for i, row in enumerate(rows) for column in _PLAN_COLUMNS
    }
    parameters |= {"notification_id": notification_id, "status": status}
    if claim is None or claimed is None:
        await session.execute(text(f"WITH planned AS ({insert}) {settle}"), parameters)
        return None
    # The SELECT reads what the INSERT returns: the claimed row only if this statement made it.
    statement = text(f"""
        WITH d AS ({insert} RETURNING *), settled AS ({settle})
        SELECT {JOB_COLUMNS} FROM d {JOB_JOINS} WHERE d.id = :claimed_id
    """)
    lease_parameters = {"claimed_id": rows[claimed]["id"], "lease_seconds": claim[1]}
    row = (await session.execute(statement, parameters | lease_parameters)).one_or_none()
    return None if row is None else job_from_row(row, claimed=True, claim_held_for=None)


# A send's read and its claim, in one round trip: the delivery with its notification and
# recipient, the tenant's email identity and, for a send to a provider (an open email or SMS
# delivery with an address), the claim on it for one attempt's call to the provider. The claim is
# taken unless another attempt's claim still holds (it runs out after its lease), so of two
# attempts at the same moment exactly one claims it. The outer SELECT reads the rows as they were
# before the claim: `held_for` is what is left of another attempt's claim, when this one took
# none.
_LOAD_AND_CLAIM_JOB = text(f"""
    WITH claim AS (
        UPDATE deliveries SET send_claimed_until = {CLAIMED_UNTIL}
        WHERE id = :delivery_id AND tenant_id = :tenant_id AND {_needs_claim("deliveries")}
            AND (send_claimed_until IS NULL OR send_claimed_until < now())
        RETURNING id
    )
    SELECT {JOB_COLUMNS},
           {_needs_claim("d")} AS needs_claim,
           EXISTS (SELECT FROM claim) AS claimed,
           greatest(extract(epoch FROM d.send_claimed_until - now()), 0) AS held_for
    FROM deliveries d {JOB_JOINS}
    WHERE d.id = :delivery_id AND d.tenant_id = :tenant_id
""")
_CLAIM_HELD_FOR = text(
    "SELECT greatest(extract(epoch FROM send_claimed_until - now()), 0) FROM deliveries"
    " WHERE id = :delivery_id"
)
_RELEASE_SEND = text("UPDATE deliveries SET send_claimed_until = NULL WHERE id = :delivery_id")


async def load_and_claim_delivery_job(
    session: AsyncSession, delivery_id: uuid.UUID, tenant_id: uuid.UUID, lease_seconds: float
) -> DeliveryJob | None:
    """The job of one send attempt, None when there is no such delivery. A send to a provider
    is claimed for `lease_seconds` (`claimed`) unless another attempt's claim holds it
    (`claim_held_for`: how many seconds it still does); a final delivery, an in-app one or one
    without an address needs no claim and gets none."""
    row = (
        await session.execute(
            _LOAD_AND_CLAIM_JOB,
            {"delivery_id": delivery_id, "tenant_id": tenant_id, "lease_seconds": lease_seconds},
        )
    ).one_or_none()
    if row is None:
        return None
    held_for = None
    if row.needs_claim and not row.claimed:
        held_for = float(row.held_for or 0)
        if held_for == 0:  # claimed by an attempt that committed after this statement began
            held_for = float(
                await session.scalar(_CLAIM_HELD_FOR, {"delivery_id": delivery_id}) or 0
            )
    return job_from_row(row, row.claimed, held_for)


async def release_send(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    """The attempt failed without the provider taking the message: the next may go at once."""
    await session.execute(_RELEASE_SEND, {"delivery_id": delivery_id})


_UPDATABLE = {
    "status",
    "status_reason",
    "provider",
    "provider_message_id",
    "provider_response",
    "error",
    "retry_count",
    "subject",
    "deferred_until",
    "sent_at",
    "delivered_at",
    "failed_at",
    "template_version_id",
    "send_claimed_until",
}


async def update_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, *, only_if_open: bool = False, **values: Any
) -> None:
    """Set the given columns; with `only_if_open`, only while no final status was recorded
    (statuses move forward: a late write never undoes a send or a webhook's update)."""
    unknown = set(values) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    guard = f" AND status IN ({_OPEN})" if only_if_open else ""
    statement = text(
        f"UPDATE deliveries SET {assignments}, updated_at = now() WHERE id = :delivery_id{guard}"
    )
    if "provider_response" in values:
        statement = statement.bindparams(bindparam("provider_response", type_=JSONB))
    await session.execute(statement, {**values, "delivery_id": delivery_id})


_SET_NOTIFICATION_STATUS = text("""
    UPDATE notifications SET status = :status, status_reason = :reason, updated_at = now()
    WHERE id = :notification_id
""")


async def set_notification_status(
    session: AsyncSession, notification_id: uuid.UUID, status: str, reason: str | None = None
) -> None:
    """The reason explains this status (a bookkeeping step that failed), so a new status
    without one clears it."""
    await session.execute(
        _SET_NOTIFICATION_STATUS,
        {"notification_id": notification_id, "status": status, "reason": reason},
    )


# The notification says what else the message carries: its event key is the inbox category, and
# its inbox_options the tags and the expiry. A retry finds the row there and stores nothing.
_STORE_IN_APP = text("""
    INSERT INTO in_app_messages
        (id, tenant_id, recipient_id, notification_id, title, body, action_url, priority,
         category, tags, expires_at)
    SELECT :id, :tenant_id, :recipient_id, n.id, :title, :body, :action_url, :priority,
           n.event_key,
           coalesce(ARRAY(SELECT jsonb_array_elements_text(n.inbox_options -> 'tags')), '{}'),
           CAST(n.inbox_options ->> 'expires_at' AS timestamptz)
    FROM notifications n WHERE n.id = :notification_id
    ON CONFLICT (id) DO NOTHING
    RETURNING id, notification_id, title, body, action_url, priority, category, tags, created_at,
              read_at, seen_at, archived_at, snoozed_until, expires_at
""")


async def store_in_app_message(
    session: AsyncSession, values: dict[str, Any]
) -> InboxMessage | None:
    """The message as stored, or None when an earlier attempt stored it already."""
    row = (await session.execute(_STORE_IN_APP, values)).one_or_none()
    return None if row is None else InboxMessage(**row._asdict())


_APPEND_FAILOVER = text("""
    UPDATE deliveries
    SET failover_log = coalesce(failover_log, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
            'provider', CAST(:from_provider AS text), 'moved_to', CAST(:to_provider AS text),
            'reason', CAST(:reason AS text), 'at', now())),
        updated_at = now()
    WHERE id = :delivery_id
""")


async def append_failover(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    from_provider: str | None,
    to_provider: str | None,
    reason: str,
) -> None:
    await session.execute(
        _APPEND_FAILOVER,
        {
            "delivery_id": delivery_id,
            "from_provider": from_provider,
            "to_provider": to_provider,
            "reason": reason,
        },
    )


_LATEST_STATUSES = text("""
    SELECT DISTINCT ON (channel) status FROM deliveries
    WHERE notification_id = :notification_id ORDER BY channel, created_at DESC
""")


async def latest_statuses(session: AsyncSession, notification_id: uuid.UUID) -> list[str]:
    return list(
        (await session.scalars(_LATEST_STATUSES, {"notification_id": notification_id})).all()
    )


# One statement, so atomic without a transaction: the delivery's acceptance and, when the
# workflow has nothing left to do after it, the notification's final status.
_MARK_SENT = text(f"""
    WITH sent AS (
        UPDATE deliveries
        SET status = CASE WHEN status IN ({_OPEN}) THEN 'sent' ELSE status END,
            provider = :provider, provider_message_id = :provider_message_id,
            provider_response = :provider_response, subject = :subject,
            template_version_id = :template_version_id, retry_count = :retry_count, error = NULL,
            sent_at = coalesce(sent_at, now()), updated_at = now()
        WHERE id = :delivery_id
        RETURNING notification_id
    )
    UPDATE notifications SET status = CAST(:settles_as AS text), updated_at = now()
    WHERE CAST(:settles_as AS text) IS NOT NULL AND id IN (SELECT notification_id FROM sent)
""").bindparams(bindparam("provider_response", type_=JSONB))


async def mark_sent(
    session: AsyncSession, delivery_id: uuid.UUID, settles_as: str | None = None, **values: Any
) -> None:
    """Record the provider's acceptance, and with `settles_as`, the notification's status.
    A webhook may have reported `delivered` (matched by Herald's delivery id) before this
    write: the delivery's status then stays where it moved to."""
    await session.execute(
        _MARK_SENT, {**values, "delivery_id": delivery_id, "settles_as": settles_as}
    )
