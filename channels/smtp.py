"""Email over SMTP (aiosmtplib)."""

import email.policy
import email.utils
from email.message import EmailMessage as MimeMessage

import aiosmtplib

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError


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
    ):
        self._options = dict(
            hostname=host,
            port=port,
            username=username,
            password=password,
            use_tls=use_tls,
            start_tls=start_tls,
            timeout=timeout,
        )

    async def send_email(self, message: EmailMessage) -> SendResult:
        mime = to_mime(message)
        # Serialised here, with our policy: aiosmtplib would re-fold headers with its own.
        raw = mime.as_bytes(policy=MIME_POLICY)
        sender = email.utils.parseaddr(message.sender)[1]
        try:
            errors, reply = await aiosmtplib.send(raw, sender=sender, recipients=[message.to], **self._options)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentSendError(
                f"SMTP rejected the credentials: {exc.code} {exc.message}", code=str(exc.code), provider_fault=True
            ) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise _for_code(refusal.code, f"SMTP refused {message.to}: {refusal.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _for_code(exc.code, f"SMTP error {exc.code}: {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"SMTP server unreachable: {exc}") from exc
        return SendResult(self.name, mime["Message-ID"], {"reply": reply})


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
