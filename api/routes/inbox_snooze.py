"""POST /v1/inbox/messages/{message_id}/snooze and /unsnooze: a recipient puts a message aside until
a time, or brings it back early (recipient token). The use case: services/inbox_snooze.py."""

import uuid

from fastapi import APIRouter

from api.deps import InboxRecipientDep, SessionDep, SettingsDep, TemporalDep
from api.schemas.inbox_snooze import SnoozeRequest, SnoozeResult
from services import inbox_snooze

router = APIRouter(prefix="/v1/inbox/messages", tags=["inbox"])


@router.post("/{message_id}/snooze", response_model=SnoozeResult)
async def snooze_inbox_message(
    message_id: uuid.UUID,
    body: SnoozeRequest,
    recipient: InboxRecipientDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> SnoozeResult:
    """Hide the message from the feed and its counts until `until`, when it returns (the
    stream's `message.returned`). Snoozing it again moves its return to the new time. The
    return is a durable timer in Temporal: it survives restarts of every Herald process."""
    return await inbox_snooze.snooze(session, temporal, settings, recipient, message_id, body.until)


@router.post("/{message_id}/unsnooze", response_model=SnoozeResult)
async def unsnooze_inbox_message(
    message_id: uuid.UUID, recipient: InboxRecipientDep, session: SessionDep, temporal: TemporalDep
) -> SnoozeResult:
    """Bring a snoozed message back to the feed now; one not snoozed is left as it is."""
    return await inbox_snooze.unsnooze(session, temporal, recipient, message_id)
