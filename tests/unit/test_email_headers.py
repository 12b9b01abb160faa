"""Header hygiene (domain/email_headers.py, channels/email_headers.py) and the unsubscribe
footer (domain/unsubscribe_footer.py): pure rules, table-driven."""

import email.utils
import html as html_lib
import re

import pytest

from channels.base import EmailMessage
from channels.email_headers import wire_headers
from domain.email_headers import (
    BIDI_CONTROLS,
    EmailIdentity,
    allowed_from_domain,
    identity_problem,
    sender_for,
    wire_address,
    without_bidi_controls,
)
from domain.unsubscribe_footer import FOOTER_TEXT, links_to, with_unsubscribe_link

DEFAULT = "Herald <notifications@herald.example>"
URL = "https://herald.example/v1/unsubscribe/abc.def"


def test_every_bidi_control_is_removed_and_nothing_else():
    text = "".join(f"{c}x" for c in BIDI_CONTROLS) + " שלום é ✓"
    assert without_bidi_controls(text) == "x" * len(BIDI_CONTROLS) + " שלום é ✓"


@pytest.mark.parametrize(
    ("address", "wire"),
    [
        ("ada@bücher.de", "ada@xn--bcher-kva.de"),
        ("Ada@BÜCHER.de", "Ada@xn--bcher-kva.de"),  # UTS #46 maps case; the local part keeps it
        ("ada@straße.de", "ada@xn--strae-oqa.de"),  # IDNA 2008 keeps ß (2003 made it "ss")
        ("josé@bücher.de", "josé@xn--bcher-kva.de"),  # the local part cannot be encoded
        ("ada@example.com", "ada@example.com"),
        ("a@b@mail_relay.example", "a@b@mail_relay.example"),  # ASCII: as it is
    ],
)
def test_the_domain_goes_on_the_wire_in_idna(address, wire):
    assert wire_address(address) == wire


def test_a_domain_that_cannot_be_encoded_is_refused():
    with pytest.raises(ValueError, match="IDNA"):
        wire_address("ada@bü cher.de")


def test_the_from_domain_must_be_listed_exactly():
    allowed = ["acme.example", "bücher.de"]
    assert allowed_from_domain("x@ACME.example", allowed)
    assert allowed_from_domain("x@xn--bcher-kva.de", allowed)  # the same domain, encoded
    assert not allowed_from_domain("x@mail.acme.example", allowed)
    assert not allowed_from_domain("x@acme.example.evil.com", allowed)


@pytest.mark.parametrize(
    ("identity", "field"),
    [
        (EmailIdentity(from_name="\u202e"), "from_name"),
        (EmailIdentity(from_address="x@evil.example"), "from_address"),
        (EmailIdentity(from_address="bad"), "from_address"),
        (EmailIdentity(reply_to="x@y.example\r\n"), "reply_to"),
    ],
)
def test_identity_problems_name_their_field(identity, field):
    problem = identity_problem(identity, ["acme.example"])
    assert problem is not None and problem[0] == field


def test_a_full_valid_identity_has_no_problem():
    identity = EmailIdentity("Acme", "hi@acme.example", "anyone@elsewhere.example")
    assert identity_problem(identity, ["acme.example"]) is None


def test_the_sender_falls_back_field_by_field():
    allowed = ["acme.example"]
    assert email.utils.parseaddr(sender_for(EmailIdentity(), DEFAULT, allowed)) == (
        "Herald",
        "notifications@herald.example",
    )
    mixed = sender_for(EmailIdentity(from_name='Acme "Tours", Inc'), DEFAULT, allowed)
    assert email.utils.parseaddr(mixed) == ('Acme "Tours", Inc', "notifications@herald.example")
    stale = sender_for(EmailIdentity(from_address="x@no-longer.example"), DEFAULT, allowed)
    assert email.utils.parseaddr(stale)[1] == "notifications@herald.example"


def test_the_channels_strip_bidi_controls_from_any_sender_name_and_subject():
    wire = wire_headers(
        EmailMessage(
            to="ada@bücher.de",
            subject="Pay \u202eexe.pdf",
            text="",
            sender="\u2067Bank\u2069 <x@acme.example>",
            reply_to="r@bücher.de",
        )
    )
    assert (wire.sender_name, wire.subject) == ("Bank", "Pay exe.pdf")
    assert (wire.to, wire.reply_to, wire.smtputf8) == (
        "ada@xn--bcher-kva.de",
        "r@xn--bcher-kva.de",
        False,
    )
    assert wire.extra["Auto-Submitted"] == "auto-generated"


def test_a_sender_with_a_non_ascii_local_part_is_refused():
    with pytest.raises(ValueError, match="non-ASCII"):
        wire_headers(EmailMessage(to="a@b.example", subject="", text="", sender="josé@b.example"))


def test_the_footer_is_added_inside_the_body_when_the_link_is_missing():
    html, text = with_unsubscribe_link("<html><body><p>Hi</p></BODY></html>", "Hi", URL)
    assert html is not None
    assert html.endswith(f"{FOOTER_TEXT}</a></p></BODY></html>")
    assert f'href="{URL}"' in html
    assert text == f"Hi\n\n{FOOTER_TEXT}: {URL}"


def test_the_url_outside_a_link_does_not_count_for_html():
    html, _ = with_unsubscribe_link(f"<p>{URL}</p>", URL, URL)
    assert html is not None and f'href="{URL}"' in html


def test_no_footer_when_the_link_is_there():
    html = f"<p><a href='{URL}'>Leave</a></p>"
    assert with_unsubscribe_link(html, f"Leave: {URL}", URL) == (html, f"Leave: {URL}")
    assert with_unsubscribe_link(None, URL, URL) == (None, URL)  # a text-only email


@pytest.mark.parametrize(
    ("html", "links"),
    [
        ('<a href="{url}">x</a>', True),
        ("<a href = '{url}'>x</a>", True),
        ("<a href=\n\t{url}>x</a>", True),
        ('<a data-href="{url}">x</a>', True),  # as the pattern it replaces read it
        ("<a href=''{url}>x</a>", False),
        ('<a title="{url}">x</a>', False),
        ("<p>{url} and {url}</p><a href='{url}'>x</a>", True),  # the third place counts
        ("<a href='{url}/other'>x</a><p>href</p>", True),  # a prefix of a longer link
        ("", False),
    ],
)
def test_a_link_counts_only_as_an_href(html, links):
    escaped = html_lib.escape(URL, quote=True)
    page = html.format(url=escaped)
    assert links_to(page, escaped) is links
    # The pattern the scan replaced (compiled per URL) says the same.
    assert (re.search(r"""href\s*=\s*["']?""" + re.escape(escaped), page) is not None) is links
