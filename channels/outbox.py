"""The development SMS provider: appends each message to a JSON-lines file instead of sending."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from channels.base import SendResult, SmsMessage
from channels.declaration import ProviderConfig, ProviderDeclaration, Setting


class OutboxSmsProvider:
    name = "outbox"

    def __init__(self, path: str):
        self._path = Path(path)

    async def send_sms(self, message: SmsMessage) -> SendResult:
        message_id = f"outbox-{uuid.uuid4()}"
        line = json.dumps(
            {
                "id": message_id,
                "to": message.to,
                "body": message.body,
                "reference": message.reference,
                "at": datetime.now(UTC).isoformat(),
            }
        )
        await asyncio.to_thread(self._append, line)
        return SendResult(self.name, message_id, {"path": str(self._path)})

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")


def _build(config: ProviderConfig) -> OutboxSmsProvider:
    return OutboxSmsProvider(config["sms_outbox_path"])


DECLARATION = ProviderDeclaration(
    name="outbox",
    channel="sms",
    summary="development only: appends each SMS to a JSON-lines file",
    build=_build,
    settings=(Setting("sms_outbox_path"),),
    target="sms_outbox_path",
)
