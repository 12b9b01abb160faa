"""A notification's status as its workflow shows it: at once to the `status` query, and to the
Temporal Web UI through search attributes (HeraldStatus, HeraldChannels) when published.

Workflow code (deterministic)."""

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.contracts import ChannelState
    from domain.types import NotificationStatus
    from workflows import search_attributes as sa


class StatusBoard:
    def __init__(self) -> None:
        self.status = NotificationStatus.ACCEPTED
        self._published: NotificationStatus | None = None
        self._channels: list[SearchAttributeUpdate[Sequence[str]]] = []  # not upserted yet

    def set(
        self,
        status: NotificationStatus,
        channels: list[ChannelState] | None = None,
        publish: bool = True,
    ) -> None:
        """The status (and the channels it is about), published unless told otherwise.

        `sending` is published only once a send needs retries: a send that succeeds at once
        finishes in the same workflow task, where a second upsert would only cost the server."""
        self.status = status
        if channels is not None:
            self._channels.append(sa.CHANNELS.value_set([c.channel for c in channels]))
        if publish:
            self.publish()

    def publish(self) -> None:
        if self.status == self._published and not self._channels:
            return
        workflow.upsert_search_attributes([sa.STATUS.value_set(self.status), *self._channels])
        self._published, self._channels = self.status, []
