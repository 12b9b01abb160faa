"""The inbox widget's browser tests' helpers: a recipient whose inbox a page on another origin
embeds, notifications sent to it through the tenant's API, and the widget as the page shows it.

    recipient = await new_recipient(served, host_pages)
    widget = await embed(new_page, served, host_pages, recipient)
    await send_in_app(served.stack, recipient, "Your order shipped")
    await widget.wait_unread(1)
"""

import asyncio
import html
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from playwright.async_api import Locator, Page, Request, expect

from tests.browser.conftest import HostPages, NewPage, Served
from tests.conftest import Stack
from tests.e2e.inbox_factory import as_recipient, recipient_token

# What the host page records of the widget's events, in window.heraldEvents.
EVENTS = (
    "herald-unread-change",
    "herald-message-received",
    "herald-message-click",
    "herald-token-expired",
    "herald-open-change",
    "herald-connection-change",
    "herald-error",
)

# A recipient's messages of each priority, for the tests that look at the whole dropdown.
SAMPLE_MESSAGES = [  # (title, body, priority)
    ("Payment failed", "Card ending 4242 was declined.", "urgent"),
    ("Your order shipped", "Parcel 1Z999 left the warehouse.", "high"),
    ("New comment on your post", "Ada: Looks great!", "normal"),
    ("Weekly digest is ready", "12 updates from your teams.", "low"),
]


@dataclass
class Recipient:
    external_id: str
    email: str
    token: str


async def new_recipient(served: Served, host_pages: HostPages, **token_options: Any) -> Recipient:
    """A recipient of the served tenant, with a token, the host pages' origin allowed."""
    allowed = await served.stack.api.patch(
        "/v1/settings/inbox", json={"allowed_origins": [host_pages.origin]}
    )
    assert allowed.status_code == 200, allowed.text
    external_id = f"widget-{uuid.uuid4().hex[:10]}"
    email = f"{external_id}@example.com"
    token = await recipient_token(served.stack.api, external_id, email, **token_options)
    return Recipient(external_id, email, token)


async def self_signed_token(stack: Stack, recipient: Recipient, lifetime_seconds: float) -> str:
    """A token the tenant's backend signs itself (a signing secret from the API), living as
    short a time as a test needs: Herald issues none under a minute."""
    created = await stack.api.post("/v1/settings/inbox/signing-secrets")
    assert created.status_code == 201, created.text
    secret = created.json()
    now = int(time.time())
    claims = {
        "sub": recipient.external_id,
        "tid": str(stack.tenant_id),
        "iat": now,
        "exp": now + int(lifetime_seconds),
        "aud": "herald-inbox",
    }
    return jwt.encode(claims, secret["secret"], algorithm="HS256", headers={"kid": secret["kid"]})


def host_page(
    herald: str,
    token: str | None,
    attributes: dict[str, str] | None = None,
    token_from: str = "provider",
) -> str:
    """A plain page of the tenant's product embedding the bell with one script tag.

    token_from: "provider" (element.tokenProvider calls window.heraldNewToken, a function the
    test exposes), "event" (the page answers herald-token-expired by setting element.token),
    or "none"."""
    attrs = {"api-base": herald, "locale": "en-US"} | ({"token": token} if token else {})
    attrs |= attributes or {}
    shown = " ".join(f'{name}="{html.escape(value)}"' for name, value in attrs.items())
    refresh = {
        "provider": """
      inbox.tokenProvider = async () => {
        window.heraldTokenRequests = (window.heraldTokenRequests || 0) + 1;
        return await window.heraldNewToken();
      };""",
        "event": """
      inbox.addEventListener("herald-token-expired", async () => {
        window.heraldTokenRequests = (window.heraldTokenRequests || 0) + 1;
        inbox.token = await window.heraldNewToken();
      });""",
        "none": "",
    }[token_from]
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <link rel="icon" href="data:,">
  <title>Acme: your account</title>
  <style>
    body {{ margin: 0; font-family: system-ui, sans-serif; background: #f6f8fa; color: #1f2328; }}
    header {{ display: flex; align-items: center; justify-content: space-between;
      padding: 8px 16px; background: #ffffff; border-bottom: 1px solid #d0d7de; }}
    main {{ padding: 24px 16px; }}
    @media (prefers-color-scheme: dark) {{
      body {{ background: #0d1117; color: #e6edf3; }}
      header {{ background: #161b22; border-color: #30363d; }}
    }}
  </style>
</head>
<body>
  <header><strong>Acme</strong><herald-inbox {shown}></herald-inbox></header>
  <main><h1>Your account</h1><p>Orders, invoices and settings.</p></main>
  <script>
    window.heraldEvents = [];
    for (const name of {json.dumps(EVENTS)}) {{
      document.addEventListener(name, (event) => window.heraldEvents.push(
        {{name, at: Date.now(), detail: JSON.parse(JSON.stringify(event.detail || {{}}))}}));
    }}
    const inbox = document.querySelector("herald-inbox");{refresh}
  </script>
  <script src="{html.escape(herald)}/v1/inbox/widget.js"></script>
</body>
</html>
"""


@dataclass
class Widget:
    """The bell and its dropdown, as one page shows them."""

    page: Page
    streams: list[Request] = field(default_factory=list)  # its GET /v1/inbox/stream requests

    @property
    def bell(self) -> Locator:
        return self.page.locator("herald-inbox button.bell")

    @property
    def panel(self) -> Locator:
        return self.page.locator("herald-inbox [role=dialog]")

    @property
    def items(self) -> Locator:
        return self.page.locator("herald-inbox [role=feed] article")

    def item(self, title: str) -> Locator:
        return self.items.filter(has=self.page.locator(".title", has_text=title))

    def tab(self, name: str) -> Locator:
        return self.page.get_by_role("tab", name=name)

    async def unread(self) -> int:
        return int(await self.bell.get_attribute("data-unread") or 0)

    # 15 s: a change's answer and its stream event took over 5 s once in clean-ci, the whole
    # suite running on two cores (the count stayed at its value before a "Mark as read").
    async def wait_unread(self, count: int, timeout: float = 15.0) -> None:
        await expect(self.bell).to_have_attribute("data-unread", str(count), timeout=timeout * 1000)

    async def open(self) -> None:
        await self.bell.click()
        await expect(self.panel).to_be_visible()

    async def events(self, name: str) -> list[dict]:
        return [e for e in await self.page.evaluate("window.heraldEvents") if e["name"] == name]

    async def wait_live(self, timeout: float = 10.0) -> None:
        """Until the widget's stream is open (herald-connection-change, live)."""
        deadline = time.monotonic() + timeout
        while not any(e["detail"]["live"] for e in await self.events("herald-connection-change")):
            assert time.monotonic() < deadline, "the widget's stream never opened"
            await asyncio.sleep(0.05)


async def embed(
    new_page: NewPage,
    served: Served,
    host_pages: HostPages,
    recipient: Recipient,
    path: str | None = None,
    token: str | None = None,
    attributes: dict[str, str] | None = None,
    token_from: str = "provider",
    live: bool = True,
    functions: dict[str, Callable[..., Any]] | None = None,
    **page_options: Any,
) -> Widget:
    """A new page (its own browser context, or `beside=` another page: a second tab) on the host
    origin embedding the recipient's bell; `functions` are exposed to the page (window.<name>)
    before it loads. Waits for the widget's stream to be open unless `live` is False."""
    url = host_pages.put(
        path or f"/{uuid.uuid4().hex[:8]}.html",
        host_page(served.base_url, token or recipient.token, attributes, token_from),
    )
    page = await new_page(**page_options)
    for name, function in (functions or {}).items():
        await page.expose_function(name, function)
    widget = Widget(page)
    page.on("request", lambda r: widget.streams.append(r) if "/v1/inbox/stream" in r.url else None)
    await page.goto(url)
    if live:
        await widget.wait_live()
    return widget


async def send_in_app(
    stack: Stack,
    recipient: Recipient,
    title: str,
    body: str = "",
    event_key: str = "account.notice",
    **fields: Any,
) -> dict:
    """POST /v1/notifications for the in-app channel; returns the answer (id, workflow_id)."""
    context = {"title": title, "subject": title, "message": body or title}
    context |= fields.pop("context", {})
    accepted = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": recipient.external_id},
            "event_key": event_key,
            "channels": fields.pop("channels", ["in_app"]),
            "context": context,
        }
        | fields,
    )
    assert accepted.status_code == 202, accepted.text
    return accepted.json()


async def inbox_message(
    stack: Stack, recipient: Recipient, title: str, timeout: float = 10.0, **query: str
) -> dict:
    """The recipient's message with this title, as GET /v1/inbox lists it (waits for it)."""
    deadline = time.monotonic() + timeout
    async with as_recipient(stack, recipient.token) as inbox:
        while True:
            listed = await inbox.get("/v1/inbox", params={"limit": "100", **query})
            assert listed.status_code == 200, listed.text
            found = [m for m in listed.json()["data"] if m["title"] == title]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no message {title!r} in the inbox"
            await asyncio.sleep(0.1)


async def recipient_counts(stack: Stack, recipient: Recipient) -> dict:
    async with as_recipient(stack, recipient.token) as inbox:
        response: httpx.Response = await inbox.get("/v1/inbox/counts")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_counts(stack: Stack, recipient: Recipient, timeout: float = 5.0, **expected: int):
    """Until the recipient's counts on the server are as expected (a change the widget shows at
    once may still be on its way there)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await recipient_counts(stack, recipient)
        if all(counts[name] == value for name, value in expected.items()):
            return counts
        assert time.monotonic() < deadline, f"counts {counts}, wanted {expected}"
        await asyncio.sleep(0.1)


async def send_samples(stack: Stack, recipient: Recipient, count: int = len(SAMPLE_MESSAGES)):
    """SAMPLE_MESSAGES[:count], oldest first, each stored before the next is sent."""
    for title, body, priority in SAMPLE_MESSAGES[:count]:
        await send_in_app(stack, recipient, title, body, priority=priority)
        await inbox_message(stack, recipient, title)
