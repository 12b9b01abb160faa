"""PUT replaces a recipient whole; PATCH is a JSON merge patch (RFC 7396) of the recipient's
contact details or of their own preference settings, validated after merging: invalid, a 422
naming the field, and nothing written."""

import uuid

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
GRACE = {
    "name": "Grace",
    "email": "grace@example.com",
    "phone": "+14155550123",
    "timezone": "Europe/Paris",
    "locale": "fr",
}


def new_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def grace(stack) -> str:
    external_id = new_id()
    response = await stack.api.put(f"/v1/recipients/{external_id}", json=GRACE)
    assert response.status_code == 200, response.text
    return external_id


def contact(body: dict) -> dict:
    return {name: body[name] for name in GRACE}


async def test_put_replaces_the_recipient_whole(stack):
    external_id = await grace(stack)
    response = await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": "grace@example.org"}
    )
    assert contact(response.json()) == {
        "name": None,
        "email": "grace@example.org",
        "phone": None,
        "timezone": "UTC",
        "locale": "en",
    }


async def test_patch_changes_only_what_it_names_and_null_removes(stack):
    external_id = await grace(stack)
    response = await stack.api.patch(
        f"/v1/recipients/{external_id}",
        content=b'{"phone": "+14155550199", "name": null, "timezone": null}',
        headers=MERGE_PATCH,
    )
    assert response.status_code == 200, response.text
    expected = {**GRACE, "phone": "+14155550199", "name": None, "timezone": "UTC"}
    assert contact(response.json()) == expected
    read = await stack.api.get(f"/v1/recipients/{external_id}")
    assert contact(read.json()) == expected
    # Plain JSON is a merge patch too.
    response = await stack.api.patch(f"/v1/recipients/{external_id}", json={"locale": "de"})
    assert response.status_code == 200 and response.json()["locale"] == "de"


async def test_an_invalid_recipient_patch_names_the_field_and_writes_nothing(stack):
    external_id = await grace(stack)
    for body, field in (
        ({"email": "not an address"}, "email"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"phone": "12"}, "phone"),
        ({"nickname": "G"}, "nickname"),
        ({"name": "x" * 201}, "name"),
    ):
        response = await stack.api.patch(
            f"/v1/recipients/{external_id}", json=body, headers=MERGE_PATCH
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
    read = await stack.api.get(f"/v1/recipients/{external_id}")
    assert contact(read.json()) == GRACE


async def test_patching_an_unknown_recipient_is_a_404_and_creates_nothing(stack):
    external_id = new_id()
    response = await stack.api.patch(f"/v1/recipients/{external_id}", json={"name": "Ada"})
    assert response.status_code == 404
    assert (await stack.api.get(f"/v1/recipients/{external_id}")).status_code == 404


async def test_a_patch_body_must_be_an_object(stack):
    external_id = await grace(stack)
    for path in (f"/v1/recipients/{external_id}", f"/v1/recipients/{external_id}/preferences"):
        response = await stack.api.patch(path, content=b'["name"]', headers=MERGE_PATCH)
        assert response.status_code == 422, response.text


async def test_preferences_patch_is_a_merge_patch_of_the_recipients_own_settings(stack):
    external_id = await grace(stack)
    defaults = {"max_reminders_per_day": 4, "dnd": {"enabled": True, "start": "21:00"}}
    assert (await stack.api.put("/v1/preferences/defaults", json=defaults)).status_code == 200
    path = f"/v1/recipients/{external_id}/preferences"
    own = {
        "max_reminders_per_day": 2,
        "dnd": {"end": "06:00"},
        "reminder_minutes_before": [60, 30],
        "rules": {"booking": {"email": False, "sms": False}},
    }
    assert (await stack.api.put(path, json=own)).status_code == 200

    response = await stack.api.patch(
        path,
        json={
            "max_reminders_per_day": None,  # removed: the tenant's default again
            "dnd": {"start": "23:00"},  # objects merge
            "reminder_minutes_before": [15],  # arrays replace
            "rules": {"booking": {"sms": None}},  # nested null removes only that key
        },
        headers=MERGE_PATCH,
    )
    assert response.status_code == 200, response.text
    prefs = response.json()
    assert prefs["max_reminders_per_day"] == 4
    assert (prefs["dnd"]["start"], prefs["dnd"]["end"], prefs["dnd"]["enabled"]) == (
        "23:00:00",
        "06:00:00",
        True,
    )
    assert prefs["reminder_minutes_before"] == [15]
    assert prefs["rules"] == {"booking": {"email": False}}
    assert (await stack.api.get(path)).json() == prefs


async def test_an_invalid_preferences_patch_names_the_field_and_writes_nothing(stack):
    external_id = await grace(stack)
    path = f"/v1/recipients/{external_id}/preferences"
    assert (await stack.api.put(path, json={"dnd": {"start": "22:00"}})).status_code == 200
    before = (await stack.api.get(path)).json()
    for body, field in (
        ({"dnd": {"end": "22:00"}}, "dnd"),  # valid alone, a zero-length window once merged
        ({"rate_limit": {"max_count": 5}}, "rate_limit.window_minutes"),
        ({"channels": {"fax": True}}, "channels.fax"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"rules": {"Booking Stuff": {"email": True}}}, "rules.Booking Stuff"),
    ):
        response = await stack.api.patch(path, json=body, headers=MERGE_PATCH)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
    assert (await stack.api.get(path)).json() == before


async def test_defaults_are_a_typed_document(stack):
    response = await stack.api.put("/v1/preferences/defaults", json={"dnd": {"starts": "22:00"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "dnd.starts"
    # A field left out takes Herald's default, and is not stored: the GET shows Herald's.
    response = await stack.api.put("/v1/preferences/defaults", json={"preferred_method": "sms"})
    assert response.status_code == 200 and response.json()["max_reminders_per_day"] == 10


async def test_what_a_get_answers_can_be_put_back(stack):
    external_id = await grace(stack)
    path = f"/v1/recipients/{external_id}/preferences"
    assert (await stack.api.patch(path, json={"dnd": {"enabled": True}})).status_code == 200
    read = (await stack.api.get(path)).json()
    assert "unsubscribed" in read  # read-only: ignored when written back
    for method in ("PUT", "PATCH"):
        written = await stack.api.request(method, path, json=read)
        assert written.status_code == 200, written.text
        assert written.json() == read
