"""The dashboard's shell at the HTTP level (issue 14): every page of the navigation answers within
the layout for a signed-in operator and sends anyone else to sign in; the Overview and Health
show what the services report, for the operator's own tenant only; pages not built yet say so."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.conftest import new_tenant
from tests.e2e.test_delivery_policy import quiet_window_around_now, recipient, send
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_resend import failed_delivery
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.routes import api_routes
from web.pages import navigation


@pytest.fixture
async def owner(stack, sessions):
    return await signed_in_operator(sessions, stack.settings, stack.tenant_id)


@pytest.fixture
async def browser(stack, owner):
    async with dashboard_client(stack.app, owner.cookies) as client:
        yield client


def figure(page: str, name: str) -> int:
    found = re.search(rf'data-figure="{name}">(\d+)<', page)
    assert found, f"no {name} figure"
    return int(found.group(1))


def section(page: str, heading_id: str) -> str:
    """The HTML of one <section> of a page, by its heading's id."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start : page.index("</section>", start)]


async def test_without_a_session_every_page_sends_you_to_sign_in(stack):
    async with dashboard_client(stack.app) as anonymous:
        for page in navigation(stack.settings):
            response = await anonymous.get(page.path)
            assert response.status_code == 303, (page.path, response.text)
            assert response.headers["location"].startswith("/dashboard/login?next=%2Fdashboard")
        # A cookie Herald did not sign is no session either.
        forged = dashboard_client(stack.app, {"herald_session": "made-up.signature"})
        async with forged:
            assert (await forged.get("/dashboard")).status_code == 303
        # An API key is not a dashboard session.
        keyed = await stack.as_tenant(stack.api_key)
        assert (await keyed.get("/dashboard")).status_code == 303


def placeholder_paths(app) -> set[str]:
    """Pages no router serves yet: web/routes/placeholders.py serves them."""
    return {
        path for path, route in api_routes(app) if route.endpoint.__name__ == "placeholder_page"
    }


async def test_every_page_renders_in_the_layout_with_the_navigation(stack, browser, owner):
    placeholders = placeholder_paths(stack.app)
    assert {"/dashboard", "/dashboard/health"}.isdisjoint(placeholders)
    pages = navigation(stack.settings)  # no Dev mailbox: this stack runs no catcher
    for page in pages:
        response = await browser.get(page.path)
        assert response.status_code == 200, (page.path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        body = response.text
        assert '<a class="skip-link" href="#main">' in body
        assert '<nav class="sidenav" aria-label="Dashboard">' in body and '<main id="main"' in body
        for other in pages:
            assert f'href="{other.path}"' in body, (page.path, other.path)
        assert "/dashboard/dev-mailbox" not in body
        assert re.search(rf'href="{re.escape(page.path)}"\s+aria-current="page"', body), page.path
        assert body.count('aria-current="page"') == 1
        assert owner.operator.name in html.unescape(body)
        assert 'action="/dashboard/logout"' in body and 'name="csrf_token" value="' in body
        placeholder = "Not built yet" in body
        assert placeholder == (page.path in placeholders), page.path
        if placeholder:
            assert page.summary in html.unescape(body)


async def test_the_layout_loads_its_own_css_and_htmx_and_nothing_from_elsewhere(browser):
    body = (await browser.get("/dashboard")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert all(source.startswith(("/", "#")) for source in sources), sources
    css = await browser.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
    htmx = await browser.get("/dashboard/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx.org 2.0.11" in htmx.text[:200]
    assert "Zero-Clause BSD" in htmx.text[:2000]


async def test_the_overview_counts_todays_deliveries_and_lists_failures_to_resend(
    stack, smtp, browser
):
    sent = await stack.api.post("/v1/notifications", json=email_request("ok@example.com"))
    assert sent.status_code == 202, sent.text
    await stack.wait_for_status(sent.json()["id"], "sent")
    failed, failed_address = await failed_delivery(stack, smtp)
    start, end, _ = quiet_window_around_now()
    quiet, _ = await recipient(stack, dnd={"enabled": True, "start": start, "end": end})
    await stack.wait_for_status((await send(stack, quiet))["id"], "deferred")

    page = (await browser.get("/dashboard")).text

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    stats = (await stack.api.get("/v1/stats", params={"from": midnight.isoformat()})).json()[
        "totals"
    ]
    assert figure(page, "sent") == stats["sent"] >= 1
    assert figure(page, "delivered") == stats["delivered"]
    assert figure(page, "failed") == stats["failed"] + stats["bounced"] >= 1
    deferred = (await stack.api.get("/v1/logs", params={"status": "deferred"})).json()["data"]
    assert figure(page, "deferred") == len(deferred) >= 1

    attention = section(page, "attention")
    assert failed_address in attention and "550: 5.1.1 No such user here" in attention
    assert "ok@example.com" not in attention
    recent = section(page, "recent")
    assert "ok@example.com" in recent and failed_address in recent

    # Resent, the failure needs no more attention.
    [delivery] = failed["deliveries"]
    resend = await stack.api.post(f"/v1/deliveries/{delivery['id']}/resend")
    assert resend.status_code == 202, resend.text
    page = (await browser.get("/dashboard")).text
    assert failed_address not in section(page, "attention")


async def test_the_overview_and_health_show_nothing_of_another_tenant(stack, smtp, sessions):
    _, failed_address = await failed_delivery(stack, smtp)
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    scheduled = await stack.api.post(
        "/v1/notifications", json=email_request("later@example.com", send_at=later)
    )
    await stack.wait_for_status(scheduled.json()["id"], "scheduled")
    other_tenant, _ = await new_tenant(sessions, "Other")
    other = await signed_in_operator(sessions, stack.settings, other_tenant)

    async with dashboard_client(stack.app, other.cookies) as browser:
        overview = (await browser.get("/dashboard")).text
        health = (await browser.get("/dashboard/health")).text

    assert failed_address not in overview and "later@example.com" not in overview
    assert figure(overview, "failed") == 0 and figure(overview, "sent") == 0
    assert "No deliveries yet." in overview
    assert "Nothing waiting." in section(health, "backlog")


async def test_health_shows_each_part_the_report_has(stack, smtp, browser, sessions):
    await failed_delivery(stack, smtp)
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    scheduled = await stack.api.post(
        "/v1/notifications", json=email_request("later@example.com", send_at=later)
    )
    await stack.wait_for_status(scheduled.json()["id"], "scheduled")
    async with sessions.begin() as session:  # a circuit a worker opened
        await session.execute(
            text(
                "INSERT INTO provider_circuits (provider, state, opened_at) "
                "VALUES ('smtp', 'open', now()) "
                "ON CONFLICT (provider) DO UPDATE SET state = 'open', opened_at = now()"
            )
        )
    try:
        response = await browser.get("/dashboard/health")
    finally:
        async with sessions.begin() as session:
            await session.execute(text("DELETE FROM provider_circuits WHERE provider = 'smtp'"))
    assert response.status_code == 200
    page = response.text
    report = await stack.health_details()

    assert 'Herald is <span class="badge warn">degraded</span>' in page
    core = section(page, "core")
    assert core.count('<span class="badge ok">ok</span>') >= 1  # the database
    for lane, part in report["temporal"]["lanes"].items():  # each lane, its queue, its workers
        assert re.search(
            rf"{lane.capitalize()} lane <span[^>]*>{part['status']}</span></dt><dd>"
            rf'<span class="mono">{re.escape(part["task_queue"])}</span>: '
            rf"{part['workers_polling']} worker\(s\) polling",
            core,
        ), (lane, core)
    providers = section(page, "providers")
    assert re.search(
        r'<td class="mono">smtp</td>\s*<td>1</td>\s*<td><span class="badge bad">open', providers
    )
    assert f"127.0.0.1:{stack.settings.smtp_port}" in providers
    smtp_rate = report["providers"]["email"]["failure_rate_last_hour"]["smtp"]
    assert smtp_rate > 0 and f"{smtp_rate * 100:.1f}%" in providers
    # Each configured provider as its module declares it; a secret only as set or missing.
    declared = section(page, "declared")
    for channel, described in report["providers"].items():
        for provider in described["providers"]:
            assert f'<td class="mono">{provider["name"]}</td>' in declared, (channel, provider)
    assert "SMTP_PASSWORD=missing" in declared or "SMTP_PASSWORD=set" in declared
    backlog = section(page, "backlog")
    assert re.search(r"<dt>scheduled</dt><dd>1</dd>", backlog), backlog


async def test_with_temporal_down_the_pages_say_so_instead_of_failing(
    stack,
    browser,
    unreachable_temporal,  # noqa: F811
):
    stack.app.state.temporal = unreachable_temporal
    try:
        overview = await browser.get("/dashboard")
        health = await browser.get("/dashboard/health")
    finally:
        stack.app.state.temporal = stack.client
    assert overview.status_code == 200, overview.text
    assert '<h2 id="health-glance">Health <span class="badge bad">down</span>' in overview.text
    assert health.status_code == 200, health.text
    assert 'Temporal <span class="badge bad">down</span>' in section(health.text, "core")
