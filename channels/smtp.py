"""Email over SMTP (aiosmtplib).

An address with a non-ASCII local part (`josé@example.com`) is sent with SMTPUTF8 (RFC 6531)
when the server offers it. When it does not, the send fails at once, naming the reason, as
a fault of this provider: a failover provider may carry it."""

import socket

import aiosmtplib

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.email_headers import wire_headers
from channels.mime import compose
from channels.smtp_sessions import SmtpSessions

SERVICE_NOT_AVAILABLE = 421  # RFC 5321 4.2.3
SMTP_SESSIONS_KEPT = 10  # at the least, for single sends


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
        keep_sessions: int = 10,
    ):
        """`keep_sessions`: open sessions kept for reuse, at least as many as this worker
        sends at once (a broadcast's BROADCAST_SEND_CONCURRENCY), or each send beyond them
        opens (and closes) a session of its own."""
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
            ),
            keep=keep_sessions,
        )

    async def send_email(self, message: EmailMessage) -> SendResult:
        try:
            wire = wire_headers(message)
            raw, message_id = compose(message, wire)  # bytes: aiosmtplib sends them as they are
        except ValueError as exc:
            raise PermanentSendError(f"cannot write this email: {exc}") from exc
        try:
            reply = await self._transfer(wire.sender, wire.to, raw, smtputf8=wire.smtputf8)
        except SmtpUtf8Unsupported as exc:
            raise PermanentSendError(str(exc), provider_fault=True) from exc
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

    async def _transfer(
        self, sender: str, recipient: str, raw: bytes, *, smtputf8: bool
    ) -> aiosmtplib.SMTPResponse:
        """MAIL, RCPT, DATA on a kept session, or a new one. A kept session the server has
        closed meanwhile fails at MAIL, before anything was sent: then a new one is opened.
        After any refusal the session is closed rather than kept, its state unknown."""
        session = self._sessions.reusable()
        try:
            if session is not None:
                try:
                    await _mail(session, sender, smtputf8)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    session.close()
                    session = None
            if session is None:
                session = await self._sessions.open()
                await _mail(session, sender, smtputf8)
            await session.rcpt(recipient, encoding="utf-8" if smtputf8 else "ascii")
            reply = await session.data(raw)
        except BaseException:
            if session is not None:
                session.close()
            raise
        self._sessions.give_back(session)
        return reply


class SmtpUtf8Unsupported(Exception):
    pass


async def _mail(session: aiosmtplib.SMTP, sender: str, smtputf8: bool) -> None:
    if not smtputf8:
        await session.mail(sender)
        return
    if session.is_ehlo_or_helo_needed:
        await session.ehlo()
    if not session.supports_extension("smtputf8"):
        raise SmtpUtf8Unsupported(
            "the SMTP server does not offer SMTPUTF8, which an address with a non-ASCII"
            " local part needs"
        )
    await session.mail(sender, options=["SMTPUTF8"])


def _for_code(code: int, text: str) -> Exception:
    # 5xx replies are permanent (RFC 5321 4.2.1); 4xx are transient.
    if 500 <= code < 600:
        return PermanentSendError(text, code=str(code))
    # 421: the server is shutting the channel (down, overloaded); other 4xx are about this
    # message (450/451 greylisting, 452 a full mailbox) from a server that is up.
    return TransientSendError(text, code=str(code), provider_down=code == SERVICE_NOT_AVAILABLE)


def _build(config: ProviderConfig) -> SmtpEmailProvider:
    return SmtpEmailProvider(
        config["smtp_host"],
        config["smtp_port"],
        username=config.get("smtp_username"),
        password=config.get("smtp_password"),
        use_tls=bool(config.get("smtp_use_tls", False)),
        start_tls=bool(config.get("smtp_start_tls", False)),
        timeout=config.timeout,
        # A broadcast's batch sends that many at once: each keeps its session.
        keep_sessions=max(SMTP_SESSIONS_KEPT, config.send_concurrency),
    )


DECLARATION = ProviderDeclaration(
    name="smtp",
    channel="email",
    summary="any SMTP server (aiosmtplib), sessions kept open and reused",
    build=_build,
    settings=(
        Setting("smtp_host"),
        Setting("smtp_port"),
        Setting("smtp_username", required=False),
        Setting("smtp_password", secret=True, required=False),
        Setting("smtp_use_tls", required=False),
        Setting("smtp_start_tls", required=False),
    ),
    target="{smtp_host}:{smtp_port}",
    errors={
        "421": ErrorKind.TRANSIENT,
        "450": ErrorKind.TRANSIENT,
        "451": ErrorKind.TRANSIENT,
        "452": ErrorKind.TRANSIENT,
        "530": ErrorKind.PROVIDER_REFUSED,
        "535": ErrorKind.PROVIDER_REFUSED,
        "550": ErrorKind.PERMANENT,
        "553": ErrorKind.PERMANENT,
    },
)
