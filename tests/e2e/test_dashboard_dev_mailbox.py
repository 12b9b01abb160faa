"""The Dev mailbox (issue 14): the development mail catcher's messages, listed and shown (HTML in
a sandboxed frame, text, headers), only where the development stack runs it; never in
production, never without DEV_MAILBOX_PATH."""

import html
import re
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from config.settings import Settings
from devtools.mailcatcher import MailCatcher, start_mailcatcher
from tests.conftest import free_port, wait_until
from tests.e2e.test_email_smtp import email_request
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.routes import api_routes
from web.pages import dev_mailbox_enabled, navigation

# A message as a hostile sender could make it: markup in every header, a script in its HTML.
HOSTILE = b"""From: "<b>Mallory</b>" <mallory@example.com>
To: victim@example.com
Subject: <script>alert(1)</script> hello
Message-ID: <hostile@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Plain words & more.
--b
Content-Type: text/html; charset=utf-8

<p>Hi</p><script>document.title = "ran"</script><img src="http://tracker.example/p.gif">
--b--
"""


@pytest.fixture
def mail_directory(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def catcher(mail_directory):
    """The development stack's catcher, writing each message to the directory as `make run`'s."""
    handler = MailCatcher(mail_directory)
    port = free_port()
    controller = start_mailcatcher(handler, port=port)
    yield handler, port
    controller.stop()


@pytest.fixture
async def dev_stack(make_stack, temporal_env, catcher, mail_directory):
    _, port = catcher
    async with make_stack(
        temporal_env, smtp_port=port, dev_mailbox_path=str(mail_directory)
    ) as stack:
        yield stack


@pytest.fixture
async def browser(dev_stack, sessions):
    owner = await signed_in_operator(sessions, dev_stack.settings, dev_stack.tenant_id)
    async with dashboard_client(dev_stack.app, owner.cookies) as client:
        yield client


async def test_a_sent_email_is_listed_and_shown_with_its_html_text_and_headers(
    dev_stack, catcher, browser
):
    handler, _ = catcher
    address = "ada.dev@example.com"
    sent = await dev_stack.api.post("/v1/notifications", json=email_request(address))
    assert sent.status_code == 202, sent.text
    await wait_until(lambda: len(handler.messages) == 1, what="the caught email")
    [caught] = handler.messages

    listing = await browser.get("/dashboard/dev-mailbox")
    assert listing.status_code == 200
    assert re.search(r'href="/dashboard/dev-mailbox"\s+aria-current="page"', listing.text)
    assert '<a href="/dashboard/dev-mailbox/000001">Payment received</a>' in listing.text
    assert address in listing.text

    shown = await browser.get("/dashboard/dev-mailbox/000001")
    assert shown.status_code == 200
    page = html.unescape(shown.text)
    assert "<h1>Payment received</h1>" in page
    assert caught.text().strip().splitlines()[0] in page  # the text part
    assert str(caught.message["Message-ID"]) in page  # the headers
    frame = re.search(r"<iframe[^>]*>", shown.text)
    assert frame, "no frame for the HTML part"
    assert re.search(r"\ssandbox(\s|>)", frame.group(0)) and "allow-" not in frame.group(0)
    assert 'src="/dashboard/dev-mailbox/000001/html"' in frame.group(0)

    framed = await browser.get("/dashboard/dev-mailbox/000001/html")
    assert framed.status_code == 200
    assert framed.text == caught.html()
    policy = framed.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy


async def test_a_hostile_message_is_escaped_and_its_html_sandboxed(
    dev_stack, mail_directory, browser
):
    mail_directory.mkdir(parents=True, exist_ok=True)
    (mail_directory / "000007.eml").write_bytes(HOSTILE)

    listing = (await browser.get("/dashboard/dev-mailbox")).text
    assert "<script>alert(1)</script>" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in listing
    assert "<b>Mallory</b>" not in listing

    shown = (await browser.get("/dashboard/dev-mailbox/000007")).text
    assert "<script>" not in shown and "Plain words &amp; more." in shown

    framed = await browser.get("/dashboard/dev-mailbox/000007/html")
    # Served as it is, but in a document that may run no script and load nothing remote.
    assert "<script>" in framed.text
    policy = framed.headers["content-security-policy"]
    assert "sandbox" in policy and "img-src data:" in policy and "script-src" not in policy


async def test_only_numbered_messages_can_be_asked_for(dev_stack, mail_directory, browser):
    mail_directory.mkdir(parents=True, exist_ok=True)
    (mail_directory / "000001.eml").write_bytes(HOSTILE)
    (mail_directory.parent / "secret.eml").write_bytes(HOSTILE)
    for message_id in ("..%2Fsecret", "secret", "000002", "-1", "1e3", "0" * 13):
        response = await browser.get(f"/dashboard/dev-mailbox/{message_id}")
        assert response.status_code == 404, (message_id, response.text)
        framed = await browser.get(f"/dashboard/dev-mailbox/{message_id}/html")
        assert framed.status_code == 404, message_id


async def test_without_a_session_the_mailbox_sends_you_to_sign_in(dev_stack):
    async with dashboard_client(dev_stack.app) as anonymous:
        for path in ("/dashboard/dev-mailbox", "/dashboard/dev-mailbox/000001/html"):
            response = await anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/dashboard/login")


def _settings(**overrides) -> Settings:
    return Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        secret_key=SecretStr("x" * 40),
        **overrides,
    )


@pytest.mark.parametrize(
    "settings",
    [
        _settings(herald_env="production", dev_mailbox_path="/tmp/any-mail"),
        _settings(herald_env="development", dev_mailbox_path=None),
    ],
    ids=["production", "no-catcher"],
)
async def test_production_and_a_stack_without_the_catcher_have_no_dev_mailbox(settings):
    assert not dev_mailbox_enabled(settings)
    assert "dev_mailbox" not in {page.key for page in navigation(settings)}
    app = create_app(settings)
    paths = {path for path, _ in api_routes(app)}
    assert "/dashboard" in paths
    assert not any(path.startswith("/dashboard/dev-mailbox") for path in paths)
    app.state.settings = settings  # what the lifespan would set; no database is needed here
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://herald") as client:
        assert (await client.get("/dashboard")).status_code == 303  # the dashboard is there
        assert (await client.get("/dashboard/dev-mailbox")).status_code == 404
        assert (await client.get("/dashboard/dev-mailbox/000001/html")).status_code == 404
