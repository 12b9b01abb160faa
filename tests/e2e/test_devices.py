"""Push devices (issue 16): registered, refreshed, moved, listed and removed by the tenant
(/v1/recipients/{external_id}/devices) and by the recipient through their inbox token
(/v1/inbox/devices); hostile input refused naming the field with nothing written; at most 20
active devices a recipient; tenants apart; and planning: push to a recipient without a device
is skipped with the reason, with one it is planned."""

import base64
import os
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from db.devices import deactivate_devices
from domain.device_tokens import MAX_ACTIVE_DEVICES, REPLACED_REASON
from tests.conftest import new_tenant
from tests.e2e.inbox_factory import as_recipient, recipient_token

PUSH_SERVICE = "https://push.example.net"
APP_ORIGIN = "https://app.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def p256dh() -> str:
    """A browser's subscription key: an uncompressed P-256 public key."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def subscription(path: str | None = None) -> dict:
    """A subscription as PushSubscription.toJSON() gives it."""
    return {
        "endpoint": f"{PUSH_SERVICE}/wpush/v2/{path or uuid.uuid4().hex}",
        "expirationTime": None,
        "keys": {"p256dh": p256dh(), "auth": b64url(os.urandom(16))},
    }


def webpush(label: str | None = None, sub: dict | None = None) -> dict:
    body = {"kind": "webpush", "subscription": sub or subscription()}
    return body | ({"label": label} if label is not None else {})


def fcm_token() -> str:
    return f"dpH5lCsTSSM:APA91b{uuid.uuid4().hex}{uuid.uuid4().hex}_-x"


def apns_token() -> str:
    return os.urandom(32).hex()


async def new_recipient(api, external_id: str | None = None) -> str:
    external_id = external_id or f"dev-{uuid.uuid4().hex[:8]}"
    put = await api.put(f"/v1/recipients/{external_id}", json={"email": "d@example.com"})
    assert put.status_code == 200, put.text
    return external_id


async def devices_of(api, external_id: str) -> list[dict]:
    listed = await api.get(f"/v1/recipients/{external_id}/devices", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    assert listed.json()["next_cursor"] is None
    return listed.json()["data"]


async def register(api, external_id: str, body: dict, status: int = 201) -> dict:
    response = await api.put(f"/v1/recipients/{external_id}/devices", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def test_a_device_is_registered_refreshed_moved_listed_and_removed(stack):
    api = stack.api
    ann, bob = await new_recipient(api), await new_recipient(api)
    sub = subscription()

    created = await register(api, ann, webpush("Firefox on a laptop", sub))
    assert created["kind"] == "webpush" and created["active"] is True
    assert created["label"] == "Firefox on a laptop"
    assert created["endpoint_origin"] == PUSH_SERVICE and created["token_ending"] is None
    # Of the subscription, only the push service shows: not the device's address nor its keys.
    for secret in (sub["endpoint"].rsplit("/", 1)[1], sub["keys"]["p256dh"], sub["keys"]["auth"]):
        assert secret not in str(created)

    # The same subscription again (its keys padded, as some browsers write base64): the same
    # device, seen now, relabelled; 200, not 201.
    padded = sub | {"keys": {k: v + "=" * (-len(v) % 4) for k, v in sub["keys"].items()}}
    refreshed = await register(api, ann, webpush("Firefox", padded), status=200)
    assert refreshed["id"] == created["id"] and refreshed["label"] == "Firefox"
    assert refreshed["last_seen"] > created["last_seen"]
    assert refreshed["created_at"] == created["created_at"]
    # Without a label, it keeps the one it has.
    assert (await register(api, ann, webpush(None, sub), status=200))["label"] == "Firefox"

    # Registered for Bob (the browser changed hands): moved, one device still.
    moved = await register(api, bob, webpush(None, sub), status=200)
    assert moved["id"] == created["id"]
    assert await devices_of(api, ann) == []
    assert [d["id"] for d in await devices_of(api, bob)] == [created["id"]]

    # FCM and APNs: the token's ending only. An APNs token is hex in either case: one device.
    token = fcm_token()
    fcm = await register(api, ann, {"kind": "fcm", "token": token, "label": "Pixel"})
    assert fcm["token_ending"] == token[-6:] and fcm["endpoint_origin"] is None
    assert token not in str(fcm)
    apns_hex = apns_token()
    apns = await register(api, ann, {"kind": "apns", "token": apns_hex.upper()})
    again = await register(api, ann, {"kind": "apns", "token": apns_hex}, status=200)
    assert again["id"] == apns["id"] and again["token_ending"] == apns_hex[-6:]
    # The same token string of another kind is another device.
    other_kind = await register(api, ann, {"kind": "fcm", "token": apns_hex})
    assert other_kind["id"] != apns["id"]

    listed = await devices_of(api, ann)
    assert [d["id"] for d in listed] == [other_kind["id"], apns["id"], fcm["id"]]  # newest first
    first = await api.get(f"/v1/recipients/{ann}/devices", params={"limit": 2})
    assert [d["id"] for d in first.json()["data"]] == [other_kind["id"], apns["id"]]
    rest = await api.get(
        f"/v1/recipients/{ann}/devices", params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    assert [d["id"] for d in rest.json()["data"]] == [fcm["id"]]
    assert rest.json()["next_cursor"] is None

    # Removing: only the recipient's own device.
    not_anns = await api.delete(f"/v1/recipients/{ann}/devices/{created['id']}")
    assert not_anns.status_code == 404, not_anns.text
    assert (await api.delete(f"/v1/recipients/{bob}/devices/{created['id']}")).status_code == 204
    assert (await api.delete(f"/v1/recipients/{bob}/devices/{created['id']}")).status_code == 404
    assert await devices_of(api, bob) == []
    assert len(await devices_of(api, ann)) == 3

    # An unknown recipient: 404, nothing registered.
    unknown = await api.put("/v1/recipients/nobody-here/devices", json=webpush())
    assert unknown.status_code == 404, unknown.text
    assert (await api.get("/v1/recipients/nobody-here/devices")).status_code == 404


async def test_a_gone_device_is_listed_with_why_and_registering_it_again_revives_it(
    stack, sessions
):
    api = stack.api
    ann = await new_recipient(api)
    body = {"kind": "fcm", "token": fcm_token()}
    device = await register(api, ann, body)
    async with sessions.begin() as session:  # what a send does when FCM says UNREGISTERED
        await deactivate_devices(session, stack.tenant_id, {device["id"]: "gone: UNREGISTERED"})

    [listed] = await devices_of(api, ann)
    assert listed["active"] is False and listed["deactivation_reason"] == "gone: UNREGISTERED"
    assert listed["deactivated_at"] is not None

    revived = await register(api, ann, body, status=200)
    assert revived["id"] == device["id"] and revived["active"] is True
    assert revived["deactivated_at"] is None and revived["deactivation_reason"] is None


KEYS = {"p256dh": p256dh(), "auth": b64url(bytes(16))}
ENDPOINT = f"{PUSH_SERVICE}/wpush/v2/abc"


def at(endpoint: str) -> dict:
    """A webpush registration with this endpoint."""
    return {"kind": "webpush", "subscription": {"endpoint": endpoint, "keys": KEYS}}


def keyed(**keys: str) -> dict:
    """A webpush registration with these keys instead."""
    return {"kind": "webpush", "subscription": {"endpoint": ENDPOINT, "keys": KEYS | keys}}


# (body, the field the 422 names)
INVALID = [
    ({"kind": "sms", "token": "x"}, "kind"),
    ({"token": "abc"}, "kind"),
    ({"kind": "webpush"}, "subscription"),
    ({"kind": "webpush", "token": "abc", "subscription": subscription()}, "token"),
    ({"kind": "webpush", "subscription": {"endpoint": ENDPOINT}}, "subscription.keys"),
    (at("http://push.example.net/x"), "subscription.endpoint"),
    (at("https:///no-host"), "subscription.endpoint"),
    (at("https://u:p@push.example.net/x"), "subscription.endpoint"),
    (at("https://push.example.net/a b"), "subscription.endpoint"),
    (at("https://push.example.net:port/x"), "subscription.endpoint"),
    (at(ENDPOINT + "x" * 2048), "subscription.endpoint"),
    (at("javascript:alert(1)"), "subscription.endpoint"),
    (keyed(p256dh=b64url(bytes(64))), "subscription.keys.p256dh"),
    (keyed(p256dh=b64url(bytes(65))), "subscription.keys.p256dh"),  # not an uncompressed point
    (keyed(p256dh="a+b/" * 22), "subscription.keys.p256dh"),
    (keyed(auth=b64url(bytes(15))), "subscription.keys.auth"),
    (keyed(auth="x" * 10_000), "subscription.keys.auth"),
    (keyed(auth="@@@@"), "subscription.keys.auth"),
    (
        {"kind": "webpush", "subscription": {"endpoint": ENDPOINT, "keys": {"p256dh": "x"}}},
        "subscription.keys.p256dh",
    ),
    (
        {"kind": "webpush", "subscription": {"endpoint": ENDPOINT, "keys": KEYS, "extra": 1}},
        "subscription.extra",
    ),
    ({"kind": "webpush", "subscription": "https://push.example.net/x"}, "subscription"),
    ({"kind": "fcm"}, "token"),
    ({"kind": "fcm", "token": "has/slash"}, "token"),
    ({"kind": "fcm", "token": "has space"}, "token"),
    ({"kind": "fcm", "token": ""}, "token"),
    ({"kind": "fcm", "token": "a" * 4097}, "token"),
    ({"kind": "fcm", "token": 12345}, "token"),
    ({"kind": "fcm", "token": fcm_token(), "subscription": subscription()}, "subscription"),
    ({"kind": "apns"}, "token"),
    ({"kind": "apns", "token": "ab" * 31 + "a"}, "token"),  # 63 hex digits
    ({"kind": "apns", "token": "zz" * 32}, "token"),
    ({"kind": "apns", "token": "ab" * 101}, "token"),  # 202 hex digits
    ({"kind": "apns", "token": "ab" * 16}, "token"),  # 32 hex digits: too short
    ({"kind": "fcm", "token": fcm_token(), "label": "x" * 101}, "label"),
    ({"kind": "fcm", "token": fcm_token(), "colour": "red"}, "colour"),
]


async def test_invalid_registrations_are_refused_naming_the_field_and_write_nothing(stack):
    api = stack.api
    ann = await new_recipient(api)
    for body, field in INVALID:
        response = await api.put(f"/v1/recipients/{ann}/devices", json=body)
        assert response.status_code == 422, (body, response.text)
        named = [e["field"] for e in response.json()["errors"]]
        assert named[0] == field, (body, named)
    assert await devices_of(api, ann) == []
    # The bounds are not refusals: 64 and 200 hex digits, a 2048-character endpoint, the longest
    # FCM token.
    longest_endpoint = ENDPOINT + "x" * (2048 - len(ENDPOINT))
    for body in (
        {"kind": "apns", "token": "ab" * 32},
        {"kind": "apns", "token": "ab" * 100},
        {"kind": "fcm", "token": "a" * 4096},
        at(longest_endpoint),
    ):
        await register(api, ann, body)


async def test_the_21st_device_replaces_the_least_recently_seen(stack):
    api = stack.api
    ann = await new_recipient(api)
    bodies = [{"kind": "fcm", "token": fcm_token()} for _ in range(MAX_ACTIVE_DEVICES + 1)]
    ids = [(await register(api, ann, body))["id"] for body in bodies[:MAX_ACTIVE_DEVICES]]
    # The first is seen again: the second is now the least recently seen.
    await register(api, ann, bodies[0], status=200)

    newest = await register(api, ann, bodies[MAX_ACTIVE_DEVICES])
    assert newest["active"] is True
    listed = {d["id"]: d for d in await devices_of(api, ann)}
    assert len(listed) == MAX_ACTIVE_DEVICES + 1
    inactive = [d for d in listed.values() if not d["active"]]
    assert [d["id"] for d in inactive] == [ids[1]]
    assert inactive[0]["deactivation_reason"] == REPLACED_REASON
    assert "more than 20 devices" in REPLACED_REASON

    # Registering the replaced one again brings it back, and replaces the next least recent.
    await register(api, ann, bodies[1], status=200)
    listed = {d["id"]: d for d in await devices_of(api, ann)}
    assert [i for i, d in listed.items() if not d["active"]] == [ids[2]]
    assert sum(d["active"] for d in listed.values()) == MAX_ACTIVE_DEVICES


async def test_the_recipient_registers_lists_and_removes_their_own_devices_by_inbox_token(stack):
    api = stack.api
    await api.patch("/v1/settings/inbox", json={"allowed_origins": [APP_ORIGIN]})
    token = await recipient_token(api, "inbox-ann")
    bobs_token = await recipient_token(api, "inbox-bob")
    async with as_recipient(stack, token) as inbox, as_recipient(stack, bobs_token) as bobs:
        # The browser's preflight for a PUT is answered; the answer is readable by the page.
        preflight = await inbox.options(
            "/v1/inbox/devices",
            headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PUT"},
        )
        assert preflight.status_code == 204
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        sub = subscription()
        put = await inbox.put(
            "/v1/inbox/devices", json=webpush("This browser", sub), headers={"Origin": APP_ORIGIN}
        )
        assert put.status_code == 201, put.text
        assert put.headers["access-control-allow-origin"] == APP_ORIGIN
        device = put.json()
        again = await inbox.put("/v1/inbox/devices", json=webpush(None, sub))
        assert again.status_code == 200 and again.json()["id"] == device["id"]

        own = await inbox.get("/v1/inbox/devices")
        assert own.status_code == 200 and [d["id"] for d in own.json()["data"]] == [device["id"]]
        # The tenant sees the recipient's device; Bob does not, and cannot remove it.
        assert [d["id"] for d in await devices_of(api, "inbox-ann")] == [device["id"]]
        assert (await bobs.get("/v1/inbox/devices")).json()["data"] == []
        assert (await bobs.delete(f"/v1/inbox/devices/{device['id']}")).status_code == 404
        assert len(await devices_of(api, "inbox-ann")) == 1

        invalid = await inbox.put("/v1/inbox/devices", json={"kind": "apns", "token": "nope"})
        assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "token"

        removed = await inbox.delete(f"/v1/inbox/devices/{device['id']}")
        assert removed.status_code == 204, removed.text
        assert (await inbox.get("/v1/inbox/devices")).json()["data"] == []
    # Without a recipient token (the tenant's key is not one): 401.
    assert (await api.put("/v1/inbox/devices", json=webpush())).status_code == 401


async def test_devices_are_the_tenants_own(stack, sessions):
    """The same token in two tenants is two devices; one tenant reaches none of the other's."""
    api = stack.api
    ann = await new_recipient(api, "shared-name")
    body = {"kind": "fcm", "token": fcm_token()}
    anns = await register(api, ann, body)
    _, other_key = await new_tenant(sessions, "Other")
    async with await stack.as_tenant(other_key) as other:
        theirs = await new_recipient(other, "shared-name")
        copy = await register(other, theirs, body)  # created, not moved from the other tenant
        assert copy["id"] != anns["id"]
        assert [d["id"] for d in await devices_of(other, theirs)] == [copy["id"]]
        gone = await other.delete(f"/v1/recipients/{theirs}/devices/{anns['id']}")
        assert gone.status_code == 404
    assert [d["id"] for d in await devices_of(api, ann)] == [anns["id"]]


async def planned_ahead(stack, external_id: str, channel: str) -> dict:
    """A notification on `channel` to the recipient, for next week: as planned now (its
    deliveries show what planning decided, with nothing sent yet)."""
    sent = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": "order.shipped",
            "channels": [channel],
            "context": {"title": "Shipped", "message": "Your order is on its way."},
            "send_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        },
    )
    assert sent.status_code == 202, sent.text
    return await stack.wait_for_status(sent.json()["id"], "scheduled", "suppressed")


async def test_push_is_skipped_without_a_device_and_planned_with_one(stack):
    with_device, without = await new_recipient(stack.api), await new_recipient(stack.api)
    await register(stack.api, with_device, webpush())

    skipped = await planned_ahead(stack, without, "push")
    assert skipped["status"] == "suppressed"
    [delivery] = skipped["deliveries"]
    assert delivery["channel"] == "push" and delivery["status"] == "suppressed"
    assert delivery["status_reason"] == "no_address: the recipient has no push device"
    assert delivery["error"] is None  # skipped, not failed

    sending = await planned_ahead(stack, with_device, "push")
    assert sending["status"] == "scheduled"
    [delivery] = sending["deliveries"]
    assert delivery["channel"] == "push" and delivery["status"] == "pending"
