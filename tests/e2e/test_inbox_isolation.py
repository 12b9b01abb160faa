"""No recipient reaches another's inbox, on every /v1/inbox route, from the application's route
list (issue 13).

Ann (the victim) has messages, one read. Two intruders then try every inbox route with their own
tokens: Bob, of Ann's tenant, and a namesake "ann" of another tenant. A route that names a
message by id answers them 404 for Ann's; a read (list, counts, recent, preferences) shows them
none of Ann's messages; a change (bulk read/archive/..., delete read, preferences) changes only
their own; a stream carries them none of Ann's events. Afterwards Ann's inbox, counts,
preferences, deliveries and event log are as they were. Every route also refuses no credentials,
the tenant's API key and Ann's own token expired or tampered with (401).

A new inbox route fails this test until it is classified below (its path with each parameter
written `{}`); a classified route not (yet) in the application is skipped."""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from api.inbox_cors import is_inbox_path
from tests.conftest import Stack, new_tenant
from tests.e2e.inbox_factory import as_recipient, recipient_token_answer
from tests.e2e.inbox_messages import last_event, send_in_app
from tests.utils.routes import api_routes
from tests.utils.serving import on_a_port
from tests.utils.sse import EventStream, event_stream

Route = tuple[str, str]  # (method, path with its parameters written {})

# Read the caller's own inbox: the intruder sees none of Ann's messages.
READS: set[Route] = {
    ("GET", "/v1/inbox"),
    ("GET", "/v1/inbox/counts"),
    ("POST", "/v1/inbox/counts"),
    ("GET", "/v1/inbox/recent"),
    ("GET", "/v1/inbox/preferences"),
    ("GET", "/v1/inbox/devices"),
}
# Change the caller's own inbox (by ids, which Ann's are not among, or by filter).
CHANGES: set[Route] = {
    ("POST", "/v1/inbox/read"),
    ("POST", "/v1/inbox/unread"),
    ("POST", "/v1/inbox/seen"),
    ("POST", "/v1/inbox/archive"),
    ("POST", "/v1/inbox/unarchive"),
    ("DELETE", "/v1/inbox/read"),
    ("PATCH", "/v1/inbox/preferences"),
    ("PUT", "/v1/inbox/devices"),  # registers a device of the caller's own
}
# Name one of the caller's messages by its id: another's is not found.
BY_MESSAGE_ID: set[Route] = {
    ("POST", "/v1/inbox/messages/{}/click"),
    ("POST", "/v1/inbox/messages/{}/snooze"),
    ("POST", "/v1/inbox/messages/{}/unsnooze"),
}
# Name one of the caller's push devices by its id: another's is not found.
BY_DEVICE_ID: set[Route] = {("DELETE", "/v1/inbox/devices/{}")}
STREAMS: set[Route] = {("GET", "/v1/inbox/stream")}
# No credentials, the same answer for everyone: the widget's script, and Web Push's service
# worker and VAPID public key.
PUBLIC: set[Route] = {
    ("GET", "/v1/inbox/widget.js"),
    ("GET", "/v1/inbox/herald-sw.js"),
    ("GET", "/v1/inbox/push/public-key"),
}

SOON = (datetime.now(UTC) + timedelta(days=1)).isoformat()  # a valid snooze
# The bodies each intruder sends (several: each is tried).
BODIES: dict[Route, list[dict]] = {
    ("POST", "/v1/inbox/counts"): [{"filters": [{}, {"read": True}, {"archived": True}]}],
    ("PATCH", "/v1/inbox/preferences"): [{"channels": {"email": False}}],
    ("POST", "/v1/inbox/messages/{}/snooze"): [{"until": SOON}],
    ("PUT", "/v1/inbox/devices"): [{"kind": "fcm", "token": "an-intruders-own-device"}],
}


def bodies(route: Route, ann_ids: list[str]) -> list[dict | None]:
    """What an intruder sends: a bulk change names Ann's ids, or asks for every message."""
    if route[0] == "POST" and route in CHANGES:
        return [{"ids": ann_ids}, {"filter": {}}, {"filter": {"read": True}}]
    return list(BODIES.get(route, [None]))


def shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def inbox_routes(stack: Stack) -> set[Route]:
    return {
        (method, shape(path))
        for path, route in api_routes(stack.app)
        if is_inbox_path(path)
        for method in route.methods or ()
        if method != "HEAD"
    }


@dataclass
class Ann:
    external_id: str
    recipient_id: str
    token: str
    message_ids: list[str]
    notification_ids: list[str]
    title: str  # every message of Ann's carries it
    device_ids: list[str]


async def ann_with_messages(stack: Stack, external_id: str) -> Ann:
    answer = await recipient_token_answer(stack.api, external_id)
    title = f"for-ann-only-{uuid.uuid4().hex[:8]}"
    ids = [await send_in_app(stack, external_id, title=title) for _ in range(3)]
    async with as_recipient(stack, answer["token"]) as inbox:
        read = await inbox.post("/v1/inbox/read", json={"ids": ids[:1]})
        assert read.status_code == 200 and read.json()["updated"] == 1, read.text
        archived = await inbox.post("/v1/inbox/archive", json={"ids": ids[1:2]})
        assert archived.status_code == 200 and archived.json()["updated"] == 1, archived.text
        device = await inbox.put("/v1/inbox/devices", json={"kind": "fcm", "token": "anns-phone"})
        assert device.status_code == 201, device.text
        listed = [
            message
            for archived in ("false", "true")
            for message in (await inbox.get("/v1/inbox", params={"archived": archived})).json()[
                "data"
            ]
        ]
    notifications = sorted({m["notification_id"] for m in listed if m["id"] in ids})
    assert len(notifications) == len(ids)
    return Ann(
        external_id,
        answer["recipient_id"],
        answer["token"],
        ids,
        notifications,
        title,
        [device.json()["id"]],
    )


async def snapshot(stack: Stack, sessions, ann: Ann) -> dict[str, object]:
    """All of Ann's inbox that an intruder could have changed."""
    seen: dict[str, object] = {}
    async with as_recipient(stack, ann.token) as inbox:
        for path, params in [
            ("/v1/inbox", {}),
            ("/v1/inbox", {"archived": "true"}),
            ("/v1/inbox", {"snoozed": "true"}),
            ("/v1/inbox/counts", {}),
            ("/v1/inbox/preferences", {}),
            ("/v1/inbox/devices", {}),
        ]:
            response = await inbox.get(path, params=params)
            assert response.status_code == 200, (path, response.text)
            seen[f"{path}?{params}"] = response.json()
    for notification_id in ann.notification_ids:
        seen[notification_id] = [
            (d["status"], d.get("opened_at"), d.get("clicked_at"))
            for d in (await stack.notification(notification_id))["deliveries"]
        ]
    seen["events"] = await last_event(sessions, ann.recipient_id)
    return seen


def mentions_ann(text: str, ann: Ann, besides: str = "") -> bool:
    return ann.title in text or any(i in text and i not in besides for i in ann.message_ids)


async def test_every_inbox_route_is_classified(stack):
    classified = READS | CHANGES | BY_MESSAGE_ID | BY_DEVICE_ID | STREAMS | PUBLIC
    unclassified = inbox_routes(stack) - classified
    assert not unclassified, f"classify these inbox routes for isolation: {unclassified}"


async def test_no_recipient_reaches_another_inbox_on_any_route(stack, sessions):
    routes = inbox_routes(stack)
    ann = await ann_with_messages(stack, "ann")
    bob = await recipient_token_answer(stack.api, "bob")
    await send_in_app(stack, "bob", title="bob's own")
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    namesake = await recipient_token_answer(other, "ann")  # the other tenant's "ann"
    before = await snapshot(stack, sessions, ann)

    for intruder in (bob, namesake):
        async with as_recipient(stack, intruder["token"]) as inbox:
            own = await inbox.get("/v1/inbox")
            assert own.status_code == 200, own.text  # the token works: on its own inbox
            for method, path in sorted(routes & (READS | CHANGES)):
                for body in bodies((method, path), ann.message_ids):
                    response = await inbox.request(method, path, json=body)
                    seen = (method, path, body, response.text)
                    assert response.status_code < 500, seen
                    assert not mentions_ann(response.text, ann, besides=str(body)), seen
                    if body is not None and "ids" in body:  # none of them the intruder's
                        assert response.status_code == 404 or response.json()["updated"] == 0
            for method, path in sorted(routes & BY_MESSAGE_ID):
                for message_id in ann.message_ids:
                    url = path.replace("{}", message_id)
                    body = BODIES.get((method, path), [None])[0]
                    response = await inbox.request(method, url, json=body)
                    assert response.status_code == 404, (method, url, response.text)
                    assert not mentions_ann(response.text, ann, besides=url), response.text
            for method, path in sorted(routes & BY_DEVICE_ID):
                for device_id in ann.device_ids:
                    url = path.replace("{}", device_id)
                    response = await inbox.request(method, url)
                    assert response.status_code == 404, (method, url, response.text)

    assert await snapshot(stack, sessions, ann) == before


def _expired(token: str) -> str:
    """Ann's token with its `exp` in the past: not signed by its secret any more either."""
    claims = jwt.decode(token, options={"verify_signature": False})
    head, _, _ = token.split(".")
    altered = jwt.encode(claims | {"exp": int(time.time()) - 3600}, "x" * 32, algorithm="HS256")
    return head + "." + altered.split(".", 1)[1]


async def test_every_inbox_route_refuses_what_is_not_a_recipient_token(stack):
    """No credentials, the tenant's API key, or Ann's token altered: 401 on every route but
    the public script (whose answer is the same for everyone)."""
    routes = inbox_routes(stack)
    answer = await recipient_token_answer(stack.api, "ann")
    credentials: dict[str, dict[str, str]] = {
        "none": {},
        "tenant api key": {"Authorization": f"Bearer {stack.api_key}"},
        "altered token": {"Authorization": f"Bearer {_expired(answer['token'])}"},
    }
    async with httpx.AsyncClient(transport=stack.api._transport, base_url="http://herald") as raw:
        for method, path in sorted(routes - PUBLIC):
            url = path.replace("{}", str(uuid.uuid4()))
            body = BODIES.get((method, path), [{"filter": {}}])[0]
            for name, headers in credentials.items():
                response = await raw.request(method, url, json=body, headers=headers)
                assert response.status_code == 401, (name, method, url, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
        for method, path in sorted(routes & PUBLIC):
            assert (await raw.request(method, path)).status_code == 200, path


async def test_a_stream_carries_no_other_recipients_events(stack, sessions):
    """On a real port (httpx's ASGI transport would wait for the stream's end): Bob's stream
    and the other tenant's "ann"'s see none of Ann's events, while Ann's sees them."""
    routes = inbox_routes(stack)
    assert stack.app is not None
    ann = await ann_with_messages(stack, "ann")
    bob = await recipient_token_answer(stack.api, "bob")
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    namesake = await recipient_token_answer(other, "ann")

    for _, path in sorted(routes & STREAMS):
        async with (
            on_a_port(stack.app) as url,
            httpx.AsyncClient(base_url=url) as client,
            event_stream(client, path, headers=_bearer(ann.token)) as anns,
            event_stream(client, path, headers=_bearer(bob["token"])) as bobs,
            event_stream(client, path, params={"token": namesake["token"]}) as namesakes,
        ):
            ready = {name: await s.next() for name, s in _streams(anns, bobs, namesakes)}
            assert all(r.kind == "ready" for r in ready.values()), ready
            assert ready["bob"].data["counts"]["total"] == 0  # not Ann's
            assert ready["namesake"].data["counts"]["total"] == 0
            assert ready["ann"].data["counts"] == {"total": 2, "unread": 1, "unseen": 1}

            new_id = await send_in_app(stack, "ann", title=ann.title)
            async with as_recipient(stack, ann.token) as inbox:
                await inbox.post("/v1/inbox/read", json={"ids": [new_id]})
            assert (await anns.next()).kind == "message.created"
            assert (await anns.next()).kind == "messages.updated"
            # Then an event of their own for each intruder: their streams were live all along.
            await send_in_app(stack, "bob", title="bob's own")
            assert (await bobs.next()).data["message"]["title"] == "bob's own"
            await send_in_app(_as(stack, other, other_key), "ann", title="namesake's own")
            assert (await namesakes.next()).data["message"]["title"] == "namesake's own"
            for name, stream in _streams(anns, bobs, namesakes):
                if name != "ann":
                    assert not any(mentions_ann(repr(e), ann) for e in stream.received), name


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _streams(anns: EventStream, bobs: EventStream, namesakes: EventStream):
    return [("ann", anns), ("bob", bobs), ("namesake", namesakes)]


def _as(stack: Stack, api: httpx.AsyncClient, key: str) -> Stack:
    """The stack as another tenant sees it (send_in_app sends through `stack.api`)."""
    return Stack(api, stack.client, stack.settings, stack.tenant_id, key, stack.app)
