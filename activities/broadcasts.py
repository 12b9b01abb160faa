"""Broadcast activities (a stub: the pages and sends helpers replace the bodies).

The names and dataclasses are fixed by domain/broadcasts.py; BroadcastWorkflow
(workflows/broadcast.py) calls them by reference."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from channels.registry import Providers
from config.settings import Settings
from domain.broadcasts import (
    BroadcastStatusInput,
    PageInput,
    PageResult,
    ReleaseInput,
    ReleaseResult,
    SendBatchInput,
    SendBatchResult,
)


class BroadcastActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], providers: Providers, settings: Settings
    ):
        self._sessions = sessions
        self._providers = providers
        self._settings = settings

    @activity.defn(name="set_broadcast_status")
    async def set_broadcast_status(self, input: BroadcastStatusInput) -> None:
        raise NotImplementedError

    @activity.defn(name="plan_broadcast_page")
    async def plan_broadcast_page(self, input: PageInput) -> PageResult:
        raise NotImplementedError

    @activity.defn(name="release_broadcast_deferred")
    async def release_broadcast_deferred(self, input: ReleaseInput) -> ReleaseResult:
        raise NotImplementedError

    @activity.defn(name="send_broadcast_batch")
    async def send_broadcast_batch(self, input: SendBatchInput) -> SendBatchResult:
        raise NotImplementedError
