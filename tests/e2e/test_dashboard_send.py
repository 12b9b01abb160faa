"""The dashboard's Send page at the HTTP level (issue 14): the form offers an event's templates
and a field per variable (required ones marked); typing finds recipients; the preview is the
preview service's; sending now or at a time goes as the API's POST /v1/notifications goes (the
same refusals, in the same words, beside their field; nothing sent), once per form, audited,
and leads to the notification in History. A viewer may look but not send."""

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from domain.operators import Role
from tests.conftest import new_tenant
from tests.e2e.test_dashboard_access import audit_actions
from tests.e2e.test_templates_api import create, email_template, sms_template
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of, field_error

SEND = "/dashboard/send"


async def new_recipient(stack, name: str = "Ada Lovelace", **contact) -> str:
    external_id = f"ada-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "email": f"{external_id}@example.com", **contact}
    response = await stack.api.put(f"/v1/recipients/{external_id}", json=body)
    assert response.status_code == 200, response.text
    return external_id


async def form(browser, **fields) -> dict:
    """The Send form's hidden fields (its CSRF token and idempotency key) with `fields`."""
    page = (await browser.get(SEND)).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key, "no idempotency key on the form"
    return {"csrf_token": csrf_of(page), "idempotency_key": key.group(1), **fields}


def notification_of(response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/dashboard/history?q=")
    return location.split("q=")[1].split("&")[0]


async def test_sending_now_goes_as_the_api_sends_and_is_audited(
    stack, smtp, owner_browser, sessions
):
    external_id = await new_recipient(stack)
    fields = await form(
        owner_browser,
        event_key="payment.completed",
        recipient=external_id,
        channels="email",
        **{"context.amount": "42.00", "context.currency": "EUR"},
    )
    sent = await owner_browser.post(SEND, data=fields)
    notification_id = notification_of(sent)
    notification = await stack.wait_for_status(notification_id, "sent")
    assert notification["recipient"] == external_id
    assert notification["context"] == {"amount": "42.00", "currency": "EUR"}
    [mail] = await smtp.wait_for(f"{external_id}@example.com")
    assert "42.00" in mail.text()
    # The same form again (a double click, a reload): the same notification, sent once.
    again = await owner_browser.post(SEND, data=fields)
    assert notification_of(again) == notification_id
    assert ("notification.send", f"notification {notification_id}") in await audit_actions(
        sessions, stack.tenant_id
    )
    sends = [a for a, _ in await audit_actions(sessions, stack.tenant_id)]
    assert sends.count("notification.send") == 1
    # History shows it.
    history = (await owner_browser.get(sent.headers["location"])).text
    assert notification["deliveries"][0]["id"] in history
    assert "Sent. Its deliveries are listed here" in history


async def test_sending_at_a_time_schedules_it(stack, owner_browser):
    external_id = await new_recipient(stack)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    fields = await form(
        owner_browser,
        event_key="payment.completed",
        recipient=external_id,
        send_at=at.strftime("%Y-%m-%dT%H:%M"),  # as the form's field gives it: UTC
        **{"context.amount": "1.00", "context.currency": "EUR"},
    )
    notification_id = notification_of(await owner_browser.post(SEND, data=fields))
    notification = await stack.wait_for_status(notification_id, "scheduled")
    assert datetime.fromisoformat(notification["send_at"]) == at


async def test_refusals_are_the_apis_beside_their_field_and_nothing_is_sent(
    stack, owner_browser, sessions
):
    external_id = await new_recipient(stack)
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        ({"recipient": "", "event_key": "payment.completed"}, "recipient"),
        ({"recipient": "nobody-here", "event_key": "payment.completed"}, "recipient"),
        ({"recipient": external_id, "event_key": "Not A Key!"}, "event_key"),
        ({"recipient": external_id, "event_key": "payment.completed", "send_at": past}, "send_at"),
        (
            {"recipient": external_id, "event_key": "payment.completed", "channels": "fax"},
            "channels",
        ),
    ]
    for fields, field in cases:
        response = await owner_browser.post(SEND, data=await form(owner_browser, **fields))
        assert response.status_code == 422, (fields, response.status_code)
        shown = field_error(response.text, field)
        # The API's own words for the same request.
        body = {
            "recipient": {"external_id": fields["recipient"]} if fields["recipient"] else {},
            "event_key": fields["event_key"],
        }
        if "send_at" in fields:
            body["send_at"] = fields["send_at"] + ":00Z"
        if "channels" in fields:
            body["channels"] = [fields["channels"]]
        api = (await stack.api.post("/v1/notifications", json=body)).json()
        problems = {p["field"]: p["problem"] for p in api.get("errors", [])} or {
            api["detail"].split(": ", 1)[0]: api["detail"].split(": ", 1)[1]
        }
        api_field = {
            "recipient": ["recipient", "recipient.external_id"],
            "channels": ["channels.0"],
        }.get(field, [field])
        assert shown in [problems.get(f) for f in api_field], (field, shown, problems)
    # Context typed as JSON must be JSON, beside its field.
    bad_json = await form(
        owner_browser,
        recipient=external_id,
        event_key="daily_agenda",
        **{"context.bookings": "[{not json"},
    )
    response = await owner_browser.post(SEND, data=bad_json)
    assert response.status_code == 422
    assert field_error(response.text, "context-bookings").startswith("is not JSON")
    async with sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM notifications WHERE tenant_id = :t"), {"t": stack.tenant_id}
        )
    assert count == 0  # neither the form nor the API accepted any
    assert "notification.send" not in [a for a, _ in await audit_actions(sessions, stack.tenant_id)]


async def test_a_template_marks_its_required_variables_and_is_sent_on_its_channel(
    stack, smtp, owner_browser
):
    template = await create(
        stack.api, sms_template(required_placeholders=["event_name", "start_time_invitee"])
    )
    fields_page = await owner_browser.get(
        f"{SEND}/fields", params={"event_key": "booking.reminder", "template_id": template["id"]}
    )
    page = fields_page.text
    assert f'<option value="{template["id"]}" selected>' in page
    for name in ("event_name", "start_time_invitee"):
        assert re.search(rf'<span class="mono">{name}</span><span class="required-mark"', page), (
            name
        )
    assert not re.search(r'<span class="mono">meeting_link</span><span class="required', page)

    external_id = await new_recipient(stack, phone="+14155550111")
    missing = await form(
        owner_browser,
        event_key="booking.reminder",
        template_id=template["id"],
        recipient=external_id,
        **{"context.event_name": "Intro call"},
    )
    refused = await owner_browser.post(SEND, data=missing)
    assert refused.status_code == 422
    assert field_error(refused.text, "context-start_time_invitee") == "is required by the template"

    complete = {**missing, "context.start_time_invitee": "Monday, 4:00 PM"}
    notification_id = notification_of(await owner_browser.post(SEND, data=complete))
    notification = await stack.wait_for_status(notification_id, "sent")
    assert notification["channels"] == ["sms"]
    assert notification["context"]["_template_version_id"] == template["current_version_id"]
    outbox = Path(stack.settings.sms_outbox_path).read_text()
    assert "Intro call at Monday, 4:00 PM" in outbox


async def test_the_preview_is_the_preview_services(stack, owner_browser):
    template = await create(stack.api, email_template(subject="Hello {{ invitee_name }}"))
    params = {
        "event_key": "booking.confirmation",
        "template_id": template["id"],
        "context.invitee_name": "Grace",
    }
    preview = await owner_browser.get(f"{SEND}/preview", params=params)
    assert preview.status_code == 200
    assert "<strong>Subject:</strong> Hello Grace" in preview.text
    service = await stack.api.post(
        f"/v1/templates/{template['id']}/preview", json={"context": {"invitee_name": "Grace"}}
    )
    framed = re.search(r'<iframe class="mail-frame" sandbox src="([^"]+)"', preview.text)
    assert framed, "no frame for the email"
    frame = html.unescape(framed.group(1))
    email = await owner_browser.get(frame)
    assert email.text == service.json()["html"]
    assert email.headers["content-security-policy"].startswith("sandbox;")
    sms = await create(stack.api, sms_template(body="{{ event_name }} 🎉"))
    counted = await owner_browser.get(
        f"{SEND}/preview",
        params={
            "event_key": "booking.reminder",
            "template_id": sms["id"],
            "context.event_name": "Demo",
        },
    )
    assert "UCS-2" in counted.text and "1 segment," in counted.text
    without = await owner_browser.get(
        f"{SEND}/preview", params={"event_key": "booking.reminder", "template_id": ""}
    )
    assert "template_id: choose a template to preview it" in html.unescape(without.text)


async def test_typing_finds_recipients_of_this_tenant_only(stack, owner_browser, sessions):
    mine = await new_recipient(stack, name="Katherine Johnson", phone="+14155550123")
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    await other.put("/v1/recipients/kj-other", json={"name": "Katherine Other"})
    for typed in ("katherine", "JOHN", mine[:8], f"{mine}@exa", "+1415555012"):
        found = await owner_browser.get(f"{SEND}/recipients", params={"recipient": typed})
        assert mine in found.text, typed
        assert "kj-other" not in found.text
    nothing = await owner_browser.get(f"{SEND}/recipients", params={"recipient": "zz-nobody"})
    assert "No recipient found for “zz-nobody”" in html.unescape(nothing.text)
    chosen = await owner_browser.get(f"{SEND}/recipient", params={"recipient": mine})
    assert f'name="recipient" type="text" value="{mine}"' in chosen.text


async def test_a_viewer_may_look_but_not_send(stack, sessions):
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    external_id = await new_recipient(stack)
    async with dashboard_client(stack.app, viewer.cookies) as browser:
        page = await browser.get(SEND)
        assert page.status_code == 200 and "Only editors and owners can send." in page.text
        response = await browser.post(
            SEND,
            data=await form(browser, event_key="payment.completed", recipient=external_id),
        )
    assert response.status_code == 403
    async with sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM notifications WHERE tenant_id = :t"), {"t": stack.tenant_id}
        )
    assert count == 0
