"""Email over SMTP (aiosmtplib)."""

import email.utils
import socket

import aiosmtplib

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
from channels.mime import compose
from channels.smtp_sessions import SmtpSessions


class SmtpEmailProvider:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool = False,
        timeout: float = 10.0,
        local_hostname: str | None = None,
    ):
        self._sessions = SmtpSessions(
            dict(
                hostname=host,
                port=port,
                username=username,
                password=password,
                use_tls=use_tls,
                start_tls=start_tls,
                timeout=timeout,
                # Named once here: aiosmtplib would otherwise look up our FQDN for every session.
                local_hostname=local_hostname or socket.getfqdn(),
            )
        )

    async def send_email(self, message: EmailMessage) -> SendResult:
        raw, message_id = compose(message)  # bytes: aiosmtplib sends them as they are
        sender = email.utils.parseaddr(message.sender)[1]
        try:
            reply = await self._transfer(sender, message.to, raw)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentSendError(
                f"SMTP rejected the credentials: {exc.code} {exc.message}",
                code=str(exc.code),
                provider_fault=True,
            ) from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise _for_code(exc.code, f"SMTP refused {message.to}: {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _for_code(exc.code, f"SMTP error {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP server unreachable: {exc}") from exc
        return SendResult(self.name, message_id, {"reply": reply.message})

    async def close(self) -> None:
        """Ends the kept sessions with QUIT, in bounded time; for when the worker stops."""
        await self._sessions.close_all()

    async def _transfer(self, sender: str, recipient: str, raw: bytes) -> aiosmtplib.SMTPResponse:
        """MAIL, RCPT, DATA on a kept session, or a new one. A kept session the server has
        closed meanwhile fails at MAIL, before anything was sent: then a new one is opened.
        After any refusal the session is closed rather than kept, its state unknown."""
        session = self._sessions.reusable()
        try:
            if session is not None:
                try:
                    await session.mail(sender)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    session.close()
                    session = None
            if session is None:
                session = await self._sessions.open()
                await session.mail(sender)
            await session.rcpt(recipient)
            reply = await session.data(raw)
        except BaseException:
            if session is not None:
                session.close()
            raise
        self._sessions.give_back(session)
        return reply


def _for_code(code: int, text: str) -> Exception:
    # 5xx replies are permanent (RFC 5321 4.2.1); 4xx are transient.
    if 500 <= code < 600:
        return PermanentSendError(text, code=str(code))
    return TransientSendError(text, code=str(code))
