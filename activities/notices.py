"""The activity behind workflows/notices.py: accept a workflow's notification, as the API would."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from config.settings import Settings
from domain.booking_contracts import NoticeCreated, NoticeRequest
from services.new_notifications import submit_notice


class NoticeActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings):
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="create_notice")
    async def create_notice(self, request: NoticeRequest) -> NoticeCreated:
        """Idempotent by (tenant, idempotency key): a retry returns what the first attempt made,
        and starts its workflow if the first attempt could not."""
        async with self._sessions() as session:
            return await submit_notice(session, activity.client(), self._settings, request)
