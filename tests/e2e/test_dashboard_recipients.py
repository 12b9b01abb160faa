"""The Recipients page at the HTTP level (issue 14), against the real application, database and
Temporal: search, a recipient's contact details and preferences edited through the API's own
services (refused in the API's words beside the field, nothing saved; audited when saved), the
do-not-disturb preview in the recipient's zone and the operator's, their deliveries with a
deferral's time, and what a viewer and another tenant may not do."""

import html
import re
import uuid
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from domain.dnd_preview import DASH
from domain.operators import Role
from tests.conftest import new_tenant
from tests.e2e.test_dashboard_access import audit_actions
from tests.e2e.test_delivery_policy import quiet_window_around_now, send
from tests.utils.dashboard import dashboard_client, signed_in_operator
from tests.utils.dashboard_forms import csrf_of, field_error
from tests.utils.html_forms import form_fields

PAGE = "/dashboard/recipients"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def editor(stack, sessions):
    return await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.EDITOR)


@pytest.fixture
async def browser(stack, editor):
    async with dashboard_client(stack.app, editor.cookies) as client:
        yield client


async def new_recipient(stack, **fields) -> str:
    external_id = fields.pop("external_id", f"user-{uuid.uuid4().hex[:8]}")
    body = {"email": f"{external_id}@example.com", "timezone": "Europe/Berlin"} | fields
    response = await stack.api.put(f"/v1/recipients/{external_id}", json=body)
    assert response.status_code == 200, response.text
    return external_id


def page_of(external_id: str) -> str:
    return f"{PAGE}/{quote(external_id, safe='')}"


def plain(page: str) -> str:
    """The page's text, dashes as hyphens and tags gone, to look for sentences in it."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).replace(DASH, "-")


def found_ids(page: str) -> list[str]:
    return re.findall(r'<td class="mono wrap"><a href="[^"]+">([^<]+)</a>', page)


async def post_form(browser, external_id: str, form: str, changes: dict[str, str | None]):
    """Posts the recipient page's form as shown, with `changes` (None: the field left out, as
    an unticked box is)."""
    page = (await browser.get(page_of(external_id))).text
    action = f"{page_of(external_id)}/{form}"
    fields = form_fields(page, action) | changes
    data = {name: value for name, value in fields.items() if value is not None}
    return await browser.post(action, data=data)


async def own_settings(sessions, stack, external_id: str) -> dict:
    async with sessions() as session:
        return await session.scalar(
            text(
                "SELECT preference_overrides FROM recipients "
                "WHERE tenant_id = :tenant AND external_id = :id"
            ),
            {"tenant": stack.tenant_id, "id": external_id},
        )


async def test_search_by_external_id_name_email_and_phone_in_the_tenant_only(
    stack, browser, sessions
):
    marker = uuid.uuid4().hex[:6]
    ada = await new_recipient(
        stack, external_id=f"ada-{marker}", name="Ada Lovelace", phone="+14155550142"
    )
    grace = await new_recipient(
        stack, external_id=f"grace-{marker}", email=f"grace.{marker}@navy.example"
    )
    _, other_key = await new_tenant(sessions, "Other")
    theirs = await stack.as_tenant(other_key)
    hidden = f"ada-{marker}-theirs"
    await theirs.put(f"/v1/recipients/{hidden}", json={"name": "Ada Lovelace"})

    async def search(query: str) -> list[str]:
        response = await browser.get(PAGE, params={"q": query})
        assert response.status_code == 200, response.text
        assert hidden not in response.text
        return found_ids(response.text)

    assert await search(ada) == [ada]  # the exact external id
    assert await search("ADA-") == [ada]  # the start of an external id, any case
    assert await search("lovelace") == [ada]  # a word of a name
    assert await search(f"grace.{marker}@") == [grace]  # the start of an email address
    assert await search("+1415555") == [ada]  # the start of a phone number
    assert await search("ovelace") == [] and await search(f"nobody-{marker}") == []
    assert await search("%") == [] and await search("_") == []  # LIKE's wildcards as such
    assert await search("") == [ada, grace]  # no search: the first ones by external id
    page = (await browser.get(PAGE, params={"q": ada})).text
    assert f'href="{page_of(ada)}"' in page


async def test_a_recipients_page_shows_contact_details_preferences_and_deliveries(
    stack, smtp, browser
):
    external_id = await new_recipient(stack, name="Grace Hopper", phone="+14155550123")
    accepted = await send(stack, external_id)
    await stack.wait_for_status(accepted["id"], "sent")

    response = await browser.get(page_of(external_id))
    assert response.status_code == 200, response.text
    page = response.text
    contact = form_fields(page, f"{page_of(external_id)}/contact")
    assert contact["name"] == "Grace Hopper" and contact["phone"] == "+14155550123"
    assert contact["email"] == f"{external_id}@example.com"
    prefs = form_fields(page, f"{page_of(external_id)}/preferences")
    assert prefs["dnd.start"] == "22:00" and prefs["dnd.end"] == "07:00"
    assert prefs["reminder_minutes_before"] == "1440, 60" and "channels.email" in prefs
    deliveries = page[page.index('id="deliveries"') :]
    assert "booking.confirmation" in deliveries and f"{external_id}@example.com" in deliveries
    assert '<span class="badge ok">sent</span>' in deliveries
    # Each delivery links to its timeline in History, and History lists all of theirs.
    [delivery] = (await stack.notification(accepted["id"]))["deliveries"]
    assert f'href="/dashboard/history/{delivery["id"]}"' in deliveries
    assert f'href="/dashboard/history?recipient={external_id}"' in deliveries

    missing = await browser.get(page_of("nobody-here"))
    assert missing.status_code == 404 and "No recipient &#39;nobody-here&#39;" in missing.text


async def test_contact_details_refused_in_the_apis_words_beside_the_field_nothing_saved(
    stack, browser, sessions
):
    external_id = await new_recipient(stack, name="Ada")
    before = (await stack.api.get(f"/v1/recipients/{external_id}")).json()
    audit_before = await audit_actions(sessions, stack.tenant_id)
    api = await stack.api.patch(
        f"/v1/recipients/{external_id}",
        json={"email": "not an address"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    [api_problem] = [f for f in api.json()["errors"] if f["field"] == "email"]

    refused = await post_form(
        browser,
        external_id,
        "contact",
        {"name": "Ada Byron", "email": "not an address", "timezone": "Mars/Olympus"},
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "email") == api_problem["problem"]
    assert "Mars/Olympus" in field_error(refused.text, "timezone")
    assert 'value="Ada Byron"' in refused.text  # what was typed stays in the form
    assert (await stack.api.get(f"/v1/recipients/{external_id}")).json() == before
    assert await audit_actions(sessions, stack.tenant_id) == audit_before

    saved = await post_form(
        browser,
        external_id,
        "contact",
        {"name": "Ada Byron", "phone": "+4930123456", "timezone": "Europe/London", "email": ""},
    )
    assert saved.status_code == 303, saved.text
    after = (await stack.api.get(f"/v1/recipients/{external_id}")).json()
    assert (after["name"], after["phone"], after["timezone"], after["email"]) == (
        "Ada Byron",
        "+4930123456",
        "Europe/London",
        None,
    )
    assert ("recipient.update", f"recipient {external_id}") in await audit_actions(
        sessions, stack.tenant_id
    )
    shown = await browser.get(saved.headers["location"])
    assert "Contact details saved." in shown.text


@pytest.mark.parametrize(
    ("changes", "field", "api_body"),
    [
        ({"dnd.start": "07:00", "dnd.end": "07:00"}, "dnd", {"dnd": {"start": "07:00"}}),
        ({"dnd.start": "25:00"}, "dnd.start", {"dnd": {"start": "25:00"}}),
        (
            {"reminder_minutes_before": "60, soon"},
            "reminder_minutes_before",
            {"reminder_minutes_before": [60, "soon"]},
        ),
        ({"max_reminders_per_day": "99"}, "max_reminders_per_day", {"max_reminders_per_day": 99}),
        ({"timezone": "Mars/Olympus"}, "timezone", {"timezone": "Mars/Olympus"}),
        (
            {"rules-0-key": "Not A Key", "rules-0-email": "off"},
            "rules.Not A Key",  # beside the rule's row
            {"rules": {"Not A Key": {"email": False}}},
        ),
        (
            {"rate_limit.on": "on", "rate_limit.max_count": "0", "rate_limit.window_minutes": "60"},
            "rate_limit.max_count",
            {"rate_limit": {"max_count": 0, "window_minutes": 60}},
        ),
    ],
)
async def test_preferences_refused_in_the_apis_words_beside_the_field_nothing_saved(
    stack, browser, sessions, changes, field, api_body
):
    external_id = await new_recipient(stack)
    before = (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()
    audit_before = await audit_actions(sessions, stack.tenant_id)
    api = await stack.api.patch(
        f"/v1/recipients/{external_id}/preferences",
        json=api_body,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert api.status_code == 422, api.text
    [api_problem] = api.json()["errors"]

    refused = await post_form(browser, external_id, "preferences", changes)
    assert refused.status_code == 422, refused.text
    assert field_error(refused.text, field) == api_problem["problem"]
    assert (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json() == before
    assert await own_settings(sessions, stack, external_id) == {}
    assert await audit_actions(sessions, stack.tenant_id) == audit_before


async def test_saving_preferences_keeps_only_what_changed_as_the_recipients_own(
    stack, browser, sessions
):
    external_id = await new_recipient(stack)
    saved = await post_form(
        browser,
        external_id,
        "preferences",
        {
            "dnd.enabled": "on",
            "dnd.start": "21:30",
            "channels.sms": None,  # unticked
            "rules-0-key": "marketing",
            "rules-0-email": "off",
            "muted_event_keys": "booking.follow_up\npayment.receipt",
            "weekend_days_from": "days",
            "weekend_days.4": "on",
            "weekend_days.5": "on",
        },
    )
    assert saved.status_code == 303, saved.text
    assert await own_settings(sessions, stack, external_id) == {
        "dnd": {"enabled": True, "start": "21:30:00"},
        "channels": {"sms": False},
        "rules": {"marketing": {"email": False}},
        "muted_event_keys": ["booking.follow_up", "payment.receipt"],
        "weekend_days": [4, 5],
    }
    prefs = (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()
    assert prefs["dnd"] == {
        "enabled": True,
        "start": "21:30:00",
        "end": "07:00:00",
        "action": "defer",
    }
    actions = await audit_actions(sessions, stack.tenant_id)
    assert ("preferences.update", f"recipient {external_id}") in actions

    # Shown again, the form holds what was saved; saved untouched, nothing more becomes theirs.
    page = (await browser.get(saved.headers["location"])).text
    assert "Preferences saved" in page
    again = await post_form(browser, external_id, "preferences", {})
    assert again.status_code == 303
    assert set(await own_settings(sessions, stack, external_id)) == {
        "dnd", "channels", "rules", "muted_event_keys", "weekend_days",
    }  # fmt: skip
    # A rule with every channel at "—" is removed.
    removed = await post_form(browser, external_id, "preferences", {"rules-0-email": ""})
    assert removed.status_code == 303, removed.text
    prefs = (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()
    assert prefs["rules"] == {}


async def test_the_dnd_preview_shows_the_blocked_hours_in_both_zones(stack, browser):
    external_id = await new_recipient(stack, timezone="Europe/Berlin")
    preview = f"{page_of(external_id)}/dnd-preview"
    params = {
        "dnd.enabled": "on",
        "dnd.start": "22:00",
        "dnd.end": "07:00",
        "dnd.action": "defer",
        "preview_day": "2025-06-10",
        "operator_zone": "Europe/London",
    }
    response = await browser.get(preview, params=params, headers={"HX-Request": "true"})
    assert response.status_code == 200
    part = plain(response.text)
    assert "<html" not in response.text  # the preview alone, for htmx to swap in
    assert "Blocked 22:00-07:00 Europe/Berlin (your time 21:00-06:00 Europe/London)" in part
    assert "in Europe/Berlin: Blocked 00:00-07:00 and 22:00-24:00" in part
    assert "in Europe/London: Blocked 00:00-06:00 and 21:00-24:00" in part
    hours = re.findall(r'<li class="hour (\w+)"', response.text)
    assert hours[:24] == ["blocked"] * 7 + ["free"] * 15 + ["blocked"] * 2
    assert "22:00-23:00: blocked" in part  # each hour in words, not colour only

    # The recipient's own zone setting moves the window; the clocks' change gives 25 hours.
    autumn = await browser.get(
        preview, params=params | {"timezone": "America/New_York", "preview_day": "2025-11-02"}
    )
    text_ = plain(autumn.text)
    assert "Blocked 22:00-07:00 America/New_York (your time 03:00-12:00 Europe/London)" in text_
    assert "in America/New_York (25 hours: the clocks change)" in text_

    refused = await browser.get(preview, params=params | {"dnd.end": "22:00"})
    assert "dnd: dnd.start and dnd.end must differ" in plain(refused.text)
    bad_time = await browser.get(preview, params=params | {"dnd.start": "9pm"})
    assert "dnd.start: must be a local time written HH:MM" in plain(bad_time.text)
    off = await browser.get(preview, params={k: v for k, v in params.items() if k != "dnd.enabled"})
    assert "Do-not-disturb is off: nothing is held back." in plain(off.text)
    assert 'class="hour' not in off.text

    # The page itself draws it with the recipient's saved window (the operator's zone: UTC
    # until the browser says).
    page = plain((await browser.get(page_of(external_id))).text)
    today = datetime.now(BERLIN).date()
    begins = datetime.combine(today, time(22), BERLIN).astimezone(UTC)
    ends = datetime.combine(today + timedelta(days=1), time(7), BERLIN).astimezone(UTC)
    assert "Do-not-disturb is off" in page
    assert f"(your time {begins:%H:%M}-{ends:%H:%M} UTC)" in page


async def test_a_delivery_deferred_by_quiet_hours_shows_until_when_in_their_zone(
    stack, smtp, browser
):
    start, end, ends_at = quiet_window_around_now()  # in Asia/Tokyo
    external_id = await new_recipient(stack, timezone="Asia/Tokyo")
    saved = await post_form(
        browser,
        external_id,
        "preferences",
        {"dnd.enabled": "on", "dnd.start": start, "dnd.end": end},
    )
    assert saved.status_code == 303, saved.text
    accepted = await send(stack, external_id)
    await stack.wait_for_status(accepted["id"], "deferred")

    page = (await browser.get(page_of(external_id))).text
    deliveries = plain(page[page.index('id="deliveries"') :])
    local = ends_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M JST")
    assert f"deferred until {local} ({ends_at:%Y-%m-%d %H:%M} UTC)" in deliveries


async def test_a_viewer_sees_the_page_and_changes_nothing(stack, sessions):
    external_id = await new_recipient(stack, name="Ada")
    viewer = await signed_in_operator(sessions, stack.settings, stack.tenant_id, Role.VIEWER)
    async with dashboard_client(stack.app, viewer.cookies) as browser:
        page = await browser.get(page_of(external_id))
        assert page.status_code == 200
        assert "Save contact details" not in page.text and "Save preferences" not in page.text
        token = csrf_of(page.text)
        for form, field in (("contact", {"name": "Taken"}), ("preferences", {"dnd.enabled": "on"})):
            response = await browser.post(
                f"{page_of(external_id)}/{form}", data={"csrf_token": token, **field}
            )
            assert response.status_code == 403, form
    assert (await stack.api.get(f"/v1/recipients/{external_id}")).json()["name"] == "Ada"
    assert await own_settings(sessions, stack, external_id) == {}


async def test_another_tenants_recipient_is_not_found(stack, browser, sessions):
    _other_tenant, other_key = await new_tenant(sessions, "Other")
    theirs = await stack.as_tenant(other_key)
    await theirs.put("/v1/recipients/their-user", json={"name": "Theirs"})
    assert (await browser.get(page_of("their-user"))).status_code == 404
    token = csrf_of((await browser.get(PAGE)).text)
    for form in ("contact", "preferences"):
        response = await browser.post(
            f"{page_of('their-user')}/{form}", data={"csrf_token": token, "name": "Mine"}
        )
        assert response.status_code == 404, form
    assert (await theirs.get("/v1/recipients/their-user")).json()["name"] == "Theirs"
    assert (await browser.get(f"{page_of('their-user')}/dnd-preview")).status_code == 404
