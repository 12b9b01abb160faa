"""A recipient's own preferences through their inbox token (GET/PATCH /v1/inbox/preferences):
the tenant API's document and validation, only ever the token's recipient, and the tenant's caps
read-only."""

import uuid

from tests.e2e.inbox_factory import as_recipient, recipient_token

QUIET_EVENINGS = {"dnd": {"enabled": True, "start": "21:00", "end": "07:30"}}
NO_MARKETING_EMAIL = {"rules": {"marketing": {"email": False}}}

# Patches the tenant API refuses (tests/utils/bad_preferences.py has more, as stored state).
BAD_PATCHES = [
    {"dnd": {"enabled": True, "start": "09:00", "end": "09:00"}},
    {"dnd": {"start": "25:00"}},
    {"channels": {"fax": False}},
    {"rules": {"booking": {"pager": True}}},
    {"rules": {"Booking Stuff": {"email": False}}},
    {"digests": {"booking": {"frequency": "monthly"}}},
    {"muted_event_keys": ["Not A Key"]},
    {"reminder_minutes_before": []},
    {"weekend_days": [0, 1, 2, 3, 4, 5, 6]},
    {"timezone": "Mars/Olympus_Mons"},
    {"preferred_method": "pigeon"},
    {"no_such_setting": True},
    {"channels": {"email": "yes"}},
]


async def new_recipient(stack) -> tuple[str, str]:
    external_id = f"prefs-{uuid.uuid4().hex[:8]}"
    return external_id, await recipient_token(stack.api, external_id)


async def tenant_view(stack, external_id: str) -> dict:
    response = await stack.api.get(f"/v1/recipients/{external_id}/preferences")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_recipient_reads_and_changes_only_their_own_preferences(stack):
    ann, ann_token = await new_recipient(stack)
    bob, _ = await new_recipient(stack)
    bob_before = await tenant_view(stack, bob)

    async with as_recipient(stack, ann_token) as inbox:
        read = await inbox.get("/v1/inbox/preferences")
        assert read.status_code == 200, read.text
        assert read.json() == await tenant_view(stack, ann)

        changed = await inbox.patch(
            "/v1/inbox/preferences",
            json=QUIET_EVENINGS | NO_MARKETING_EMAIL,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert changed.status_code == 200, changed.text

        back_to_default = await inbox.patch("/v1/inbox/preferences", json={"dnd": None})
        assert back_to_default.status_code == 200, back_to_default.text

    assert changed.json()["dnd"] == {
        "enabled": True,
        "start": "21:00:00",
        "end": "07:30:00",
        "action": "defer",
    }
    assert changed.json()["rules"] == {"marketing": {"email": False}}
    ann_now = await tenant_view(stack, ann)
    assert ann_now == back_to_default.json()  # what the tenant reads is what the inbox wrote
    assert ann_now["dnd"] == read.json()["dnd"]  # null: the tenant's default again
    assert ann_now["rules"] == {"marketing": {"email": False}}
    assert await tenant_view(stack, bob) == bob_before  # the token decided whose


async def test_the_inbox_refuses_what_the_tenant_api_refuses_with_the_same_problems(stack):
    ann, token = await new_recipient(stack)
    before = await tenant_view(stack, ann)

    async with as_recipient(stack, token) as inbox:
        for patch in BAD_PATCHES:
            own = await inbox.patch("/v1/inbox/preferences", json=patch)
            tenants = await stack.api.patch(f"/v1/recipients/{ann}/preferences", json=patch)

            assert own.status_code == tenants.status_code == 422, (patch, own.text)
            assert own.json()["errors"] == tenants.json()["errors"], patch
            assert own.json()["errors"][0]["field"], patch  # the field is named

        not_an_object = await inbox.patch("/v1/inbox/preferences", json=["dnd"])
        assert not_an_object.status_code == 422, not_an_object.text

    assert await tenant_view(stack, ann) == before  # nothing was written


async def test_the_tenants_caps_are_read_only_from_the_inbox(stack):
    caps = {"max_reminders_per_day": 4, "rate_limit": {"max_count": 10, "window_minutes": 60}}
    defaults = await stack.api.put("/v1/preferences/defaults", json=caps)
    assert defaults.status_code == 200, defaults.text
    ann, token = await new_recipient(stack)

    async with as_recipient(stack, token) as inbox:
        document = (await inbox.get("/v1/inbox/preferences")).json()
        assert {name: document[name] for name in caps} == caps  # readable

        refusals = [
            await inbox.patch("/v1/inbox/preferences", json=patch)
            for patch in (
                {"max_reminders_per_day": 50},
                {"rate_limit": None},
                {"rate_limit": {"max_count": 1000}},
                {"rate_limit": {"max_count": 10, "window_minutes": 1}} | QUIET_EVENINGS,
            )
        ]
        # The whole document it read, written back with one change: accepted.
        written_back = await inbox.patch(
            "/v1/inbox/preferences", json=document | NO_MARKETING_EMAIL
        )

    assert [r.status_code for r in refusals] == [422] * 4
    assert [r.json()["errors"][0]["field"] for r in refusals] == [
        "max_reminders_per_day",
        "rate_limit",
        "rate_limit",
        "rate_limit",
    ]
    assert "set by the tenant" in refusals[0].json()["errors"][0]["problem"]
    assert written_back.status_code == 200, written_back.text
    assert written_back.json()["rules"] == {"marketing": {"email": False}}
    assert (await tenant_view(stack, ann))["dnd"][
        "enabled"
    ] is False  # the refused patch wrote nothing

    # Written back, the caps were not pinned on the recipient: they follow the tenant still.
    lower = {"max_reminders_per_day": 2, "rate_limit": {"max_count": 5, "window_minutes": 60}}
    assert (await stack.api.put("/v1/preferences/defaults", json=lower)).status_code == 200
    now = await tenant_view(stack, ann)
    assert {name: now[name] for name in lower} == lower
