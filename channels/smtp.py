"""Email over SMTP (aiosmtplib)."""

import email.policy
import email.utils
import socket
from email.message import EmailMessage as MimeMessage

import aiosmtplib

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
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
        mime = to_mime(message)
        # Serialised here, with our policy: aiosmtplib would re-fold headers with its own.
        raw = mime.as_bytes(policy=MIME_POLICY)
        sender = email.utils.parseaddr(message.sender)[1]
        try:
            reply = await self._transfer(sender, message.to, raw)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentSendError(
                f"SMTP rejected the credentials: {exc.code} {exc.message}", code=str(exc.code), provider_fault=True
            ) from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise _for_code(exc.code, f"SMTP refused {message.to}: {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _for_code(exc.code, f"SMTP error {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP server unreachable: {exc}") from exc
        return SendResult(self.name, mime["Message-ID"], {"reply": reply.message})

    async def _transfer(self, sender: str, recipient: str, raw: bytes) -> aiosmtplib.SMTPResponse:
        """MAIL, RCPT, DATA on a kept session, or a new one. A kept session the server has
        closed meanwhile fails at MAIL, before anything was sent: then a new one is opened.
        After any refusal the session is closed rather than kept, its state unknown."""
        session = self._sessions.reusable()
        try:
            try:
                if session is None:
                    raise aiosmtplib.SMTPServerDisconnected("no kept session")
                await session.mail(sender)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                if session is not None:
                    session.close()
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


# RFC 5322 allows 998 characters a line. The default (78) would fold a long header without
# spaces, such as List-Unsubscribe's signed link, into RFC 2047 encoded words that mail
# clients do not decode there, breaking one-click unsubscribe.
MIME_POLICY = email.policy.SMTP.clone(max_line_length=998)


def to_mime(message: EmailMessage) -> MimeMessage:
    mime = MimeMessage(policy=MIME_POLICY)
    mime["From"] = message.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    domain = email.utils.parseaddr(message.sender)[1].rpartition("@")[2] or "herald.localhost"
    mime["Message-ID"] = email.utils.make_msgid(idstring=message.reference or None, domain=domain)
    if message.reference:
        mime["X-Herald-Delivery"] = message.reference
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime
