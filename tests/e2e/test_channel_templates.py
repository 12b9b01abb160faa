"""Templates of the push, chat and webhook channels through the whole stack (issue 16): saved
through /v1/templates with their fields checked per channel (a push icon that is no https URL
refused, nothing stored), kept in every version, previewed, shown in the dashboard's editor and
version diff, and read and rendered at send time from the real database (render_message, as
the delivery activity does), Herald's shipped wording when the tenant has none."""

import html
import re
import uuid

import pytest
from temporalio.exceptions import ApplicationError

from activities.content import render_message
from db.deliveries import NotificationRow, RecipientRow
from domain.send_failures import SendFailure
from domain.templating import sample_context
from tests.e2e.test_templates_api import create
from tests.utils.dashboard_forms import csrf_of

ICON = "https://cdn.example.com/icons/{{ event_name|lower|urlencode }}.png"
BASE = "/dashboard/templates"


def push_template(**fields) -> dict:
    return {
        "name": f"Push {uuid.uuid4().hex[:6]}",
        "event_key": "booking.reminder",
        "channel": "push",
        "subject": "Soon: {{ event_name }}",
        "body": "{{ event_name }} with {{ organizer_name }} starts {{ start_time_invitee }}.",
        "action_url": "{{ meeting_link }}",
        "icon": ICON,
        "is_default": True,
        **fields,
    }


def chat_template(**fields) -> dict:
    return {
        "name": f"Chat {uuid.uuid4().hex[:6]}",
        "event_key": "booking.confirmation",
        "channel": "chat",
        "subject": "New booking: {{ event_name }}",
        "body": "*{{ invitee_name }}* booked _{{ event_name }}_\n> {{ start_time_invitee }}",
        "action_url": "{{ reschedule_url }}",
        **fields,
    }


def notification(tenant_id: uuid.UUID, event_key: str, context: dict) -> NotificationRow:
    return NotificationRow(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        event_key=event_key,
        priority="normal",
        channels=None,
        context=context,
        send_at=None,
    )


RECIPIENT = RecipientRow(
    id=uuid.uuid4(),
    external_id="ana",
    name="Ana",
    email=None,
    phone=None,
    timezone="Europe/Berlin",
    locale="en",
    preference_overrides={},
)


async def test_a_push_template_with_icon_and_link_is_saved_previewed_and_sent_so(stack, sessions):
    template = await create(stack.api, push_template())
    assert (template["icon"], template["action_url"]) == (ICON, "{{ meeting_link }}")
    assert (await stack.api.get(f"/v1/templates/{template['id']}")).json()["icon"] == ICON

    preview = await stack.api.post(
        f"/v1/templates/{template['id']}/preview", json={"context": {"event_name": "Demo Day"}}
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["channel"] == "push"
    assert shown["subject"] == "Soon: Demo Day"
    assert shown["text"].startswith("Demo Day with Jordan Lee starts ")  # the sample data
    assert shown["action_url"] == sample_context("booking.reminder")["meeting_link"]
    assert shown["icon"] == "https://cdn.example.com/icons/demo%20day.png"

    # At send time: read from the database by event and channel, as the delivery activity does.
    context = {
        "event_name": "Intro Call",
        "organizer_name": "Jordan",
        "start": "2025-06-02T14:00:00Z",
        "end": "2025-06-02T14:30:00Z",
        "meeting_link": "https://meet.example.com/j/9",
    }
    async with sessions() as session:
        content = await render_message(
            session, stack.tenant_id, "push", notification(stack.tenant_id, "booking.reminder",
                                                            context), RECIPIENT
        )  # fmt: skip
    assert content.subject == "Soon: Intro Call"
    assert content.text == "Intro Call with Jordan starts Monday, June 2, 2025, 4:00 PM +0200."
    assert content.action_url == "https://meet.example.com/j/9"
    assert content.icon == "https://cdn.example.com/icons/intro%20call.png"
    assert str(content.template_version_id) == template["current_version_id"]


async def test_a_push_icon_from_the_context_that_is_no_https_url_fails_the_send(stack, sessions):
    await create(
        stack.api,
        push_template(event_key="report.ready", subject=None, body="{{ message }}",
                      action_url=None, icon="{{ icon_url }}"),
    )  # fmt: skip
    for icon_url, sent in [("https://cdn.example.com/r.png", True), ("javascript:alert(1)", False)]:
        row = notification(stack.tenant_id, "report.ready", {"message": "Hi", "icon_url": icon_url})
        async with sessions() as session:
            if sent:
                content = await render_message(session, stack.tenant_id, "push", row, RECIPIENT)
                assert (content.icon, content.text, content.subject) == (icon_url, "Hi", "")
                continue
            with pytest.raises(ApplicationError) as failed:
                await render_message(session, stack.tenant_id, "push", row, RECIPIENT)
        assert failed.value.type == SendFailure.INVALID_TEMPLATE and failed.value.non_retryable
        assert "icon: must render to an https URL or nothing" in str(failed.value)


async def test_fields_a_channel_does_not_use_or_a_bad_icon_are_refused_naming_the_field(stack):
    cases = [
        (push_template(icon="javascript:alert(1)"), "icon: must render to an https URL"),
        (push_template(icon="http://cdn.example.com/i.png"), "icon: must render to an https URL"),
        (push_template(icon="https://x.test/{{ 'a' * 3000 }}"), "icon: renders 3015 characters"),
        (push_template(icon="{{ ''.__class__ }}"), "icon line 1: "),
        (push_template(body=" "), "body: required for push templates"),
        (push_template(channel="in_app"), "icon: not used by in_app templates"),
        (chat_template(icon="https://x.test/i.png"), "icon: not used by chat templates"),
        (chat_template(body=None), "body: required for chat templates"),
        (chat_template(channel="webhook", html_body="<p>x</p>"), "html_body: not used by webhook"),
    ]
    for body, message in cases:
        response = await stack.api.post("/v1/templates", json=body)
        assert response.status_code == 422, (message, response.text)
        assert response.json()["detail"].startswith(message), response.text
    assert (await stack.api.get("/v1/templates")).json()["data"] == []  # nothing was stored

    template = await create(stack.api, push_template())
    bad = await stack.api.put(f"/v1/templates/{template['id']}", json={"icon": "data:,x"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("icon: must render to an")
    saved = (await stack.api.get(f"/v1/templates/{template['id']}")).json()
    assert (saved["version"], saved["icon"]) == (1, ICON)


async def test_every_version_keeps_its_icon_and_the_diff_shows_it(stack, owner_browser):
    template = await create(stack.api, push_template())
    new_icon = "https://cdn.example.com/brand.png"
    put = await stack.api.put(f"/v1/templates/{template['id']}", json={"icon": new_icon})
    assert put.status_code == 200, put.text

    versions = (await stack.api.get(f"/v1/templates/{template['id']}/versions")).json()["data"]
    assert [(v["version"], v["icon"]) for v in versions] == [(2, new_icon), (1, ICON)]
    diff = await owner_browser.get(f"{BASE}/{template['id']}/diff", params={"old": 1, "new": 2})
    assert diff.status_code == 200
    page = html.unescape(diff.text)
    assert f"<del>{ICON}</del>" in page and f"<ins>{new_icon}</ins>" in page
    cleared = await stack.api.put(f"/v1/templates/{template['id']}", json={"icon": None})
    assert (cleared.json()["version"], cleared.json()["icon"]) == (3, None)


async def test_chat_and_webhook_templates_preview_their_fields(stack):
    chat = await create(stack.api, chat_template())
    preview = (await stack.api.post(f"/v1/templates/{chat['id']}/preview", json={})).json()
    assert preview["channel"] == "chat"
    assert preview["subject"] == "New booking: Intro call"
    assert preview["text"].startswith("*Ana Souza* booked _Intro call_\n> Monday, June 2")
    assert preview["action_url"] == "https://book.example.com/b/bk_7Hq2Lx/reschedule"
    assert preview["icon"] is None and preview["html"] is None

    webhook = await create(
        stack.api, chat_template(channel="webhook", subject=None, body="{{ invitee_name }} <b>")
    )
    preview = (await stack.api.post(f"/v1/templates/{webhook['id']}/preview", json={})).json()
    assert (preview["channel"], preview["subject"], preview["text"]) == (
        "webhook",
        None,
        "Ana Souza <b>",
    )


@pytest.mark.parametrize("channel", ["chat", "webhook", "push"])
async def test_without_templates_chat_webhook_and_push_say_herald_s_in_app_wording(
    stack, sessions, channel
):
    context = {
        "invitee_name": "Ana",
        "event_name": "Intro call",
        "start": "2025-06-02T14:00:00Z",
        "end": "2025-06-02T14:30:00Z",
        "booking_url": "https://book.example.com/b/1",
    }
    row = notification(stack.tenant_id, "booking.confirmation", context)
    async with sessions() as session:
        in_app = await render_message(session, stack.tenant_id, "in_app", row, RECIPIENT)
        content = await render_message(session, stack.tenant_id, channel, row, RECIPIENT)

    assert content.subject == "New booking: Intro call"
    assert content.text == in_app.text and content.text.startswith("Ana booked Intro call for ")
    assert content.action_url == "https://book.example.com/b/1"
    assert content.template_version_id is None and content.icon is None


async def test_the_editor_shows_each_channels_fields_and_previews_them(stack, owner_browser):
    push = await owner_browser.get(
        f"{BASE}/new", params={"event_key": "booking.reminder", "channel": "push"}
    )
    assert push.status_code == 200, push.text[:300]
    names = re.findall(r'name="(subject|html_body|text_body|body|action_url|icon)"', push.text)
    assert names == ["subject", "body", "action_url", "icon"]
    assert "Icon URL (optional: https)" in push.text

    chat = await owner_browser.get(
        f"{BASE}/new", params={"event_key": "booking.reminder", "channel": "chat"}
    )
    assert chat.status_code == 200, chat.text[:300]
    names = re.findall(r'name="(subject|html_body|text_body|body|action_url|icon)"', chat.text)
    assert names == ["subject", "body", "action_url"]
    assert "Message (the platform&#39;s markdown)" in chat.text

    token = csrf_of(push.text)
    form = {
        "event_key": "booking.reminder", "channel": "push", "name": "Push", "locale": "en",
        "body": "{{ event_name }}", "icon": "https://cdn.example.com/{{ event_name|urlencode }}",
    }  # fmt: skip
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    preview = await owner_browser.post(f"{BASE}/preview", data=form, headers=headers)
    assert preview.status_code == 200, preview.text
    assert 'data-preview="icon">https://cdn.example.com/Intro%20call<' in preview.text
    refused = await owner_browser.post(
        f"{BASE}/preview", data=form | {"icon": "javascript:alert(1)"}, headers=headers
    )
    assert 'id="problems-icon"' in refused.text
    assert "must render to an https URL or nothing" in html.unescape(refused.text)
