"""Composing an email: what a standards-following reader gets back from the bytes."""

import email
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import EmailMessage
from channels.mime import compose


def read(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def message(**overrides) -> EmailMessage:
    fields = dict(
        to="ines@example.com",
        subject="Réservation confirmée — 5 € payés",
        text="Bonjour Inès,\nvotre réservation est confirmée.\n" + "très " * 60,
        html="<p>Bonjour Inès, <b>confirmée</b></p>" * 20,
        sender="Équipe Herald <notifications@herald.example>",
        reference="8d6f0c2e-delivery",
    )
    return EmailMessage(**{**fields, **overrides})


def test_non_ascii_headers_and_bodies_read_back_exactly():
    raw, message_id = compose(message())
    assert raw.isascii()  # encoded words and quoted-printable: safe for any SMTP server
    parsed = read(raw)
    assert parsed["Subject"] == "Réservation confirmée — 5 € payés"
    assert parsed["From"].addresses[0].display_name == "Équipe Herald"
    assert parsed["From"].addresses[0].addr_spec == "notifications@herald.example"
    assert parsed["To"] == "ines@example.com"
    assert parsed["Message-ID"] == message_id and message_id.endswith("@herald.example>")
    assert parsed["X-Herald-Delivery"] == "8d6f0c2e-delivery"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == message().text
    assert html.get_content().replace("\r\n", "\n") == message().html


def test_lines_end_in_crlf_and_stay_within_998_characters():
    raw, _ = compose(message())
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998


def test_a_long_list_unsubscribe_link_stays_on_one_line():
    link = "https://herald.example/v1/unsubscribe?token=" + "x" * 400
    raw, _ = compose(
        message(
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        )
    )
    assert f"List-Unsubscribe: <{link}>".encode() in raw.split(b"\r\n")
    assert read(raw)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_text_only_is_a_single_part():
    parsed = read(compose(message(html=None))[0])
    assert not parsed.is_multipart()
    assert parsed.get_content_type() == "text/plain"


@pytest.mark.parametrize("field", ["subject", "to"])
def test_a_line_break_in_a_header_is_refused(field):
    with pytest.raises(ValueError, match="line break"):
        compose(message(**{field: "x@example.com\r\nBcc: victim@example.com"}))


def test_a_sender_is_rebuilt_from_its_address_so_nothing_rides_along():
    raw, _ = compose(message(sender="Herald <x@example.com>\r\nBcc: victim@example.com"))
    assert read(raw)["Bcc"] is None


def test_a_line_break_in_an_extra_header_is_refused():
    with pytest.raises(ValueError, match="List-Unsubscribe"):
        compose(message(headers={"List-Unsubscribe": "<https://a>\nBcc: victim@example.com"}))


def test_every_attempt_of_one_delivery_carries_the_same_message_id():
    first, second = compose(message())[1], compose(message())[1]
    assert first == second == "<8d6f0c2e-delivery@herald.example>"
    other_delivery = compose(message(reference="a1b2-other"))[1]
    assert other_delivery != first
    unreferenced = {compose(message(reference=""))[1] for _ in range(3)}
    assert len(unreferenced) == 3  # no delivery behind it: a fresh id each time


# Text as templates produce it and as hostile input can: any Unicode, every kind of line break,
# trailing spaces and tabs, "=", lone dots, "From " and "--" at a line's start, long lines.
_PIECES = st.sampled_from(
    ["\n", "\r\n", "\r", " ", "\t", "=", ".", "From ", "--", "é", "€", "𝄞", "=_herald_", "x" * 90]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=30)), max_size=40).map("".join)


def _lines_normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, html=st.one_of(st.none(), _TEXT))
def test_any_body_reads_back_as_written_with_crlf_lines_within_limits(text, html):
    raw, _ = compose(message(text=text, html=html or None))
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert not any(b"\r" in line or b"\n" in line for line in lines)  # CRLF only
    assert max(len(line) for line in lines) <= 998
    parsed = read(raw)
    assert not parsed.defects
    bodies = [("plain", text)] + ([("html", html)] if html else [])
    assert parsed.is_multipart() == (len(bodies) == 2)
    for subtype, body in bodies:
        part = parsed.get_body((subtype,))
        assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        read_back = payload.decode("utf-8")
        assert _lines_normalized(read_back) == _lines_normalized(body)
