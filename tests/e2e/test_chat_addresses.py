"""Recipients' chat addresses (issue 16): given with their contact details (PUT, PATCH merging
by platform, inline with a notification), shown by GET, checked (a 422 naming
`chat_addresses.<platform>`, nothing written); and planning: a chat notification to a recipient
without a chat address is skipped with the reason, with one it is planned to that address."""

import uuid

from tests.e2e.test_devices import planned_ahead

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
SLACK_HOOK = "https://hooks.slack.com/services/T000/B000/XXXX"
TEAMS_HOOK = "https://example.webhook.office.com/webhookb2/abc"
DISCORD_HOOK = "https://discord.com/api/webhooks/123/abc"


def new_id() -> str:
    return f"chat-{uuid.uuid4().hex[:8]}"


async def read(api, external_id: str) -> dict:
    response = await api.get(f"/v1/recipients/{external_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_chat_addresses_are_put_read_and_merged_by_platform(stack):
    api = stack.api
    external_id = new_id()
    put = await api.put(
        f"/v1/recipients/{external_id}",
        json={"email": "c@example.com", "chat_addresses": {"slack": "U024BE7LH"}},
    )
    assert put.status_code == 200, put.text
    assert put.json()["chat_addresses"] == {"slack": "U024BE7LH"}
    assert (await read(api, external_id))["chat_addresses"] == {"slack": "U024BE7LH"}

    # PATCH merges by platform: one added, the others kept.
    patched = await api.patch(
        f"/v1/recipients/{external_id}",
        json={"chat_addresses": {"teams": TEAMS_HOOK, "discord": DISCORD_HOOK}},
        headers=MERGE_PATCH,
    )
    assert patched.status_code == 200, patched.text
    expected = {"slack": "U024BE7LH", "teams": TEAMS_HOOK, "discord": DISCORD_HOOK}
    assert patched.json()["chat_addresses"] == expected
    # null removes one platform, a value replaces one; a field not named (email) stays.
    other_discord = DISCORD_HOOK.replace("123", "456")
    patched = await api.patch(
        f"/v1/recipients/{external_id}",
        json={"chat_addresses": {"slack": None, "discord": other_discord}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["chat_addresses"] == {"teams": TEAMS_HOOK, "discord": other_discord}
    assert patched.json()["email"] == "c@example.com"
    assert (await read(api, external_id))["chat_addresses"] == patched.json()["chat_addresses"]
    # null on the whole field removes them all.
    cleared = await api.patch(f"/v1/recipients/{external_id}", json={"chat_addresses": None})
    assert cleared.status_code == 200 and cleared.json()["chat_addresses"] == {}

    # PUT replaces the recipient whole: chat addresses left out are gone.
    await api.patch(f"/v1/recipients/{external_id}", json={"chat_addresses": {"slack": "C0123"}})
    replaced = await api.put(f"/v1/recipients/{external_id}", json={"email": "c@example.com"})
    assert replaced.json()["chat_addresses"] == {}


INVALID = [
    ({"slack": "not an id"}, "chat_addresses.slack"),
    ({"slack": "http://hooks.slack.com/services/x"}, "chat_addresses.slack"),
    ({"slack": ""}, "chat_addresses.slack"),
    ({"slack": 42}, "chat_addresses.slack"),
    ({"slack": "U" + "A" * 30}, "chat_addresses.slack"),
    ({"teams": "U024BE7LH"}, "chat_addresses.teams"),
    ({"teams": "https://x.example/" + "a" * 2048}, "chat_addresses.teams"),
    ({"discord": "ftp://discord.com/api/webhooks/1/a"}, "chat_addresses.discord"),
    ({"discord": ["https://discord.com/api/webhooks/1/a"]}, "chat_addresses.discord"),
    ({"whatsapp": "+14155550123"}, "chat_addresses.whatsapp"),
]


async def test_invalid_chat_addresses_are_refused_naming_the_platform_and_write_nothing(stack):
    api = stack.api
    external_id = new_id()
    body = {"email": "c@example.com", "chat_addresses": {"slack": "U024BE7LH"}}
    assert (await api.put(f"/v1/recipients/{external_id}", json=body)).status_code == 200
    before = await read(api, external_id)
    for addresses, field in INVALID:
        for method in ("PUT", "PATCH"):
            response = await api.request(
                method, f"/v1/recipients/{external_id}", json={"chat_addresses": addresses}
            )
            assert response.status_code == 422, (method, addresses, response.text)
            assert response.json()["errors"][0]["field"] == field, (method, response.json())
    not_a_map = await api.patch(f"/v1/recipients/{external_id}", json={"chat_addresses": "U1"})
    assert not_a_map.status_code == 422
    assert not_a_map.json()["errors"][0]["field"] == "chat_addresses"
    assert await read(api, external_id) == before


async def test_a_notification_stores_chat_addresses_given_inline(stack):
    api = stack.api
    external_id = new_id()
    sent = await api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id, "chat_addresses": {"discord": DISCORD_HOOK}},
            "event_key": "order.shipped",
            "channels": ["in_app"],
            "context": {"title": "Shipped", "message": "On its way."},
        },
    )
    assert sent.status_code == 202, sent.text
    assert (await read(api, external_id))["chat_addresses"] == {"discord": DISCORD_HOOK}
    # A bad one inline is refused the same way, naming it within the recipient.
    refused = await api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id, "chat_addresses": {"teams": "U1"}},
            "event_key": "order.shipped",
            "channels": ["in_app"],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "recipient.chat_addresses.teams"
    assert (await read(api, external_id))["chat_addresses"] == {"discord": DISCORD_HOOK}


async def test_chat_is_skipped_without_an_address_and_planned_to_the_first_platform(stack):
    api = stack.api
    with_address, without = new_id(), new_id()
    both = {"teams": TEAMS_HOOK, "slack": "U024BE7LH"}
    for external_id, addresses in ((with_address, both), (without, {})):
        body = {"email": "c@example.com", "chat_addresses": addresses}
        assert (await api.put(f"/v1/recipients/{external_id}", json=body)).status_code == 200

    skipped = await planned_ahead(stack, without, "chat")
    [delivery] = skipped["deliveries"]
    assert skipped["status"] == "suppressed"
    assert delivery["channel"] == "chat" and delivery["status"] == "suppressed"
    assert delivery["status_reason"] == "no_address: the recipient has no chat address"
    assert delivery["error"] is None  # skipped, not failed

    planned = await planned_ahead(stack, with_address, "chat")
    [delivery] = planned["deliveries"]
    assert planned["status"] == "scheduled"
    assert delivery["status"] == "pending"
    assert delivery["address"] == "slack:U024BE7LH"  # slack comes first of the platforms
