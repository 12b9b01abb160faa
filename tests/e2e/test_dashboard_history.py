"""The dashboard's History at the HTTP level (issue 14): the delivery log filtered by each field
and searched, a page at a time; a delivery's page with its timeline from Herald's records and
its workflow's history (and without Temporal), its content and its Web UI link; resending one
delivery or every failed one a filter matches, audited; a viewer sees but changes nothing."""

import asyncio
import html
import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from werkzeug import Response

from domain.operators import Role
from services import history
from tests.conftest import new_tenant
from tests.e2e.test_dashboard_access import audit_actions
from tests.e2e.test_delivery_policy import quiet_window_around_now, recipient, send
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_resend import failed_delivery
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of, field_error
from tests.utils.deliveries import add_deliveries

HISTORY = "/dashboard/history"
LISTED = re.compile(r'href="/dashboard/history/([0-9a-f-]{36})"')


def listed(page: str) -> list[str]:
    """The deliveries a History page lists, in its order."""
    start = page.find('aria-labelledby="deliveries"')
    return LISTED.findall(page[start:]) if start >= 0 else []


def timeline(page: str) -> str:
    """The timeline's text, tags left out."""
    start = page.index('<ol class="timeline">')
    words = re.sub(r"<[^>]+>", " ", page[start : page.index("</ol>", start)])
    return " ".join(html.unescape(words).split())


async def sms(stack, phone: str, external_id: str) -> dict:
    response = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id, "phone": phone, "name": "Grace Hopper"},
            "event_key": "booking.reminder",
            "channels": ["sms"],
            "context": {"message": "See you soon."},
        },
    )
    assert response.status_code == 202, response.text
    return await stack.wait_for_status(response.json()["id"], "sent")


async def test_history_filters_by_each_field_and_searches(stack, smtp, owner_browser, sessions):
    sent = await stack.api.post("/v1/notifications", json=email_request("ada@example.com"))
    sent = await stack.wait_for_status(sent.json()["id"], "sent")
    failed, failed_address = await failed_delivery(stack, smtp)
    texted = await sms(stack, "+14155550188", f"grace-{uuid.uuid4().hex[:6]}")
    start, end, _ = quiet_window_around_now()
    quiet, quiet_address = await recipient(stack, dnd={"enabled": True, "start": start, "end": end})
    deferred = await stack.wait_for_status((await send(stack, quiet))["id"], "deferred")
    [email], [failure], [text_message], [waiting] = (
        n["deliveries"] for n in (sent, failed, texted, deferred)
    )
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    accepted = await other.post("/v1/notifications", json=email_request("ada@example.com"))
    theirs: dict = {}

    async def theirs_sent() -> bool:
        theirs.update(await stack.notification(accepted.json()["id"], other_key))
        return theirs["status"] == "sent"

    while not await theirs_sent():
        await asyncio.sleep(0.1)

    everything = listed((await owner_browser.get(HISTORY)).text)
    assert everything[:4] == [waiting["id"], text_message["id"], failure["id"], email["id"]]
    assert theirs["deliveries"][0]["id"] not in everything  # another tenant's

    async def only(params: dict) -> list[str]:
        response = await owner_browser.get(HISTORY, params=params)
        assert response.status_code == 200, response.text
        return listed(response.text)

    assert await only({"status": "failed"}) == [failure["id"]]
    assert await only({"status": "deferred"}) == [waiting["id"]]
    assert await only({"channel": "sms"}) == [text_message["id"]]
    assert await only({"event_key": "booking.reminder"}) == [text_message["id"]]
    assert await only({"event_key": "booking.confirmation"}) == [waiting["id"]]
    assert await only({"recipient": quiet}) == [waiting["id"]]
    assert await only({"recipient": "nobody-at-all"}) == []
    assert set(await only({"provider": "outbox"})) == {text_message["id"]}
    assert await only({"provider": "smtp", "status": "sent"}) == [email["id"]]
    # The range: from its start (inclusive) to its end (exclusive), times in UTC.
    created = datetime.fromisoformat(failure["created_at"])
    assert failure["id"] in await only({"from": created.isoformat()})
    assert email["id"] not in await only({"from": created.isoformat()})
    assert await only({"to": (created - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}) == []
    # Search: a recipient's id, name (a word's start), email or phone (their start), an id.
    assert await only({"q": quiet[:10]}) == [waiting["id"]]
    assert await only({"q": "GRACE hop"}) == [text_message["id"]]
    assert await only({"q": failed_address[:6]}) == [failure["id"]]
    assert await only({"q": "+1415555018"}) == [text_message["id"]]
    assert await only({"q": failure["id"]}) == [failure["id"]]
    assert await only({"q": deferred["id"]}) == [waiting["id"]]  # a notification's id
    assert await only({"q": email["provider_message_id"]}) == [email["id"]]
    assert await only({"q": "zz-no-such-recipient"}) == []
    assert await only({"q": quiet_address}) == [waiting["id"]]


async def test_bad_filters_are_shown_beside_their_field(owner_browser):
    response = await owner_browser.get(HISTORY, params={"status": "lost"})
    assert response.status_code == 422
    assert field_error(response.text, "status").startswith("Input should be 'pending'")
    now = datetime.now(UTC)
    backwards = {"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}
    response = await owner_browser.get(HISTORY, params=backwards)
    assert response.status_code == 422 and field_error(response.text, "to") == "must be after from"
    too_long = {"from": (now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M")}
    response = await owner_browser.get(HISTORY, params=too_long)
    assert field_error(response.text, "from") == "the range is at most 93 days; narrow it"
    response = await owner_browser.get(HISTORY, params={"from": "yesterday"})
    assert "must be an ISO 8601 date and time" in field_error(response.text, "from")
    response = await owner_browser.get(HISTORY, params={"cursor": "not-ours"})
    assert response.status_code == 422
    assert "cursor: is not a cursor this API returned" in html.unescape(response.text)


async def test_pages_follow_one_another_and_a_sparse_filter_looks_further_back(
    stack, owner_browser, sessions, monkeypatch
):
    """Keyset pages: newest first, none listed twice, none left out. A filter no index serves
    looks through SCAN_LIMIT deliveries a page and says how far back it looked; failures are
    found through their own index however far back they are."""
    now = datetime.now(UTC).replace(microsecond=0)
    batches = [
        (
            now - timedelta(minutes=minute),
            "email",
            "smtp",
            "booking.reminder",
            None,
            {"delivered" if minute % 40 == 0 else "failed" if minute in (70, 110) else "sent": 1},
        )
        for minute in range(1, 121)
    ]
    async with sessions.begin() as session:
        await add_deliveries(session, stack.tenant_id, batches, {})
    seen: list[str] = []
    url: str | None = HISTORY
    while url:
        page = (await owner_browser.get(url)).text
        seen += listed(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = html.unescape(found.group(1)) if found else None
    assert len(seen) == 120 == len(set(seen))
    async with sessions() as session:
        newest_first = (
            await session.scalars(
                text(
                    "SELECT id::text FROM deliveries WHERE tenant_id = :tenant "
                    "ORDER BY created_at DESC, id DESC"
                ),
                {"tenant": stack.tenant_id},
            )
        ).all()
    assert seen == list(newest_first)

    monkeypatch.setattr(history, "SCAN_LIMIT", 50)  # delivered at minutes 40, 80 and 120
    page = (await owner_browser.get(HISTORY, params={"status": "delivered"})).text
    assert len(listed(page)) == 1
    assert "This page looked through 50 deliveries, back to" in page
    further = re.search(r'<a href="([^"]+)" rel="next">Look further', page)
    assert further, "no link to look further back"
    further_page = (await owner_browser.get(html.unescape(further.group(1)))).text
    assert len(listed(further_page)) == 1
    # Failures have an index of their own (ix_deliveries_failed): all of them, at once.
    page = (await owner_browser.get(HISTORY, params={"status": "failed"})).text
    assert len(listed(page)) == 2 and "This page looked through" not in page


async def test_a_failed_delivery_shows_its_timeline_content_and_workflow(
    stack, smtp, owner_browser
):
    failed, to = await failed_delivery(stack, smtp)
    [delivery] = failed["deliveries"]
    response = await owner_browser.get(f"{HISTORY}/{delivery['id']}")
    assert response.status_code == 200, response.text
    page = response.text
    steps = timeline(page)
    # Herald's records, and the workflow's history read from Temporal, in time order.
    assert "Herald Accepted" in steps
    assert "Failed SMTP error 550: 5.1.1 No such user here" in steps
    assert "Workflow Workflow started NotificationWorkflow" in steps
    assert "Workflow completed" in steps
    assert steps.index("Accepted") < steps.index("Workflow started")
    assert steps.index("Workflow started") < steps.index("Workflow completed")
    # Its workflow's run in the Web UI.
    description = await stack.client.get_workflow_handle(failed["workflow_id"]).describe()
    link = (
        f"http://localhost:8233/namespaces/default/workflows/{failed['workflow_id']}/"
        f"{description.run_id}/history"
    )
    assert f'href="{link}"' in page
    # What it said: rendered again, escaped; its HTML in a sandboxed frame of its own.
    assert "<strong>Subject:</strong> Payment received" in page
    assert "We received 42.00 EUR." in page
    assert f'<iframe class="mail-frame" sandbox src="{HISTORY}/{delivery["id"]}/html"' in page
    frame = await owner_browser.get(f"{HISTORY}/{delivery['id']}/html")
    assert frame.status_code == 200 and "We received 42.00 EUR." in frame.text
    assert frame.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert to in page and 'action="/dashboard/history/' in page  # the resend button


async def test_a_deferred_delivery_shows_its_wait_and_the_workflows_timer(stack, owner_browser):
    start, end, ends_at = quiet_window_around_now()
    quiet, _ = await recipient(stack, dnd={"enabled": True, "start": start, "end": end})
    deferred = await stack.wait_for_status((await send(stack, quiet))["id"], "deferred")
    [delivery] = deferred["deliveries"]
    steps = ""
    for _ in range(50):  # the timer is recorded when the plan's workflow task completes
        steps = timeline((await owner_browser.get(f"{HISTORY}/{delivery['id']}")).text)
        if "Timer started for" in steps:
            break
        await asyncio.sleep(0.1)
    assert "Deferred until" in steps and "Deferral ends" in steps
    assert ends_at.strftime("%Y-%m-%d %H:%M") in steps
    assert "Timer started for" in steps and "fires at" in steps


async def test_a_failover_is_on_the_timeline(failover_stack, httpserver, smtp, sessions):
    httpserver.expect_request("/v3/mail/send").respond_with_response(
        Response("unavailable", status=503)
    )
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = await failover_stack.api.post("/v1/notifications", json=email_request(to))
    notification = await failover_stack.wait_for_status(accepted.json()["id"], "sent")
    [delivery] = notification["deliveries"]
    owner = await signed_in_operator(sessions, failover_stack.settings, failover_stack.tenant_id)
    async with dashboard_client(failover_stack.app, owner.cookies) as browser:
        steps = timeline((await browser.get(f"{HISTORY}/{delivery['id']}")).text)
    assert "Failed over from sendgrid to smtp" in steps and "503" in steps
    assert "Sent via smtp" in steps
    assert steps.index("Failed over") < steps.index("Sent via smtp")


async def test_with_temporal_down_the_delivery_page_renders_from_heralds_records(
    stack,
    smtp,
    owner_browser,
    unreachable_temporal,  # noqa: F811
):
    failed, _ = await failed_delivery(stack, smtp)
    [delivery] = failed["deliveries"]
    stack.app.state.temporal = unreachable_temporal
    try:
        response = await owner_browser.get(f"{HISTORY}/{delivery['id']}")
    finally:
        stack.app.state.temporal = stack.client
    assert response.status_code == 200, response.text
    page = response.text
    assert "The workflow's steps are not shown: Temporal could not be reached" in page
    steps = timeline(page)
    assert "Herald Accepted" in steps and "Failed SMTP error 550" in steps
    assert "Workflow started" not in steps
    # No run id to link to: the Web UI's search for the workflow's id.
    assert "http://localhost:8233/namespaces/default/workflows?query=WorkflowId%3D%22" in page


async def test_resending_one_delivery_from_its_page(stack, smtp, sessions, owner_browser):
    failed, to = await failed_delivery(stack, smtp)
    [delivery] = failed["deliveries"]
    page = await owner_browser.get(f"{HISTORY}/{delivery['id']}")
    resend = await owner_browser.post(
        f"{HISTORY}/{delivery['id']}/resend", data={"csrf_token": csrf_of(page.text)}
    )
    assert resend.status_code == 303, resend.text
    new_id = resend.headers["location"].split("/")[-1].split("?")[0]
    assert new_id != delivery["id"]
    await smtp.wait_for(to)
    await stack.wait_for_status(failed["id"], "sent")
    new_page = (await owner_browser.get(f"{HISTORY}/{new_id}")).text
    assert f"Resent repeats delivery {delivery['id']}" in timeline(new_page)
    assert "Sent via smtp" in timeline(new_page)
    old_page = (await owner_browser.get(f"{HISTORY}/{delivery['id']}")).text
    assert f"Resent as a new delivery {new_id}" in timeline(old_page)
    assert "Resend this delivery" not in old_page  # resent already
    audited = await audit_actions(sessions, stack.tenant_id)
    assert ("delivery.resend", f"delivery {delivery['id']}") in audited
    # Again: refused, saying why, on the delivery's own page.
    again = await owner_browser.post(
        f"{HISTORY}/{delivery['id']}/resend", data={"csrf_token": csrf_of(page.text)}
    )
    assert again.status_code == 409
    assert "was already resent as" in html.unescape(again.text)


async def test_resending_every_failed_delivery_a_filter_matches(
    stack, smtp, sessions, owner_browser, monkeypatch
):
    failures = [await failed_delivery(stack, smtp) for _ in range(3)]
    filters = {"status": "failed", "channel": "email"}
    confirm = await owner_browser.get(f"{HISTORY}/resend", params=filters)
    assert confirm.status_code == 200
    assert "Resend 3 failed deliveries?" in html.unescape(confirm.text)
    monkeypatch.setattr(history, "RESEND_AT_ONCE", 2)
    confirm = await owner_browser.get(f"{HISTORY}/resend", params=filters)
    assert "More than 2 failed or bounced deliveries" in html.unescape(confirm.text)
    done = await owner_browser.post(
        f"{HISTORY}/resend", data={"csrf_token": csrf_of(confirm.text), **filters}
    )
    assert done.status_code == 202, done.text
    assert "Resent 2." in done.text
    # The newest two, as listed; the oldest waits for the next confirmation.
    newest = [failures[2][1], failures[1][1]]
    for to in newest:
        await smtp.wait_for(to)
    assert not smtp.to(failures[0][1])
    actions = [action for action, _ in await audit_actions(sessions, stack.tenant_id)]
    assert actions.count("delivery.resend_matching") == 1
    monkeypatch.setattr(history, "RESEND_AT_ONCE", 1000)
    confirm = await owner_browser.get(f"{HISTORY}/resend", params=filters)
    assert "Resend 1 failed delivery?" in html.unescape(confirm.text)


async def test_a_viewer_sees_history_but_cannot_resend(stack, smtp, sessions):
    failed, _ = await failed_delivery(stack, smtp)
    [delivery] = failed["deliveries"]
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    async with dashboard_client(stack.app, viewer.cookies) as browser:
        listing = await browser.get(HISTORY)
        assert delivery["id"] in listed(listing.text)
        assert "Resend every failed delivery" not in listing.text
        page = await browser.get(f"{HISTORY}/{delivery['id']}")
        assert page.status_code == 200 and "Resend this delivery" not in page.text
        token = csrf_of(page.text)
        one = await browser.post(f"{HISTORY}/{delivery['id']}/resend", data={"csrf_token": token})
        every = await browser.post(
            f"{HISTORY}/resend", data={"csrf_token": token, "status": "failed"}
        )
    assert one.status_code == 403 and every.status_code == 403
    after = await stack.notification(failed["id"])
    assert len(after["deliveries"]) == 1  # nothing resent


async def test_another_tenants_delivery_is_not_found(stack, smtp, sessions):
    failed, _ = await failed_delivery(stack, smtp)
    [delivery] = failed["deliveries"]
    other_tenant, _ = await new_tenant(sessions, "Other")
    other = await signed_in_operator(sessions, stack.settings, other_tenant)
    async with dashboard_client(stack.app, other.cookies) as browser:
        assert (await browser.get(f"{HISTORY}/{delivery['id']}")).status_code == 404
        assert (await browser.get(f"{HISTORY}/{delivery['id']}/html")).status_code == 404
        assert (await browser.get(f"{HISTORY}/not-an-id")).status_code == 404
        assert listed((await browser.get(HISTORY, params={"q": delivery["id"]})).text) == []
