"""The dashboard in a real browser: Herald on a real port with the development stack's mail
catcher (so the Dev mailbox exists), an operator signed in by Herald's own services, and pages
opened with their session cookie. Used through the `dashboard` fixture
(tests/browser/conftest.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from devtools.mailcatcher import MailCatcher, start_mailcatcher
from domain.operators import Role
from tests.browser.conftest import NewPage, Served, serving_on_a_port
from tests.conftest import free_port
from tests.e2e.test_delivery_policy import quiet_window_around_now, recipient, send
from tests.e2e.test_email_smtp import email_request
from tests.utils.dashboard import SignedInOperator, signed_in_operator

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


class DevCatcher(MailCatcher):
    """The development stack's catcher (each message also a file the Dev mailbox reads), which
    refuses the addresses a test names, as a receiving server would an unknown user."""

    def __init__(self, directory: Path):
        super().__init__(directory)
        self.refused: set[str] = set()

    def refusal_for(self, envelope: Any) -> str | None:
        if self.refused & set(envelope.rcpt_tos):
            return "550 5.1.1 No such user here"
        return None


@dataclass
class Dashboard:
    served: Served
    catcher: DevCatcher  # what Herald's email reached; also in the Dev mailbox
    sessions: Any

    @property
    def base_url(self) -> str:
        return self.served.base_url

    async def operator(self, role: Role = Role.OWNER) -> SignedInOperator:
        stack = self.served.stack
        return await signed_in_operator(self.sessions, stack.settings, stack.tenant_id, role)

    async def open(
        self,
        new_page: NewPage,
        path: str = "/dashboard",
        as_operator: SignedInOperator | None = None,
        **context_options: Any,
    ) -> Page:
        """A page of its own browser profile, signed in (as a new owner unless told), at
        `path`. Pass `bypass_csp=True` to inject a checker such as axe-core."""
        signed_in = as_operator or await self.operator()
        page = await new_page(**context_options)
        await page.context.add_cookies(
            [
                {"name": name, "value": value, "url": self.base_url}
                for name, value in signed_in.cookies.items()
            ]
        )
        await page.goto(self.base_url + path)
        return page


async def some_activity(dashboard: Dashboard) -> None:
    """A day's worth of deliveries, so pages have something to show: three emails sent, one
    refused by the receiving server, one deferred by the recipient's quiet hours."""
    stack = dashboard.served.stack
    sent = []
    for name in ("ada", "grace", "katherine"):
        accepted = await stack.api.post(
            "/v1/notifications", json=email_request(f"{name}@example.com")
        )
        sent.append(accepted.json()["id"])
    dashboard.catcher.refused.add("nobody@example.com")
    failed = await stack.api.post("/v1/notifications", json=email_request("nobody@example.com"))
    start, end, _ = quiet_window_around_now()
    quiet, _ = await recipient(stack, dnd={"enabled": True, "start": start, "end": end})
    deferred = await send(stack, quiet)
    for notification_id in sent:
        await stack.wait_for_status(notification_id, "sent")
    await stack.wait_for_status(failed.json()["id"], "failed")
    await stack.wait_for_status(deferred["id"], "deferred")


@asynccontextmanager
async def serving_dashboard(
    make_stack, temporal_env, sessions, mail_directory: Path
) -> AsyncIterator[Dashboard]:
    catcher = DevCatcher(mail_directory)
    port = free_port()
    controller = start_mailcatcher(catcher, port=port)
    try:
        async with (
            make_stack(temporal_env, smtp_port=port, dev_mailbox_path=str(mail_directory)) as stack,
            serving_on_a_port(stack) as served,
        ):
            yield Dashboard(served, catcher, sessions)
    finally:
        controller.stop()
