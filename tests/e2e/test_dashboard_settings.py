"""The dashboard's Settings at the HTTP level (issue 14): the delivery policy, booking follow-up
and sender forms show what the API stores and save what the API then reads, each change audited;
bad input comes back beside its field in the API's own words with nothing saved; owners create
API keys (shown once) and revoke them; editors change settings but not keys; viewers nothing."""

import html
import re
from typing import Any

import pytest
from sqlalchemy import text

from domain.operators import Role
from tests.conftest import new_tenant
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of, field_error, submit

SETTINGS = "/dashboard/settings"
POLICY: dict[str, Any] = {
    "reminder_event_keys": ["booking.reminder", "class.reminder"],
    "urgent_bypass": {"payment.failed": False},
    "fallbacks": {
        "booking.reminder": {
            "from_channel": "email",
            "to_channel": "sms",
            "unless": "opened",
            "within_minutes": 30.0,
        }
    },
    "retry_window_minutes": 120,
}
# The policy form filled in as POLICY, with its empty rows.
POLICY_FORM = {
    "reminder_event_keys": "booking.reminder\nclass.reminder",
    "urgent-0-event_key": "payment.failed",
    "urgent-0-bypass": "no",
    "urgent-1-event_key": "",
    "urgent-1-bypass": "yes",
    "fallback-0-event_key": "booking.reminder",
    "fallback-0-from_channel": "email",
    "fallback-0-to_channel": "sms",
    "fallback-0-unless": "opened",
    "fallback-0-within_minutes": "30",
    "fallback-1-event_key": "",
    "fallback-1-from_channel": "email",
    "fallback-1-to_channel": "sms",
    "fallback-1-unless": "delivered",
    "fallback-1-within_minutes": "",
    "retry_window_minutes": "120",
}


DOMAIN = "acme.example"


@pytest.fixture
async def stack(make_stack, temporal_env):
    """A stack whose tenants may send from DOMAIN."""
    async with make_stack(temporal_env, allowed_from_domains=DOMAIN) as stack:
        yield stack


async def operator_browser(stack, sessions, role: Role = Role.OWNER):
    signed = await signed_in_operator(sessions, stack.settings, stack.tenant_id, role)
    return signed.operator, dashboard_client(stack.app, signed.cookies)


@pytest.fixture
async def owner(stack, sessions):
    operator, client = await operator_browser(stack, sessions)
    async with client:
        yield operator, client


@pytest.fixture
async def editor(stack, sessions):
    operator, client = await operator_browser(stack, sessions, Role.EDITOR)
    async with client:
        yield operator, client


def shown(page: str, name: str) -> str:
    """What a field shows: an input's value, a select's chosen option, a textarea's text, a
    checkbox's "checked"."""
    control = re.search(rf'<(input|select|textarea) id="field-{re.escape(name)}"[^>]*>', page)
    assert control, f"no field {name}"
    tag, start = control.group(1), control.end()
    if tag == "textarea":
        return html.unescape(page[start : page.index("</textarea>", start)])
    if tag == "select":
        options = page[start : page.index("</select>", start)]
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        return html.unescape(chosen.group(1)) if chosen else ""
    if 'type="checkbox"' in control.group(0):
        return "checked" if " checked" in control.group(0) else ""
    value = re.search(r'value="([^"]*)"', control.group(0))
    return html.unescape(value.group(1)) if value else ""


async def api_get(stack, path: str) -> dict:
    response = await stack.api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def api_problem(stack, method: str, path: str, body: dict, field: str) -> str:
    """What the API says about `field` when sent `body`."""
    response = await stack.api.request(method, path, json=body)
    assert response.status_code == 422, response.text
    (problem,) = [p["problem"] for p in response.json()["errors"] if p["field"] == field]
    return problem


async def audit_entries(sessions, tenant_id) -> list[tuple[str, str, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT action, target, operator_email, details::text AS details FROM audit_log"
                " WHERE tenant_id = :t AND (action LIKE 'settings.%' OR action LIKE 'api_key.%')"
                " ORDER BY id"
            ),
            {"t": tenant_id},
        )
        return [(row.action, row.target, row.operator_email, row.details) for row in rows]


async def test_the_forms_show_what_the_api_stored(stack, owner):
    sender = {"from_name": "Acme Bookings", "from_address": f"bookings@{DOMAIN}", "reply_to": None}
    for path, body in (
        ("/v1/settings/delivery-policy", POLICY),
        ("/v1/settings/bookings", {"follow_up_enabled": True, "follow_up_delay_minutes": 90}),
        ("/v1/settings/email", sender),
    ):
        assert (await stack.api.put(path, json=body)).status_code == 200
    _, browser = owner
    page = (await browser.get(SETTINGS)).text
    for name, value in POLICY_FORM.items():
        if not name.startswith("fallback-1") or name.endswith("event_key"):
            assert shown(page, name) == value, name
    assert shown(page, "follow_up_enabled") == "checked"
    assert shown(page, "follow_up_delay_minutes") == "90"
    assert shown(page, "from_name") == "Acme Bookings"
    assert shown(page, "from_address") == f"bookings@{DOMAIN}"
    assert shown(page, "reply_to") == ""
    assert f"On {DOMAIN}." in page


async def test_each_form_saves_what_the_api_then_reads_and_is_audited(stack, sessions, editor):
    operator, browser = editor
    saved = await submit(browser, SETTINGS, f"{SETTINGS}/delivery-policy", POLICY_FORM)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{SETTINGS}?saved=policy#policy"
    assert await api_get(stack, "/v1/settings/delivery-policy") == POLICY
    after = (await browser.get(saved.headers["location"])).text
    assert '<p class="notice" role="status">Delivery policy saved.</p>' in after

    bookings = {"follow_up_enabled": "true", "follow_up_delay_minutes": "45"}
    assert (await submit(browser, SETTINGS, f"{SETTINGS}/bookings", bookings)).status_code == 303
    assert await api_get(stack, "/v1/settings/bookings") == {
        "follow_up_enabled": True,
        "follow_up_delay_minutes": 45,
    }
    unticked = {"follow_up_delay_minutes": "45"}  # a box left unticked is not sent
    assert (await submit(browser, SETTINGS, f"{SETTINGS}/bookings", unticked)).status_code == 303
    assert (await api_get(stack, "/v1/settings/bookings"))["follow_up_enabled"] is False

    sender = {"from_name": "Acme", "from_address": f"hello@{DOMAIN}", "reply_to": ""}
    assert (await submit(browser, SETTINGS, f"{SETTINGS}/email", sender)).status_code == 303
    assert await api_get(stack, "/v1/settings/email") == {**sender, "reply_to": None}

    audit = await audit_entries(sessions, stack.tenant_id)
    assert [(action, target, email) for action, target, email, _ in audit] == [
        ("settings.delivery_policy", "delivery policy", operator.email),
        ("settings.bookings", "booking settings", operator.email),
        ("settings.bookings", "booking settings", operator.email),
        ("settings.email", "sender", operator.email),
    ]
    assert '"within_minutes": 30.0' in audit[0][3]


async def test_bad_input_is_shown_beside_its_field_in_the_apis_words_and_nothing_is_saved(
    stack, sessions, editor
):
    _, browser = editor
    assert (await stack.api.put("/v1/settings/delivery-policy", json=POLICY)).status_code == 200
    before = await api_get(stack, "/v1/settings/delivery-policy")

    # A valid change to the reminder events beside a bad fallback: none of it is saved.
    bad = {**POLICY_FORM, "reminder_event_keys": "other.reminder", "fallback-0-within_minutes": "0"}
    refused = await submit(browser, SETTINGS, f"{SETTINGS}/delivery-policy", bad)
    assert refused.status_code == 422
    zero = {
        **POLICY,
        "fallbacks": {
            "booking.reminder": {**POLICY["fallbacks"]["booking.reminder"], "within_minutes": 0}
        },
    }
    field = "fallbacks.booking.reminder.within_minutes"
    problem = await api_problem(stack, "PUT", "/v1/settings/delivery-policy", zero, field)
    assert field_error(refused.text, "fallback-0-within_minutes") == problem
    assert shown(refused.text, "reminder_event_keys") == "other.reminder"  # as sent, to fix
    # A bad event key, and the same channel twice.
    bad = {**POLICY_FORM, "urgent-1-event_key": "Payment Failed!", "fallback-0-to_channel": "email"}
    refused = await submit(browser, SETTINGS, f"{SETTINGS}/delivery-policy", bad)
    assert refused.status_code == 422
    named = {**POLICY, "urgent_bypass": {"Payment Failed!": True}}
    key_problem = await api_problem(
        stack, "PUT", "/v1/settings/delivery-policy", named, "urgent_bypass.Payment Failed!.[key]"
    )
    assert field_error(refused.text, "urgent-1-event_key") == key_problem
    same = {
        **POLICY,
        "fallbacks": {
            "booking.reminder": {**POLICY["fallbacks"]["booking.reminder"], "to_channel": "email"}
        },
    }
    channel_problem = await api_problem(
        stack, "PUT", "/v1/settings/delivery-policy", same, "fallbacks.booking.reminder"
    )
    assert field_error(refused.text, "fallback-0-to_channel") == channel_problem
    assert await api_get(stack, "/v1/settings/delivery-policy") == before

    bookings_before = await api_get(stack, "/v1/settings/bookings")
    late = {"follow_up_enabled": "true", "follow_up_delay_minutes": "20000"}
    refused = await submit(browser, SETTINGS, f"{SETTINGS}/bookings", late)
    assert refused.status_code == 422
    problem = await api_problem(
        stack,
        "PUT",
        "/v1/settings/bookings",
        {"follow_up_enabled": True, "follow_up_delay_minutes": 20000},
        "follow_up_delay_minutes",
    )
    assert field_error(refused.text, "follow_up_delay_minutes") == problem
    assert await api_get(stack, "/v1/settings/bookings") == bookings_before

    sender_before = await api_get(stack, "/v1/settings/email")
    elsewhere = {"from_name": "Acme", "from_address": "hello@elsewhere.example", "reply_to": ""}
    refused = await submit(browser, SETTINGS, f"{SETTINGS}/email", elsewhere)
    assert refused.status_code == 422
    problem = await api_problem(
        stack, "PUT", "/v1/settings/email", {**elsewhere, "reply_to": None}, "from_address"
    )
    assert field_error(refused.text, "from_address") == problem
    assert shown(refused.text, "from_address") == "hello@elsewhere.example"
    assert await api_get(stack, "/v1/settings/email") == sender_before
    assert await audit_entries(sessions, stack.tenant_id) == []


async def test_an_owner_creates_a_key_shown_once_and_revokes_it(stack, sessions, owner):
    operator, browser = owner
    created = await submit(browser, SETTINGS, f"{SETTINGS}/api-keys", {"name": "billing"})
    assert created.status_code == 200
    found = re.search(r'<code id="new-key">([^<]+)</code>', created.text)
    assert found, "the new key is not shown"
    key = found.group(1)
    async with await stack.as_tenant(key) as client:
        assert (await client.get("/v1/api-keys")).status_code == 200
    page = (await browser.get(SETTINGS)).text
    assert key not in page and "billing" in page  # listed, never shown again
    (listed,) = [
        k for k in (await api_get(stack, "/v1/api-keys"))["data"] if k["name"] == "billing"
    ]
    assert f"{listed['prefix']}…" in page

    nameless = await submit(browser, SETTINGS, f"{SETTINGS}/api-keys", {"name": " "})
    assert nameless.status_code == 422
    problem = await api_problem(stack, "POST", "/v1/api-keys", {"name": " "}, "name")
    assert field_error(nameless.text, "name") == problem

    revoked = await submit(browser, SETTINGS, f"{SETTINGS}/api-keys/{listed['id']}/revoke", {})
    assert revoked.headers["location"] == f"{SETTINGS}?saved=revoked#api-keys"
    async with await stack.as_tenant(key) as client:
        assert (await client.get("/v1/api-keys")).status_code == 401
    audit = await audit_entries(sessions, stack.tenant_id)
    assert [(a, t, e) for a, t, e, _ in audit] == [
        ("api_key.create", f"api key {listed['prefix']}", operator.email),
        ("api_key.revoke", f"api key {listed['prefix']}", operator.email),
    ]
    assert all(key not in details for *_, details in audit)


async def test_the_last_key_is_revoked_only_when_asked_again(stack, sessions):
    tenant_id, key = await new_tenant(sessions, "One key")
    signed = await signed_in_operator(sessions, stack.settings, tenant_id)
    async with (
        dashboard_client(stack.app, signed.cookies) as browser,
        await stack.as_tenant(key) as api,
    ):
        (only,) = (await api.get("/v1/api-keys")).json()["data"]
        action = f"{SETTINGS}/api-keys/{only['id']}/revoke"
        refused = await submit(browser, SETTINGS, action, {})
        assert refused.status_code == 409
        assert "last active key" in refused.text and "Revoke the last key anyway" in refused.text
        assert (await api.get("/v1/api-keys")).status_code == 200  # still works
        forced = await browser.post(
            action, data={"csrf_token": csrf_of(refused.text), "force": "yes"}
        )
        assert forced.status_code == 303
        assert (await api.get("/v1/api-keys")).status_code == 401


async def test_editors_change_settings_but_not_keys_and_viewers_nothing(stack, sessions, editor):
    _, browser = editor
    page = (await browser.get(SETTINGS)).text
    assert f'action="{SETTINGS}/api-keys"' not in page and "Only owners create" in page
    refused = await submit(browser, SETTINGS, f"{SETTINGS}/api-keys", {"name": "mine"})
    assert refused.status_code == 403

    _, client = await operator_browser(stack, sessions, Role.VIEWER)
    before = [
        await api_get(stack, p)
        for p in ("/v1/settings/delivery-policy", "/v1/settings/bookings", "/v1/settings/email")
    ]
    async with client:
        page = (await client.get(SETTINGS)).text
        assert page.count('<fieldset class="plain" disabled>') == 3
        for action, fields in (
            ("delivery-policy", POLICY_FORM),
            ("bookings", {"follow_up_delay_minutes": "5"}),
            ("email", {"from_name": "Viewer"}),
            ("api-keys", {"name": "viewer"}),
        ):
            response = await submit(client, SETTINGS, f"{SETTINGS}/{action}", fields)
            assert response.status_code == 403, action
    after = [
        await api_get(stack, p)
        for p in ("/v1/settings/delivery-policy", "/v1/settings/bookings", "/v1/settings/email")
    ]
    assert after == before and await audit_entries(sessions, stack.tenant_id) == []
