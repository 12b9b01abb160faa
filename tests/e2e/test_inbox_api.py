"""The inbox API, as a recipient's client uses it with a recipient token: the list and its
filters, cursor pages, counts, recent messages, bulk changes and their events, delete read, the
inbox options a notification carries, and bad input refused with nothing written."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.inbox_messages import (
    copy_message,
    inbox_events,
    last_event,
    new_inbox,
    send_in_app,
    set_message,
)

FILTERS = ["read", "archived", "snoozed", "priority", "category", "tag"]


async def listed(inbox, **params) -> list[dict]:
    response = await inbox.client.get("/v1/inbox", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def listed_ids(inbox, **params) -> set[str]:
    return {m["id"] for m in await listed(inbox, **params)}


async def counted(inbox, **params) -> dict:
    response = await inbox.client.get("/v1/inbox/counts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def change(inbox, action: str, **body) -> dict:
    response = await inbox.client.post(f"/v1/inbox/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def counts_of(messages: list[dict]) -> dict:
    return {
        "total": len(messages),
        "unread": sum(m["read_at"] is None for m in messages),
        "unseen": sum(m["seen_at"] is None for m in messages),
    }


async def test_every_filter_narrows_the_list_and_its_counts(stack, sessions):
    ann = await new_inbox(stack)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    sent = await asyncio.gather(
        send_in_app(stack, ann.external_id, "plain"),
        send_in_app(
            stack,
            ann.external_id,
            "urgent",
            event_key="billing.due",
            priority="urgent",
            inbox={"tags": ["billing", "eu"], "expires_at": later},
        ),
        send_in_app(stack, ann.external_id, "tagged", inbox={"tags": ["billing"]}),
        send_in_app(stack, ann.external_id, "read"),
        send_in_app(stack, ann.external_id, "archived"),
        send_in_app(stack, ann.external_id, "snoozed"),
        send_in_app(stack, ann.external_id, "expired"),
    )
    plain, urgent, tagged, read, archived, snoozed, expired = sent
    await change(ann, "read", ids=[read])
    await change(ann, "archive", ids=[archived])
    await set_message(sessions, snoozed, snoozed_until=datetime.now(UTC) + timedelta(hours=1))
    await set_message(sessions, expired, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    feed = await listed(ann)
    assert {m["id"] for m in feed} == {plain, urgent, tagged, read}
    stamps = [(m["created_at"], m["id"]) for m in feed]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    [shown] = [m for m in feed if m["id"] == urgent]
    assert (shown["priority"], shown["category"], shown["tags"]) == (
        "urgent",
        "billing.due",
        ["billing", "eu"],
    )
    assert datetime.fromisoformat(shown["expires_at"]) == datetime.fromisoformat(later)

    expected = {
        (): {plain, urgent, tagged, read},
        (("read", "true"),): {read},
        (("read", "false"),): {plain, urgent, tagged},
        (("archived", "true"),): {archived},
        (("snoozed", "true"),): {snoozed},
        (("priority", "urgent"),): {urgent},
        (("category", "billing.due"),): {urgent},
        (("tag", "billing"),): {urgent, tagged},
        (("tag", "billing"), ("tag", "eu")): {urgent},
        (("read", "false"), ("tag", "billing")): {urgent, tagged},
    }
    assert {name for params in expected for name, _ in params} == set(FILTERS)
    for params, ids in expected.items():
        response = await ann.client.get("/v1/inbox", params=list(params))
        messages = response.json()["data"]
        assert {m["id"] for m in messages} == ids, params
        counts = await ann.client.get("/v1/inbox/counts", params=list(params))
        assert counts.json() == counts_of(messages), params

    # Several filters' counts at once, each as GET /v1/inbox/counts answers it.
    filters = [{}, {"read": False}, {"archived": True}, {"tags": ["billing"]}]
    response = await ann.client.post("/v1/inbox/counts", json={"filters": filters})
    assert response.status_code == 200, response.text
    answers = response.json()["data"]
    assert [a["filter"]["tags"] for a in answers] == [[], [], [], ["billing"]]
    singles = [
        await counted(ann),
        await counted(ann, read="false"),
        await counted(ann, archived="true"),
        await counted(ann, tag="billing"),
    ]
    assert [{k: a[k] for k in ("total", "unread", "unseen")} for a in answers] == singles
    assert singles[0] == {"total": 4, "unread": 3, "unseen": 3}


async def test_expired_messages_are_hidden_everywhere_and_change_no_more(stack, sessions):
    ann = await new_inbox(stack)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    kept = await send_in_app(stack, ann.external_id, "kept")
    expiring = await send_in_app(
        stack, ann.external_id, "expiring", inbox={"expires_at": soon.isoformat()}
    )
    assert await listed_ids(ann) == {kept, expiring}
    await set_message(sessions, expiring, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    assert await listed_ids(ann) == {kept}
    assert await listed_ids(ann, read="false") == {kept}
    assert (await counted(ann))["total"] == 1
    recent = (await ann.client.get("/v1/inbox/recent")).json()["data"]
    assert [m["id"] for m in recent] == [kept]
    assert (await change(ann, "read", ids=[expiring]))["updated"] == 0
    click = await ann.client.post(f"/v1/inbox/messages/{expiring}/click")
    assert click.status_code == 404, click.text


async def test_pages_have_no_duplicates_or_gaps_while_messages_arrive(stack, sessions):
    ann = await new_inbox(stack)
    first = await send_in_app(stack, ann.external_id)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    existing = [
        first,
        *await copy_message(sessions, first, 12),
        # Many at one instant: the id orders them, and a page may end between two of them.
        *await copy_message(sessions, first, 12, created_at=an_hour_ago),
    ]
    shown: list[dict] = []
    cursor, arrived = None, 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        response = await ann.client.get("/v1/inbox", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= 5
        shown += page["data"]
        arrived += len(await copy_message(sessions, first, 3))  # new ones, between pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [m["id"] for m in shown]
    assert len(ids) == len(set(ids)) == len(existing)  # no duplicates
    assert set(ids) == set(existing)  # no gaps
    positions = [(datetime.fromisoformat(m["created_at"]), uuid.UUID(m["id"])) for m in shown]
    assert positions == sorted(positions, reverse=True)
    assert len(await listed(ann, limit=200)) == len(existing) + arrived  # they are there


async def test_counts_are_not_capped(stack, sessions):
    ann = await new_inbox(stack)
    first = await send_in_app(stack, ann.external_id)
    others = await copy_message(sessions, first, 149)
    assert await counted(ann) == {"total": 150, "unread": 150, "unseen": 150}
    assert (await change(ann, "seen", filter={}))["updated"] == 150
    marked = await change(ann, "read", ids=others[:30])
    assert marked == {"updated": 30, "counts": {"total": 150, "unread": 120, "unseen": 0}}
    assert await counted(ann, read="false") == {"total": 120, "unread": 120, "unseen": 0}


async def test_bulk_changes_by_ids_and_by_filter_record_one_event_each(stack, sessions):
    ann, bob = await new_inbox(stack), await new_inbox(stack)
    a1, a2, a3, a4, b1 = await asyncio.gather(
        send_in_app(stack, ann.external_id, "one"),
        send_in_app(stack, ann.external_id, "two"),
        send_in_app(stack, ann.external_id, "bill", event_key="billing.due"),
        send_in_app(stack, ann.external_id, "four"),
        send_in_app(stack, bob.external_id, "bob's"),
    )
    before, bob_before = (
        await last_event(sessions, ann.recipient_id),
        await last_event(sessions, bob.recipient_id),
    )

    async def one_event(kind: str, ids: list[str], change_name: str | None, answer: dict):
        nonlocal before
        events = await inbox_events(sessions, ann.recipient_id, before)
        assert [e.kind for e in events] == [kind], events
        [event] = events
        assert event.data["ids"] == sorted(ids, key=uuid.UUID)
        if change_name is not None:
            assert event.data["change"] == change_name and event.data["at"]
        assert event.data["counts"] == answer["counts"]
        before = event.seq

    # By ids: bob's id changes nothing; only what changed is counted and named.
    read = await change(ann, "read", ids=[a1, a2, b1])
    assert read == {"updated": 2, "counts": {"total": 4, "unread": 2, "unseen": 2}}
    await one_event("messages.updated", [a1, a2], "read", read)
    assert b1 in await listed_ids(bob, read="false")
    assert await last_event(sessions, bob.recipient_id) == bob_before

    # Nothing to change: no event.
    assert (await change(ann, "read", ids=[a1]))["updated"] == 0
    assert await last_event(sessions, ann.recipient_id) == before

    unread = await change(ann, "unread", ids=[a1])
    assert unread["updated"] == 1 and unread["counts"]["unread"] == 3
    await one_event("messages.updated", [a1], "unread", unread)

    seen = await change(ann, "seen", filter={"read": False})
    assert seen["updated"] == 2 and seen["counts"]["unseen"] == 0  # a1 was seen when read
    await one_event("messages.updated", [a3, a4], "seen", seen)

    archived = await change(ann, "archive", filter={"category": "billing.due"})
    assert archived == {"updated": 1, "counts": {"total": 3, "unread": 2, "unseen": 0}}
    await one_event("messages.updated", [a3], "archived", archived)
    assert await listed_ids(ann) == {a1, a2, a4}
    assert await listed_ids(ann, archived="true") == {a3}

    back = await change(ann, "unarchive", filter={"archived": True})
    assert back["updated"] == 1 and back["counts"]["total"] == 4
    await one_event("messages.updated", [a3], "unarchived", back)

    everything = await change(ann, "read", filter={})
    assert everything["updated"] == 3 and everything["counts"]["unread"] == 0
    await one_event("messages.updated", [a1, a3, a4], "read", everything)
    assert b1 in await listed_ids(bob, read="false")  # a filter never reaches another inbox


async def test_delete_read_deletes_every_read_message_once(stack, sessions):
    ann = await new_inbox(stack)
    kept, read, read_archived = await asyncio.gather(
        send_in_app(stack, ann.external_id, "kept"),
        send_in_app(stack, ann.external_id, "read"),
        send_in_app(stack, ann.external_id, "read, archived"),
    )
    await change(ann, "read", ids=[read, read_archived])
    await change(ann, "archive", ids=[read_archived])
    before = await last_event(sessions, ann.recipient_id)

    response = await ann.client.delete("/v1/inbox/read")
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": 2, "counts": {"total": 1, "unread": 1, "unseen": 1}}
    [event] = await inbox_events(sessions, ann.recipient_id, before)
    assert event.kind == "messages.deleted"
    assert event.data["ids"] == sorted([read, read_archived], key=uuid.UUID)
    assert await listed_ids(ann) == {kept} and await listed_ids(ann, archived="true") == set()

    again = await ann.client.delete("/v1/inbox/read")
    assert again.json()["deleted"] == 0
    assert await last_event(sessions, ann.recipient_id) == event.seq


async def test_recent_is_the_newest_of_the_feed_read_or_not(stack, sessions):
    ann = await new_inbox(stack)
    first = await send_in_app(stack, ann.external_id, "old")
    older = await copy_message(sessions, first, 12, datetime.now(UTC) - timedelta(days=1))
    newest = [await send_in_app(stack, ann.external_id, f"new {n}") for n in range(3)]
    await change(ann, "read", ids=[newest[0]])
    await change(ann, "archive", ids=[newest[1]])

    response = await ann.client.get("/v1/inbox/recent")
    assert response.status_code == 200, response.text
    recent = [m["id"] for m in response.json()["data"]]
    assert len(recent) == 10  # the default
    assert recent[:3] == [newest[2], newest[0], first]  # read or not; not the archived one
    assert set(recent[3:]) <= set(older)
    three = (await ann.client.get("/v1/inbox/recent", params={"limit": 3})).json()["data"]
    assert [m["id"] for m in three] == recent[:3]
    for limit in (0, 51):
        refused = await ann.client.get("/v1/inbox/recent", params={"limit": limit})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "limit"


async def test_bad_input_is_refused_naming_the_field_and_nothing_changes(stack, sessions):
    ann = await new_inbox(stack)
    message = await send_in_app(stack, ann.external_id)
    before = await last_event(sessions, ann.recipient_id)
    bad_bodies: dict[str, list[dict[str, Any]]] = {
        "ids": [{"ids": []}, {}, {"ids": [message] * 501}],
        "ids.0": [{"ids": ["not-a-uuid"]}],
        "filter": [{"ids": [message], "filter": {}}, {"filter": "all"}],
        "filter.bogus": [{"filter": {"bogus": 1}}],
        "filter.read": [{"filter": {"read": "yes"}}],
        "filter.priority": [{"filter": {"priority": "loud"}}],
        "filter.category": [{"filter": {"category": "Not A Key"}}],
        "filter.tags": [{"filter": {"tags": [f"t{n}" for n in range(11)]}}],
        "filter.tags.0": [{"filter": {"tags": ["x" * 51]}}, {"filter": {"tags": [""]}}],
        "everything": [{"ids": [message], "everything": True}],
    }
    for action in ("read", "unread", "seen", "archive", "unarchive"):
        for field, bodies in bad_bodies.items():
            for body in bodies:
                response = await ann.client.post(f"/v1/inbox/{action}", json=body)
                assert response.status_code == 422, (action, body, response.text)
                named = [e["field"] for e in response.json()["errors"]]
                assert field in named, (body, response.text)
    bad_queries: dict[str, dict[str, Any]] = {
        "read": {"read": "maybe"},
        "archived": {"archived": "perhaps"},
        "priority": {"priority": "loud"},
        "category": {"category": "Not A Key"},
        "tag": {"tag": [f"t{n}" for n in range(11)]},
        "tag.0": {"tag": ["x" * 51]},
        "cursor": {"cursor": "bm90IGEgY3Vyc29y"},
        "limit": {"limit": 201},
    }
    for field, params in bad_queries.items():
        for path in ("/v1/inbox", "/v1/inbox/counts"):
            if path.endswith("counts") and field in ("cursor", "limit"):
                continue
            response = await ann.client.get(path, params=params)
            assert response.status_code == 422, (path, params, response.text)
            assert response.json()["errors"][0]["field"] == field, response.text
    too_many: list[dict[str, Any]] = [{"filters": [{}] * 21}, {"filters": []}, {}]
    for counted_filters in too_many:
        response = await ann.client.post("/v1/inbox/counts", json=counted_filters)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "filters"
    click = await ann.client.post("/v1/inbox/messages/not-a-uuid/click")
    assert click.status_code == 422 and click.json()["errors"][0]["field"] == "message_id"

    assert await last_event(sessions, ann.recipient_id) == before  # nothing written
    [unchanged] = await listed(ann)
    assert unchanged["read_at"] is None and unchanged["seen_at"] is None
    assert unchanged["archived_at"] is None


async def test_a_notification_carries_inbox_options_within_bounds(stack, sessions):
    ann = await new_inbox(stack)
    expires_at = datetime.now(UTC) + timedelta(days=7)
    options = {"tags": ["billing", "eu"], "expires_at": expires_at.isoformat()}
    message = await send_in_app(stack, ann.external_id, inbox=options)
    [shown] = await listed(ann)
    assert shown["id"] == message and shown["tags"] == ["billing", "eu"]
    assert datetime.fromisoformat(shown["expires_at"]) == expires_at
    logs = (await stack.api.get("/v1/logs", params={"recipient": ann.external_id})).json()
    notification = await stack.notification(logs["data"][0]["notification_id"])
    assert notification["inbox"]["tags"] == ["billing", "eu"]
    assert datetime.fromisoformat(notification["inbox"]["expires_at"]) == expires_at

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    send_at = datetime.now(UTC) + timedelta(days=2)
    refused: dict[str, dict[str, Any]] = {
        "inbox.tags": {"tags": [f"t{n}" for n in range(11)]},
        "inbox.tags.0": {"tags": ["x" * 51]},
        "inbox.expires_at": {"expires_at": past},
        "inbox.bogus": {"bogus": True},
    }
    naive = {"expires_at": "2099-01-01T09:00:00"}
    cases: list[tuple[str, dict[str, Any], str | None]] = [
        (field, options, None) for field, options in refused.items()
    ]
    cases += [("inbox.expires_at", naive, None)]
    before_send = {"expires_at": (send_at - timedelta(days=1)).isoformat()}
    cases += [("inbox.expires_at", before_send, send_at.isoformat())]
    for field, inbox, when in cases:
        body = {
            "recipient": {"external_id": ann.external_id},
            "event_key": "inbox.note",
            "channels": ["in_app"],
            "context": {"title": "refused"},
            "inbox": inbox,
        } | ({"send_at": when} if when else {})
        response = await stack.api.post("/v1/notifications", json=body)
        assert response.status_code == 422, (inbox, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
    after = (await stack.api.get("/v1/logs", params={"recipient": ann.external_id})).json()
    assert len(after["data"]) == 1  # none of the refused was stored
