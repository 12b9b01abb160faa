"""The development mail catcher's messages, read from the directory it writes them to
(devtools/mailcatcher.py: `<n>.eml`, numbered from 1, as received). Development only: the
dashboard serves it when DEV_MAILBOX_PATH is set and HERALD_ENV is not production.

Files are read in a thread: the event loop serves other requests meanwhile."""

import asyncio
import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from services.errors import NotFound

LIST_LIMIT = 200  # the newest; older messages stay on disk
_MESSAGE_ID = re.compile(r"[0-9]{1,12}")  # a file's number: nothing else names a file
HEADER_BYTES = 64 * 1024  # a list reads at most this much of each message


@dataclass(frozen=True)
class CaughtSummary:
    id: str  # the file's number, as written (000012)
    received_at: datetime  # when the file was written
    sender: str
    to: str
    subject: str
    size: int  # bytes


@dataclass(frozen=True)
class CaughtMessage:
    summary: CaughtSummary
    headers: list[tuple[str, str]]  # in order, repeated ones repeated
    text: str | None
    html: str | None


async def list_messages(directory: Path, limit: int = LIST_LIMIT) -> list[CaughtSummary]:
    """The newest `limit` messages, newest first."""
    return await asyncio.to_thread(_list, directory, limit)


async def read_message(directory: Path, message_id: str) -> CaughtMessage:
    """One message by its number; NotFound for any other name."""
    return await asyncio.to_thread(_read, directory, message_id)


def _list(directory: Path, limit: int) -> list[CaughtSummary]:
    if not directory.is_dir():
        return []
    numbered = [path for path in directory.glob("*.eml") if _MESSAGE_ID.fullmatch(path.stem)]
    newest = sorted(numbered, key=lambda path: int(path.stem), reverse=True)[:limit]
    summaries = []
    for path in newest:
        try:
            with path.open("rb") as file:
                head = BytesHeaderParser(policy=email.policy.default).parsebytes(
                    file.read(HEADER_BYTES)
                )
            summaries.append(_summary(path, head))
        except OSError:  # removed while listing
            continue
    return summaries


def _read(directory: Path, message_id: str) -> CaughtMessage:
    path = directory / f"{message_id}.eml"
    if not _MESSAGE_ID.fullmatch(message_id) or not path.is_file():
        raise NotFound(f"no caught message {message_id!r}")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
    return CaughtMessage(
        summary=_summary(path, message),
        headers=[(name, str(value)) for name, value in message.items()],
        text=_body(message, "plain"),
        html=_body(message, "html"),
    )


def _summary(path: Path, message: email.message.Message) -> CaughtSummary:
    stat = path.stat()
    return CaughtSummary(
        id=path.stem,
        received_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        size=stat.st_size,
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body((subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None
