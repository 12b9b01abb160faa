"""The dashboard's Templates page at the HTTP level (issue 14): the list by event key and channel
with default badges and usage counts, the editor (create, save a new version) through the same
services and checks as /v1/templates, problems beside their field and at their line with
nothing saved, the live preview fragment (SMS counter, problems out of band, the email frame's
document), test sends, versions with their diff and restore (audited), and a viewer who sees
everything and changes nothing."""

import html
import re
import uuid

import pytest
from markupsafe import escape
from sqlalchemy import text

from domain.operators import Role
from domain.templating import default_template
from tests.e2e.test_templates_api import CONFIRMATION_HTML, create, email_template, sms_template
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of

BASE = "/dashboard/templates"


@pytest.fixture
async def owner(stack, sessions):
    return await signed_in_operator(sessions, stack.settings, stack.tenant_id)


@pytest.fixture
async def browser(stack, owner):
    async with dashboard_client(stack.app, owner.cookies) as client:
        yield client


async def post_form(client, page_path: str, action: str, fields: dict, **headers):
    """Opens `page_path` and posts `fields` (a list value: a repeated field) with its token."""
    page = await client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code, page.text[:300])
    return await client.post(
        action, data={"csrf_token": csrf_of(page.text), **fields}, headers=headers
    )


def problems_beside(page: str, field: str) -> list[tuple[int | None, str]]:
    """The problems shown beside a field: (line or None, text)."""
    found = re.search(
        rf'<div class="field-problems" id="problems-{field}"[^>]*>(.*?)</div>', page, re.S
    )
    assert found, f"no problems container beside {field}"
    shown = []
    for item in re.findall(r'<p class="field-error">(.*?)</p>', found.group(1), re.S):
        line = re.search(r'data-line="(\d+)"', item)
        words = html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
        number = int(line.group(1)) if line else None
        shown.append((number, words.removeprefix(f"line {number}: ")))
    return shown


def first(pattern: str, text: str) -> str:
    """The first group of the pattern's first match (over lines too)."""
    found = re.search(pattern, text, re.S)
    assert found, f"{pattern!r} not found"
    return found.group(1)


async def audit_entries(sessions, tenant_id) -> list[tuple[str, dict]]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT action, details FROM audit_log WHERE tenant_id = :tenant AND "
                "action LIKE 'template.%' ORDER BY id"
            ),
            {"tenant": tenant_id},
        )
        return [(row.action, row.details) for row in rows]


def sms_form(**fields) -> dict:
    return {
        "event_key": "booking.reminder",
        "channel": "sms",
        "name": "Reminder SMS",
        "locale": "en",
        "body": "Hi {{ invitee_name }}, {{ event_name }} at {{ start_time_invitee }}",
        "required_placeholders": ["invitee_name"],
        "fallbacks": "event_name = your meeting",
        "is_active": "on",
        **fields,
    }


def email_form(**fields) -> dict:
    return {
        "event_key": "booking.confirmation",
        "channel": "email",
        "name": "Confirmation",
        "locale": "en",
        "subject": "See you, {{ invitee_name }}",
        "html_body": CONFIRMATION_HTML,
        "is_active": "on",
        **fields,
    }


async def test_the_list_shows_templates_by_event_and_channel_with_defaults_and_usage(
    stack, browser, smtp
):
    used = await create(stack.api, email_template(name="Warm welcome", is_default=True))
    await create(stack.api, email_template(name="Another"))
    await create(stack.api, sms_template(name="Short reminder"))
    for _ in range(3):  # test sends render the template's version, as real sends do
        sent = await stack.api.post(
            f"/v1/templates/{used['id']}/test", json={"email": "ada@example.com"}
        )
        assert sent.status_code == 202, sent.text
        await stack.wait_for_status(sent.json()["id"], "sent")
    # A delivery older than the 30 days counted is not counted.
    async with stack.app.state.sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE deliveries SET created_at = now() - interval '40 days' WHERE id = ("
                "SELECT id FROM deliveries WHERE template_version_id = :version LIMIT 1)"
            ),
            {"version": used["current_version_id"]},
        )

    page = (await browser.get(BASE)).text
    groups = re.findall(
        r'<th scope="rowgroup" colspan="7"><span class="mono">([^<]+)</span> · ([^<]+)</th>', page
    )
    assert groups == [("booking.confirmation", "email"), ("booking.reminder", "sms")]
    row = first(rf'<tr data-template="{used["id"]}">(.*?)</tr>', page)
    assert 'class="badge ok">default<' in row and ">Warm welcome</a>" in row
    assert re.search(r"data-usage>2<", row), row
    others = re.findall(r'<tr data-template="[^"]+">(.*?)</tr>', page, re.S)
    assert sum('badge ok">default<' in other for other in others) == 1
    assert [first(r"data-usage>(\d+)<", other) for other in others].count("0") == 2

    # Filtered by channel: only the SMS.
    sms_only = (await browser.get(BASE, params={"channel": "sms"})).text
    assert "Short reminder" in sms_only and "Warm welcome" not in sms_only


async def test_create_with_the_variable_helper_and_save_a_new_version(stack, browser, sessions):
    new = await browser.get(
        f"{BASE}/new", params={"event_key": "booking.reminder", "channel": "sms"}
    )
    assert new.status_code == 200
    # The event's variables, each to insert and to mark required; no other channel's fields.
    assert 'data-insert="invitee_name"' in new.text and 'data-insert="meeting_link"' in new.text
    assert 'data-insert="payment_id"' not in new.text  # a payment event's, not a booking's
    assert 'name="required_placeholders" value="invitee_name"' in new.text
    assert 'name="body"' in new.text and 'name="html_body"' not in new.text
    assert 'class="field-error"' not in new.text  # blank: nothing to reproach before typing
    # The event first: one that is not an event key is said so beside it.
    bad = await browser.get(f"{BASE}/new", params={"event_key": "Order Shipped", "channel": "sms"})
    assert bad.status_code == 422 and "must be dotted lowercase words" in bad.text

    created = await post_form(
        browser, f"{BASE}/new?event_key=booking.reminder&channel=sms", BASE, sms_form()
    )
    assert created.status_code == 303, created.text
    template_id = first(rf"{BASE}/([0-9a-f-]{{36}})\?notice=created", created.headers["location"])
    saved = (await stack.api.get(f"/v1/templates/{template_id}")).json()
    assert saved["required_placeholders"] == ["invitee_name"]
    assert saved["fallbacks"] == {"event_name": "your meeting"}
    assert (saved["version"], saved["channel"], saved["html_body"]) == (1, "sms", None)

    editor = await browser.get(created.headers["location"])
    assert "Template created as version 1." in editor.text
    assert re.search(r'value="invitee_name"\s+checked', editor.text)  # marked required

    changed = await post_form(
        browser, f"{BASE}/{template_id}", f"{BASE}/{template_id}",
        sms_form(body="{{ event_name }} soon, {{ invitee_name }}", required_placeholders=[]),
    )  # fmt: skip
    assert changed.status_code == 303, changed.text
    saved = (await stack.api.get(f"/v1/templates/{template_id}")).json()
    assert (saved["version"], saved["body"], saved["required_placeholders"]) == (
        2, "{{ event_name }} soon, {{ invitee_name }}", [],
    )  # fmt: skip
    actions = await audit_entries(sessions, stack.tenant_id)
    assert [action for action, _ in actions] == ["template.create", "template.update"]
    assert actions[1][1]["fields"] == ["body", "required_placeholders"]

    # Duplicate: a new template's editor filled in with this one's content.
    copy = await browser.get(
        f"{BASE}/new",
        params={"event_key": "booking.reminder", "channel": "sms", "start": template_id},
    )
    assert 'value="Copy of Reminder SMS"' in copy.text
    assert "{{ event_name }} soon, {{ invitee_name }}</textarea>" in copy.text


async def test_a_bad_template_shows_each_problem_beside_its_field_at_its_line_and_saves_nothing(
    stack, browser, sessions
):
    body = email_form(
        subject="Hi {{ invitee_name }",
        html_body="<p>Hello</p>\n<p>there</p>\n<p>{% if meeting_link %}join</p>\n",
        fallbacks="meeting_link = none\nnot a fallback line",
    )
    refused = await post_form(
        browser, f"{BASE}/new?event_key=booking.confirmation&channel=email", BASE, body
    )
    assert refused.status_code == 422
    page = refused.text
    # The API's own words for the same content, field by field (the API now names each field).
    api = await stack.api.post("/v1/templates", json=email_template(
        subject=body["subject"], html_body=body["html_body"]))  # fmt: skip
    assert api.status_code == 422
    said = {problem["field"]: problem["problem"] for problem in api.json()["errors"]}
    assert set(said) == {"subject", "html_body"}
    [(line, words)] = problems_beside(page, "html_body")
    assert line == 3 and said["html_body"] == f"line 3: {words}"  # where the `if` is left open
    [(line, words)] = problems_beside(page, "subject")
    assert line == 1 and said["subject"] == f"line 1: {words}"
    assert problems_beside(page, "fallbacks") == [(2, "write it as name = text")]
    # What was typed is shown again, and nothing was saved.
    assert str(escape(body["html_body"])) in page
    assert (await stack.api.get("/v1/templates")).json()["data"] == []
    assert await audit_entries(sessions, stack.tenant_id) == []

    # A field the request body's model refuses: the same words as the API's, beside it.
    unnamed = await post_form(
        browser,
        f"{BASE}/new?event_key=booking.confirmation&channel=email",
        BASE,
        email_form(name=""),
    )
    api = await stack.api.post("/v1/templates", json=email_template(name=""))
    assert problems_beside(unnamed.text, "name") == [(None, api.json()["errors"][0]["problem"])]
    # A name another template has: the conflict beside the name.
    await create(stack.api, email_template(name="Taken"))
    taken = await post_form(
        browser,
        f"{BASE}/new?event_key=booking.confirmation&channel=email",
        BASE,
        email_form(name="Taken"),
    )
    assert taken.status_code == 422
    assert "has this name" in problems_beside(taken.text, "name")[0][1]


async def test_the_live_preview_renders_the_draft_with_its_sms_counter(stack, browser):
    new = await browser.get(
        f"{BASE}/new", params={"event_key": "booking.reminder", "channel": "sms"}
    )
    token = csrf_of(new.text)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}

    async def preview(**fields) -> str:
        response = await browser.post(f"{BASE}/preview", data=sms_form(**fields), headers=headers)
        assert response.status_code == 200, response.text
        return response.text

    def figure(fragment: str, name: str) -> str:
        return first(rf'data-figure="{name}">([^<]+)<', fragment)

    short = await preview(body="Hi {{ invitee_name }}")
    assert 'data-preview="sms">Hi Ana Souza<' in short  # the event's sample data
    counted = (figure(short, "characters"), figure(short, "encoding"), figure(short, "segments"))
    assert counted == (str(len("Hi Ana Souza")), "GSM-7", "1")
    long = await preview(body="{{ invitee_name }} " + "x" * 160)
    assert (figure(long, "encoding"), figure(long, "segments")) == ("GSM-7", "2")
    assert f"({len('Ana Souza ' + 'x' * 160)} of {2 * 153} septets)" in long
    emoji = await preview(body="Bis bald 👋 {{ invitee_name }}")
    assert figure(emoji, "encoding") == "UCS-2"

    # A syntax error: at its line, beside its field (out of band) and in the panel.
    broken = await preview(body="Hi\n{{ invitee_name }\n")
    assert 'id="problems-body" hx-swap-oob="true"' in broken
    assert problems_beside(broken, "body")[0][0] == 2
    assert 'data-preview="sms"' not in broken
    # The other fields' problems are cleared (each container is replaced, empty).
    assert problems_beside(broken, "fallbacks") == []
    # Over the segment limit (3): the counter still counts, and the problem says why a save fails.
    over = await preview(body="{{ invitee_name }} " + "é" * 70 + "ü" * 100 + "ł" * 60)
    assert figure(over, "segments") == "4"
    assert "the limit is 3" in problems_beside(over, "body")[0][1]


async def test_the_email_preview_frame_gets_a_document_of_its_own(stack, browser):
    saved = await create(stack.api, email_template())
    editor = await browser.get(f"{BASE}/{saved['id']}")
    assert f'src="{BASE}/{saved["id"]}/email"' in editor.text  # the saved version, by GET
    frame = await browser.get(f"{BASE}/{saved['id']}/email")
    assert frame.status_code == 200 and "Hi Ana Souza," in frame.text
    policy = frame.headers["content-security-policy"]
    assert (
        policy.startswith("sandbox;")
        and "script-src" not in policy
        and "default-src 'none'" in policy
    )

    draft = await browser.post(
        f"{BASE}/preview/email",
        data={
            **email_form(html_body="<p>Draft for {{ invitee_name }}</p>"),
            "csrf_token": csrf_of(editor.text),
        },
    )
    assert draft.status_code == 200 and "Draft for Ana Souza" in draft.text
    assert draft.headers["content-security-policy"] == policy
    # A new template's editor posts its draft into the frame (templates.js): no src.
    new = await browser.get(
        f"{BASE}/new",
        params={"event_key": "booking.confirmation", "channel": "email", "start": "herald"},
    )
    assert "data-draft" in new.text and "data-frame-submit" in new.text
    # Started from Herald's own wording: its fields filled in, its subject previewed.
    shipped = default_template("booking.confirmation", "email")
    assert shipped is not None and str(escape(shipped.html_body)) in new.text
    assert 'data-preview="subject">Confirmed: Intro call with Jordan Lee<' in new.text


async def test_a_test_send_from_the_editor_reaches_the_mail_server(stack, browser, smtp, sessions):
    saved = await create(stack.api, email_template())
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    sent = await post_form(
        browser, f"{BASE}/{saved['id']}", f"{BASE}/{saved['id']}/test", {"to": address}
    )
    assert sent.status_code == 303 and "notice=test_sent" in sent.headers["location"]
    editor = await browser.get(sent.headers["location"])
    notification = first(
        r'href="/dashboard/history\?q=([0-9a-f-]{36})">See it in History', editor.text
    )
    [mail] = await smtp.wait_for(address)
    assert mail.subject == "[TEST] See you, Ana Souza"
    [(action, details)] = await audit_entries(sessions, stack.tenant_id)
    assert action == "template.test_send" and details["to"] == address and details["version"] == 1
    assert details["notification"] == notification
    await stack.wait_for_status(notification, "sent")  # the notification History links to

    refused = await post_form(
        browser, f"{BASE}/{saved['id']}", f"{BASE}/{saved['id']}/test", {"to": "not an address"}
    )
    assert refused.status_code == 422
    assert "not a valid email address" in problems_beside(refused.text, "to")[0][1]


async def test_versions_diff_and_restore(stack, browser, sessions):
    created = await create(stack.api, email_template(subject="Booked: {{ event_name }}"))
    template_id = created["id"]
    put = await stack.api.put(
        f"/v1/templates/{template_id}",
        json={
            "subject": "See you soon, {{ invitee_name }}",
            "html_body": CONFIRMATION_HTML + "<p>Bye</p>\n",
        },
    )
    assert put.status_code == 200

    versions = await browser.get(f"{BASE}/{template_id}/versions")
    assert re.findall(r'<tr data-version="(\d+)">', versions.text) == ["2", "1"]
    assert (
        'name="version" value="1"' in versions.text
        and 'name="version" value="2"' not in versions.text
    )

    diff = await browser.get(f"{BASE}/{template_id}/diff", params={"old": 1, "new": 2})
    assert diff.status_code == 200
    assert "<del>Booked: {{ event_name }}</del>" in diff.text
    assert "<ins>See you soon, {{ invitee_name }}</ins>" in diff.text
    assert "<ins>&lt;p&gt;Bye&lt;/p&gt;</ins>" in diff.text
    assert '<h2 id="diff-name"' not in diff.text  # unchanged fields are not shown
    default = await browser.get(f"{BASE}/{template_id}/diff")  # the current one against the last
    assert "<del>Booked: {{ event_name }}</del>" in default.text

    restored = await post_form(
        browser, f"{BASE}/{template_id}/versions", f"{BASE}/{template_id}/restore", {"version": "1"}
    )
    assert restored.status_code == 303 and restored.headers["location"].endswith("notice=restored")
    now = (await stack.api.get(f"/v1/templates/{template_id}")).json()
    assert (now["version"], now["subject"], now["html_body"]) == (
        3,
        "Booked: {{ event_name }}",
        CONFIRMATION_HTML,
    )
    [(action, details)] = await audit_entries(sessions, stack.tenant_id)
    assert action == "template.restore"
    assert details == {"fields": ["html_body", "subject"], "version": 3, "restored_version": 1}

    # The current version, or one that does not exist: refused, with why, and nothing saved.
    current = await post_form(
        browser, f"{BASE}/{template_id}/versions", f"{BASE}/{template_id}/restore", {"version": "3"}
    )
    assert current.status_code == 422 and "is the current version already" in current.text
    missing = await browser.get(f"{BASE}/{template_id}/diff", params={"old": 9, "new": 3})
    assert missing.status_code == 422 and "has no version 9" in missing.text
    assert (await stack.api.get(f"/v1/templates/{template_id}")).json()["version"] == 3


async def test_a_viewer_sees_templates_and_changes_nothing(stack, sessions):
    saved = await create(stack.api, sms_template())
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    async with dashboard_client(stack.app, viewer.cookies) as client:
        listing = await client.get(BASE)
        assert listing.status_code == 200 and saved["name"] in listing.text
        assert "New template" not in listing.text and "Duplicate" not in listing.text
        editor = await client.get(f"{BASE}/{saved['id']}")
        assert editor.status_code == 200
        assert "Save as version" not in editor.text and "hx-post" not in editor.text
        assert re.search(r'<textarea id="field-body"[^>]*readonly', editor.text)
        assert "data-insert" not in editor.text and "Send a test" not in editor.text
        assert 'data-preview="sms"' in editor.text  # the saved version's preview, rendered
        assert (await client.get(f"{BASE}/{saved['id']}/versions")).status_code == 200
        assert "Restore" not in (await client.get(f"{BASE}/{saved['id']}/versions")).text
        assert (await client.get(f"{BASE}/new")).status_code == 403
        token = csrf_of(editor.text)
        for action, fields in (
            (BASE, sms_form()),
            (f"{BASE}/{saved['id']}", sms_form(body="changed")),
            (f"{BASE}/preview", sms_form()),
            (f"{BASE}/preview/email", sms_form()),
            (f"{BASE}/{saved['id']}/test", {"to": "+14155550123"}),
            (f"{BASE}/{saved['id']}/restore", {"version": "1"}),
        ):
            refused = await client.post(action, data={"csrf_token": token, **fields})
            assert refused.status_code == 403, (action, refused.status_code)
    now = (await stack.api.get(f"/v1/templates/{saved['id']}")).json()
    assert now["version"] == 1 and now["body"] == saved["body"]
    assert len((await stack.api.get("/v1/templates")).json()["data"]) == 1
    assert await audit_entries(sessions, stack.tenant_id) == []
