"""A local SMTP server that keeps what it receives, so a developer can read the email Herald sent.

`make run` starts it on :1025 and writes each message to `.data/mail/<n>.eml`; the tests
start their own to check what arrived.
"""

import email
import email.policy
import logging
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger("devtools.mailcatcher")


@dataclass
class CaughtMail:
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    received_at: float  # time.monotonic(), for latency measurements
    raw: bytes = b""  # as received, before any parsing

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part else ""

    def html(self) -> str | None:
        part = self.message.get_body(("html",))
        return part.get_content() if part else None


class MailCatcher:
    """aiosmtpd handler: accepts every message and records it."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.messages: list[CaughtMail] = []
        if directory:
            directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        refusal = self.refusal_for(envelope)
        if refusal:
            return refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        caught = CaughtMail(
            envelope.mail_from, list(envelope.rcpt_tos), message, time.monotonic(), envelope.content
        )
        self.messages.append(caught)
        if self.directory:
            path = self.directory / f"{len(list(self.directory.glob('*.eml'))) + 1:06d}.eml"
            path.write_bytes(envelope.content)
            log.info("mail to %s: %r -> %s", ", ".join(caught.recipients), caught.subject, path)
        return "250 Message accepted for delivery"

    def refusal_for(self, envelope) -> str | None:
        """Subclasses (tests) may refuse a message with an SMTP reply."""
        return None


def start_mailcatcher(
    handler: MailCatcher, host: str = "127.0.0.1", port: int = 1025
) -> Controller:
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    return controller
