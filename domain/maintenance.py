"""Pure rules of the maintenance Schedules: retry chains, failure-rate alerts, their inputs."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_RETRY_KEY = re.compile(r"^retry(\d+)-([a-z_]+)-([0-9a-f-]{36})$")


def retry_key(idempotency_key: str, notification_id: str, channel: str, budget: int) -> str | None:
    """The idempotency key of the next retry chain of a failed delivery, or None when its
    chains are used up: `retry1-email-<first notification id>`, then `retry2-...`.
    Deriving the key makes a re-run of the job find the retry it already made."""
    match = _RETRY_KEY.match(idempotency_key)
    done, first = (int(match[1]), match[3]) if match else (0, notification_id)
    return f"retry{done + 1}-{channel}-{first}" if done < budget else None


def over_threshold(total: int, failed: int, threshold: float, min_deliveries: int) -> bool:
    """A handful of deliveries says little: below `min_deliveries` nothing alerts."""
    return total >= min_deliveries and failed / total >= threshold


def hour_of(moment: datetime) -> datetime:
    """The window an alert belongs to: at most one alert per subject and hour."""
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class PurgeInput:
    retention_days: int
    batch_size: int = 1000
    max_batches: int = 1000  # per run and table: a run stays bounded, the next one continues
    # The inbox's own retentions (INBOX_* settings). Defaulted: a run started with an input
    # written before they existed purges with Herald's defaults.
    inbox_event_retention_days: int = 7
    inbox_archived_retention_days: int = 30
    inbox_expired_grace_hours: int = 24


@dataclass(frozen=True)
class PurgeCutoffs:
    """What is old enough to go, at one moment: rows from before each of these times."""

    logs: datetime  # finished notifications, processed events, ended bookings, alerts
    inbox_events: datetime  # the per-recipient event log behind live streams
    archived_messages: datetime  # read in-app messages archived before this
    expired_messages: datetime  # in-app messages that expired before this

    @classmethod
    def of(cls, input: PurgeInput, now: datetime) -> "PurgeCutoffs":
        return cls(
            logs=now - timedelta(days=input.retention_days),
            inbox_events=now - timedelta(days=input.inbox_event_retention_days),
            archived_messages=now - timedelta(days=input.inbox_archived_retention_days),
            expired_messages=now - timedelta(hours=input.inbox_expired_grace_hours),
        )


@dataclass
class PurgeResult:
    deleted: dict[str, int]


@dataclass
class RetryFailedInput:
    window_minutes: int = 60  # only recent failures: a late notice can be worse than none
    limit: int = 500


@dataclass
class RetryFailedResult:
    retried: int
    exhausted: int


@dataclass
class FailureMonitorInput:
    window_minutes: int = 60


@dataclass
class FailureMonitorResult:
    alerts: int
    notified: int


@dataclass
class DailyStatsInput:
    """The daily statistics rollup's refresh (domain/daily_stats.py)."""

    refresh_days: int  # recompute the days 2 to this many days old (DAILY_STATS_REFRESH_DAYS)
    retention_days: int  # LOG_RETENTION_DAYS: older days are the purge's, counted raw


@dataclass
class DailyStatsResult:
    days: int  # days computed
    rows: int  # rows those days hold


@dataclass
class StrandedBroadcastsInput:
    """The sweep of broadcasts stored without a workflow (services/stranded_broadcasts.py)."""

    # Younger broadcasts may still be starting: their request is between its INSERT and its
    # workflow start.
    min_age_seconds: int = 60
    limit: int = 100  # per run, oldest first: the next run takes the rest


@dataclass
class StrandedBroadcastsResult:
    restarted: list[uuid.UUID] = field(default_factory=list)  # had no workflow: started now
    running: list[uuid.UUID] = field(default_factory=list)  # have one (not started yet): untouched
    # Their workflow ended without finishing the row (terminated, say): starting it again is
    # refused until Temporal's retention forgets it.
    ended: list[uuid.UUID] = field(default_factory=list)
