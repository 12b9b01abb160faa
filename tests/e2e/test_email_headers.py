"""Email headers on the wire (issue 11): Date in +0000, Auto-Submitted, IDNA and SMTPUTF8
addresses, bidi controls removed, the tenant's own sender (GET/PUT /v1/settings/email), and a
visible unsubscribe link whatever the layout. Asserted on the bytes the SMTP catcher received
and on the JSON the SendGrid SDK posted, through the real API, Temporal and PostgreSQL."""

import email.utils
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from db.email_identity import save_email_identity
from domain.email_headers import BIDI_CONTROLS, EmailIdentity
from tests.conftest import ScriptedMailCatcher, free_port, new_tenant
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_http_providers import sendgrid_accepts

ALLOWED = "acme.example,bücher.de"
# Overrides, embeddings, isolates and marks, hidden in a subject and a name.
HOSTILE_SUBJECT = (
    "Invoice \u202efdp.exe\u202c \u2066paid\u2069 \u200e\u200f\u061cnow\u202a\u202b\u202d"
)
CLEAN_SUBJECT = "Invoice fdp.exe paid now"


def unique(domain: str = "example.com") -> str:
    return f"{uuid.uuid4().hex[:10]}@{domain}"


def raw_headers(raw: bytes) -> dict[str, str]:
    """The top-level headers exactly as received (unfolded, undecoded)."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8").split("\r\n"):
        name, _, value = line.partition(":")
        headers.setdefault(name, value.strip())
    return headers


async def send(stack, address: str, **context) -> dict:
    body = email_request(address)
    body["context"].update(context)
    response = await stack.api.post("/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture
async def identity_stack(make_stack, temporal_env):
    async with make_stack(temporal_env, allowed_from_domains=ALLOWED) as stack:
        yield stack


@pytest.fixture
async def sendgrid_identity_stack(make_stack, temporal_env, httpserver):
    async with make_stack(
        temporal_env,
        sendgrid_api_key="SG.test-key",
        sendgrid_base_url=httpserver.url_for("").rstrip("/"),
        allowed_from_domains=ALLOWED,
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def ascii_smtp():
    """An SMTP server without SMTPUTF8 (aiosmtpd's Controller, like the shared one, offers it
    unless told not to)."""
    handler = ScriptedMailCatcher()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, enable_SMTPUTF8=False)
    controller.start()
    yield handler
    controller.stop()


# --- Date and Auto-Submitted -----------------------------------------------------------------


async def test_every_email_is_dated_in_utc_with_plus_0000_and_marked_auto_generated(stack, smtp):
    address = unique()
    await send(stack, address)
    [mail] = await smtp.wait_for(address)
    headers = raw_headers(mail.raw)

    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", headers["Date"])
    sent_at = email.utils.parsedate_to_datetime(headers["Date"])
    assert sent_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)
    assert headers["Auto-Submitted"] == "auto-generated"


# --- Internationalised addresses -------------------------------------------------------------


async def test_an_internationalised_domain_goes_idna_encoded_in_to_and_the_envelope(stack, smtp):
    local = uuid.uuid4().hex[:10]
    await send(stack, f"{local}@bücher.de")
    encoded = f"{local}@xn--bcher-kva.de"
    [mail] = await smtp.wait_for(encoded)

    assert mail.recipients == [encoded]
    assert raw_headers(mail.raw)["To"] == encoded
    assert mail.raw.isascii()  # no SMTPUTF8 needed: every server can carry it


async def test_a_non_ascii_local_part_is_sent_with_smtputf8_when_the_server_offers_it(stack, smtp):
    address = f"josé.{uuid.uuid4().hex[:6]}@bücher.de"
    await send(stack, address)
    wire = address.replace("bücher.de", "xn--bcher-kva.de")
    [mail] = await smtp.wait_for(wire)
    assert mail.recipients == [wire]
    assert raw_headers(mail.raw)["To"] == wire  # UTF-8 as it is (RFC 6532), not encoded words


async def test_a_non_ascii_local_part_fails_clearly_when_the_server_lacks_smtputf8(
    make_stack, temporal_env, ascii_smtp
):
    async with make_stack(temporal_env, smtp_port=ascii_smtp.port) as stack:
        accepted = await send(stack, f"josé.{uuid.uuid4().hex[:6]}@example.com")
        notification = await stack.wait_for_status(accepted["id"], "failed")
        # An ASCII address still goes: the server is fine, only SMTPUTF8 is missing.
        address = unique()
        await send(stack, address)
        await ascii_smtp.wait_for(address)
    [delivery] = notification["deliveries"]
    assert "SMTPUTF8" in delivery["error"] and "non-ASCII local part" in delivery["error"]
    assert ascii_smtp.attempts == 1  # refused before any message was offered


# --- Bidi controls -----------------------------------------------------------------------------


async def test_bidi_controls_are_removed_from_the_subject_and_the_from_name(identity_stack, smtp):
    saved = await identity_stack.api.put(
        "/v1/settings/email", json={"from_name": "Acme\u202e Support\u2066"}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["from_name"] == "Acme Support"

    address = unique()
    await send(identity_stack, address, subject=HOSTILE_SUBJECT)
    [mail] = await smtp.wait_for(address)
    assert mail.subject == CLEAN_SUBJECT
    assert mail.message["From"].addresses[0].display_name == "Acme Support"
    decoded = str(mail.message["Subject"]) + str(mail.message["From"])
    assert not set(decoded) & set(BIDI_CONTROLS)


# --- The tenant's sender -------------------------------------------------------------------------


async def test_the_tenants_from_name_address_and_reply_to_are_used(identity_stack, smtp):
    identity = {
        "from_name": "Bücherstube Ada",
        "from_address": "bookings@bücher.de",
        "reply_to": "help@example.org",
    }
    saved = await identity_stack.api.put("/v1/settings/email", json=identity)
    assert saved.status_code == 200, saved.text
    assert (await identity_stack.api.get("/v1/settings/email")).json() == identity

    address = unique()
    await send(identity_stack, address)
    [mail] = await smtp.wait_for(address)
    headers = raw_headers(mail.raw)
    assert mail.mail_from == "bookings@xn--bcher-kva.de"
    assert headers["From"].endswith(" <bookings@xn--bcher-kva.de>")
    assert headers["From"].startswith("=?utf-8?")  # the non-ASCII name as RFC 2047 words
    sender = mail.message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Bücherstube Ada", mail.mail_from)
    assert headers["Reply-To"] == "help@example.org"
    assert mail.raw.isascii()


async def test_without_settings_the_sender_is_email_from_and_there_is_no_reply_to(stack, smtp):
    address = unique()
    await send(stack, address)
    [mail] = await smtp.wait_for(address)
    name, sender = email.utils.parseaddr(stack.settings.email_from)
    assert mail.message["From"].addresses[0].display_name == name
    assert mail.mail_from == sender
    assert "Reply-To" not in raw_headers(mail.raw)


async def test_a_stored_from_address_whose_domain_is_no_longer_allowed_is_not_used(
    identity_stack, smtp, sessions
):
    """ALLOWED_FROM_DOMAINS may shrink after a tenant saved its address: the send checks too."""
    async with sessions.begin() as session:
        await save_email_identity(
            session,
            identity_stack.tenant_id,
            EmailIdentity("Acme", "ceo@bank.example", "help@example.org"),
        )
    address = unique()
    await send(identity_stack, address)
    [mail] = await smtp.wait_for(address)
    default_address = email.utils.parseaddr(identity_stack.settings.email_from)[1]
    assert mail.mail_from == default_address
    assert mail.message["From"].addresses[0].addr_spec == default_address
    assert mail.message["From"].addresses[0].display_name == "Acme"  # the name stays


# --- SendGrid ----------------------------------------------------------------------------------


async def test_sendgrid_gets_the_same_headers(sendgrid_identity_stack, httpserver):
    stack = sendgrid_identity_stack
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_response(
        sendgrid_accepts()
    )
    identity = {"from_name": "Acme", "from_address": "news@acme.example", "reply_to": "r@ex.org"}
    assert (await stack.api.put("/v1/settings/email", json=identity)).status_code == 200
    local = uuid.uuid4().hex[:10]
    accepted = await send(stack, f"{local}@bücher.de", subject=HOSTILE_SUBJECT)
    await stack.wait_for_status(accepted["id"], "sent")

    [(request, _)] = httpserver.log
    payload = request.get_json()
    assert payload["personalizations"][0]["to"] == [{"email": f"{local}@xn--bcher-kva.de"}]
    assert payload["from"] == {"email": "news@acme.example", "name": "Acme"}
    assert payload["reply_to"] == {"email": "r@ex.org"}
    assert payload["subject"] == CLEAN_SUBJECT
    assert payload["headers"]["Auto-Submitted"] == "auto-generated"
    assert payload["headers"]["List-Unsubscribe"].startswith("<http")
    # The delivery's own Message-ID, the same on every attempt (as over SMTP)
    [delivery] = (await stack.notification(accepted["id"]))["deliveries"]
    assert payload["headers"]["Message-ID"] == f"<{delivery['id']}@acme.example>"


async def test_sendgrid_refuses_a_non_ascii_local_part_without_a_request(
    sendgrid_identity_stack, httpserver
):
    stack = sendgrid_identity_stack
    accepted = await send(stack, f"josé.{uuid.uuid4().hex[:6]}@example.com")
    notification = await stack.wait_for_status(accepted["id"], "failed")
    assert "SMTPUTF8" in notification["deliveries"][0]["error"]
    assert httpserver.log == []


# --- The settings API: validation and tenants --------------------------------------------------

VALID = {"from_name": "Acme", "from_address": "hello@acme.example", "reply_to": "help@example.org"}
LONG_LOCAL = "a" * 64


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from_address", "not-an-address"),
        ("from_address", "hello@acme.example\r\nBcc: victim@example.com"),
        ("from_address", "hel\x00lo@acme.example"),
        ("from_address", "ceo@bank.example"),  # a domain the operator did not allow
        ("from_address", "hello@sub.acme.example"),  # subdomains must be listed themselves
        ("from_address", "josé@acme.example"),  # would need SMTPUTF8 on every send
        ("from_address", '"quoted"@acme.example'),
        ("from_address", f"{LONG_LOCAL}.{LONG_LOCAL}.{LONG_LOCAL}.{LONG_LOCAL}@acme.example"),
        ("reply_to", "help@xn--zz.example"),  # not valid IDNA
        ("reply_to", "help@-acme-.example"),
        ("reply_to", "help@localhost"),
        ("reply_to", "help@example.org\nBcc: victim@example.com"),
        ("reply_to", "a" * 250 + "@example.org"),
        ("from_name", "Acme\r\nBcc: victim@example.com"),
        ("from_name", "Acme\x00"),
        ("from_name", "   "),
        ("from_name", "\u202e\u2066"),  # nothing left once the bidi controls are gone
        ("from_name", "A" * 101),
        ("from_name", 42),
    ],
)
async def test_an_invalid_field_is_refused_by_name_and_nothing_is_written(
    identity_stack, field, value
):
    api = identity_stack.api
    assert (await api.put("/v1/settings/email", json=VALID)).status_code == 200

    response = await api.put("/v1/settings/email", json={**VALID, field: value})
    assert response.status_code == 422, response.text
    assert field in response.text
    assert (await api.get("/v1/settings/email")).json() == VALID


async def test_an_unknown_field_is_refused(identity_stack):
    response = await identity_stack.api.put("/v1/settings/email", json={"bcc": "x@example.org"})
    assert response.status_code == 422 and "bcc" in response.text


async def test_null_fields_restore_the_defaults(identity_stack):
    api = identity_stack.api
    await api.put("/v1/settings/email", json=VALID)
    cleared = await api.put("/v1/settings/email", json={"from_name": "Acme"})
    assert cleared.json() == {"from_name": "Acme", "from_address": None, "reply_to": None}
    assert (await api.get("/v1/settings/email")).json() == cleared.json()


async def test_each_tenant_has_its_own_sender(identity_stack, smtp, sessions):
    _, other_key = await new_tenant(sessions, "Other")
    async with await identity_stack.as_tenant(other_key) as other:
        assert (await identity_stack.api.put("/v1/settings/email", json=VALID)).status_code == 200
        unset = {"from_name": None, "from_address": None, "reply_to": None}
        assert (await other.get("/v1/settings/email")).json() == unset

        mine = {"from_name": "Other", "from_address": None, "reply_to": "o@example.net"}
        assert (await other.put("/v1/settings/email", json=mine)).json() == mine
        assert (await identity_stack.api.get("/v1/settings/email")).json() == VALID

        address = unique()
        body = email_request(address)
        assert (await other.post("/v1/notifications", json=body)).status_code == 202
    [mail] = await smtp.wait_for(address)
    assert mail.message["From"].addresses[0].display_name == "Other"
    assert mail.mail_from == email.utils.parseaddr(identity_stack.settings.email_from)[1]
    assert raw_headers(mail.raw)["Reply-To"] == "o@example.net"


# --- The unsubscribe link ---------------------------------------------------------------------


def unsubscribe_link(mail) -> str:
    return raw_headers(mail.raw)["List-Unsubscribe"].strip("<>")


async def test_a_layout_without_the_unsubscribe_link_still_shows_it(stack, smtp):
    layout = "<html><body><div>ACME</div>{{ content }}<p>No way out here.</p></body></html>"
    assert (await stack.api.put("/v1/templates/layout", json={"html": layout})).status_code == 200
    address = unique()
    await send(stack, address)
    [mail] = await smtp.wait_for(address)
    link = unsubscribe_link(mail)

    html, text = mail.html(), mail.text()
    assert "ACME" in html and "No way out here." in html
    assert re.search(rf'<a href="{re.escape(link)}"[^>]*>Unsubscribe from these emails</a>', html)
    assert html.index(link) < html.lower().rindex("</body>")  # inside the body, so shown
    assert text.rstrip().endswith(f"Unsubscribe from these emails: {link}")


async def test_a_layout_with_the_link_gets_no_second_one(stack, smtp):
    address = unique()
    await send(stack, address)  # Herald's default layout, which has the link
    [mail] = await smtp.wait_for(address)
    link = unsubscribe_link(mail)
    assert mail.html().count(link) == 1
    assert mail.text().count(link) == 1
