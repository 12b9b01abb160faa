"""An email as the bytes SMTP's DATA carries (RFC 5322 with MIME).

Header values are folded by the email package's compat32 policy, which stores them as given
instead of parsing each into a header object; the MIME structure around them (one text part, or
multipart/alternative with text and HTML) is written here, and bodies are encoded by binascii
(C). Composing an email went from 1.3 ms (the newer API) to 0.3 ms (compat32's generator) to
0.06 ms (this), the largest single cost of a send under `make bench`. What a MIME library does
implicitly is therefore explicit here: non-ASCII header text becomes RFC 2047 encoded words,
a display name is encoded but never its address, bodies are UTF-8 in quoted-printable with
CRLF line ends, and a line break in a header value (header injection) is refused. Which
addresses, names and extra headers an email carries is decided in channels/email_headers.py,
for SendGrid too. tests/unit/test_mime.py reads the bytes back with the email package."""

import binascii
import email.utils
import random
import re
from datetime import UTC, datetime
from email import policy
from email.header import Header

from channels.base import EmailMessage
from channels.email_headers import WireHeaders, wire_headers

CRLF = b"\r\n"
# Printable ASCII words, one space between them: what most header values are.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")


class _SmtpPolicy(type(policy.compat32)):  # type: ignore[misc]
    """compat32 writing a plain header value that fits on its line as it is. compat32 folds
    every value through email.header.Header, which returns such a value unchanged (checked on
    random values) at the cost of half of composing an email (cProfile, a broadcast's sends)."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= self.max_line_length
            and _PLAIN_VALUE.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


# RFC 5322 allows 998 characters a line. Folding at 78 would split a long header without
# spaces, such as List-Unsubscribe's signed link, which mail clients then fail to read.
_SMTP = _SmtpPolicy(linesep="\r\n", max_line_length=998)


def compose(message: EmailMessage, wire: WireHeaders | None = None) -> tuple[bytes, str]:
    """The message's bytes and its Message-ID. Raises ValueError for a header it cannot write.
    `wire`: the message's wire_headers, when the caller has them already.

    With a non-ASCII local part in To (`wire_headers(message).smtputf8`), the bytes hold
    UTF-8 in that header and need an SMTPUTF8 server."""
    wire = wire or wire_headers(message)
    message_id = message_id_for(message.reference, wire.sender.rpartition("@")[2])
    headers = {
        "From": email.utils.formataddr((wire.sender_name, wire.sender), charset="utf-8"),
        **({"Reply-To": wire.reply_to} if wire.reply_to else {}),
        "Subject": wire.subject,
        # +0000, not formatdate()'s -0000, which RFC 5322 reserves for "local time unknown"
        # and which spam filters score.
        "Date": email.utils.format_datetime(datetime.now(UTC)),
        "Message-ID": message_id,
        **({"X-Herald-Delivery": message.reference} if message.reference else {}),
        **wire.extra,
    }
    # To is written as bytes: compat32 would turn a UTF-8 local part into an encoded word,
    # which is not allowed in an address; SMTPUTF8 carries it as it is (RFC 6532).
    head = [b"To: " + _checked("To", wire.to).encode() + CRLF]
    for name, value in headers.items():
        head.append(_SMTP.fold(name, _header_value(name, value)).encode())  # CRLF-ended
    head.append(b"MIME-Version: 1.0" + CRLF)
    if not message.html:
        return b"".join([*head, _part_head("plain"), CRLF, _body(message.text)]), message_id
    boundary = _boundary().encode()
    head.append(b'Content-Type: multipart/alternative; boundary="' + boundary + b'"' + CRLF)
    parts = []
    for subtype, body in (("plain", message.text), ("html", message.html)):
        parts.append(b"--" + boundary + CRLF + _part_head(subtype) + CRLF + _body(body))
    # The CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1), not to the body.
    tail = b"--" + boundary + b"--" + CRLF
    return b"".join(head) + CRLF + CRLF.join([*parts, tail]), message_id


def message_id_for(reference: str, domain: str) -> str:
    """One delivery's Message-ID, the same on every attempt: when an attempt's outcome was
    unknown (the process died after the server took the message, before it was recorded) and
    the retry sends it again, receiving systems see one message twice and can drop the copy.
    A delivery id is a UUID, unique per delivery (a resend is a new delivery: a new id)."""
    if reference:
        return f"<{reference}@{domain}>"
    return email.utils.make_msgid(domain=domain)


def _boundary() -> str:
    """A multipart boundary no part can contain, with no need to search the parts for it: they
    are quoted-printable, in which "=" is followed only by two hex digits or a line break,
    never by "_"."""
    return f"=_herald_{random.getrandbits(128):032x}"  # unique enough: no system call


def _part_head(subtype: str) -> bytes:
    return (
        b"Content-Type: text/" + subtype.encode() + b'; charset="utf-8"' + CRLF
        + b"Content-Transfer-Encoding: quoted-printable" + CRLF
    )  # fmt: skip


def _body(text: str) -> bytes:
    """UTF-8 in quoted-printable, its lines ending in CRLF and within 76 characters. Any line
    break (CRLF, CR, LF) becomes CRLF (RFC 5322 2.3: no bare CR or LF)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode()
    return binascii.b2a_qp(lines, istext=True).replace(b"\n", b"\r\n")


def _header_value(header: str, value: str) -> str | Header:
    _checked(header, value)
    return value if value.isascii() else Header(value, "utf-8", header_name=header)


def _checked(header: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{header}: a header value may not contain a line break")
    return value
