"""When a broadcast sweeps its transient send failures again, and which sweep is the last: pure
rules for BroadcastWorkflow (workflows/broadcast.py), which only orchestrates.

A send batch leaves a delivery that failed transiently pending (domain/broadcasts.py). Once the
walk is over, the workflow sends every such channel's pending deliveries again (a sweep),
waiting between sweeps as a single notification's retries do: from DeliveryRetry.initial_seconds,
doubling up to max_interval_seconds, at least what the provider asked (Retry-After), and never
past the retry window (max_total_seconds from when the broadcast started running, or from when
deferred deliveries were released, whichever ends later). The last sweep, at the window's end
or when DeliveryRetry.max_attempts is reached, makes what still fails final.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.broadcasts import SendBatchResult
from domain.contracts import DeliveryRetry

BACKOFF = 2.0
_MOST_DOUBLINGS = 30  # far past any max_interval; keeps BACKOFF ** round a small float


@dataclass
class RetrySweeps:
    retry: DeliveryRetry
    window_ends: datetime | None = None
    channels: set[str] = field(default_factory=set)  # channels with transient failures pending
    round: int = 0  # sweeps made of the current failures
    retry_after: float | None = None  # the longest Retry-After the latest sends asked for
    due: datetime | None = None  # when the next sweep is made (None: not scheduled yet)

    def open_window(self, now: datetime) -> None:
        """Sends made now (the first, or released deferrals) get the whole window."""
        ends = now + timedelta(seconds=self.retry.max_total_seconds)
        self.window_ends = max(self.window_ends, ends) if self.window_ends else ends

    def page_sent(self, channel: str, result: SendBatchResult) -> None:
        """A page's batch: its transient failures join the channel's sweep (other pages' stay)."""
        if result.retrying:
            self.channels.add(channel)
            self._note_retry_after(result)

    def all_sent(self, channel: str, result: SendBatchResult, final: bool) -> None:
        """A batch of every pending delivery of the channel (a sweep, or a release's send)."""
        if result.retrying and not final:
            self.channels.add(channel)
            self._note_retry_after(result)
        else:
            self.channels.discard(channel)
        if not self.channels:
            self.round, self.due, self.retry_after = 0, None, None  # new failures start afresh

    def next_due(self, now: datetime) -> datetime | None:
        """When the next sweep is made: scheduled once, at the first ask after a send."""
        if self.channels and self.due is None:
            wait = self.retry.initial_seconds * BACKOFF ** min(self.round, _MOST_DOUBLINGS)
            wait = min(wait, self.retry.max_interval_seconds)
            if self.retry_after is not None:
                wait = max(wait, self.retry_after)
            due = now + timedelta(seconds=wait)
            self.due = min(due, self.window_ends) if self.window_ends is not None else due
        return self.due

    def is_last(self, now: datetime) -> bool:
        """Whether a sweep made now is the last: the window has ended, or the attempts (the
        first send and the sweeps before) are spent."""
        window_over = self.window_ends is not None and now >= self.window_ends
        attempts = self.retry.max_attempts
        return window_over or (attempts > 0 and self.round + 2 >= attempts)

    def swept(self) -> None:
        """A sweep is being made: the next one backs off further."""
        self.round += 1
        self.due, self.retry_after = None, None

    def _note_retry_after(self, result: SendBatchResult) -> None:
        if result.retry_after_seconds is not None:
            self.retry_after = max(self.retry_after or 0.0, result.retry_after_seconds)
