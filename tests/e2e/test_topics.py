"""Topics on real servers: subscribers added and removed many at once (one statement each), the
topic created by its first subscribers, cursor paging of topics, of a topic's subscribers and of
a recipient's topics; refusals that name the field and write nothing; another tenant's topics
out of reach."""

import uuid

import psycopg

from tests.conftest import new_tenant
from tests.e2e.test_api_contract import assert_problem
from tests.utils.audience import Member, copy_recipients


async def seed(database_url: str, tenant_id: uuid.UUID, count: int) -> list[str]:
    """`count` recipients of the tenant (one COPY); their external ids."""
    run = uuid.uuid4().hex[:8]
    members = [Member(f"t-{run}-{i:04d}", f"t-{run}-{i:04d}@example.com") for i in range(count)]
    await copy_recipients(database_url, tenant_id, members)
    return [m.external_id for m in members]


async def every_page(api, path: str, limit: int) -> list[list[dict]]:
    """Each page of a listing, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json()["data"])
        if not (cursor := response.json()["next_cursor"]):
            return pages


async def topic_rows(database_url: str, tenant_id: uuid.UUID) -> tuple[int, int]:
    """(topics, subscriptions) the tenant has in the tables."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        topics = await (
            await conn.execute("SELECT count(*) FROM topics WHERE tenant_id = %s", (tenant_id,))
        ).fetchone()
        subscriptions = await (
            await conn.execute(
                "SELECT count(*) FROM topic_subscriptions WHERE tenant_id = %s", (tenant_id,)
            )
        ).fetchone()
    assert topics is not None and subscriptions is not None
    return topics[0], subscriptions[0]


async def test_subscribers_are_added_removed_and_paged(stack, database_url):
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 120)

    added = await api.put("/v1/topics/news/subscribers", json={"recipients": ids[:100]})
    assert added.status_code == 200, added.text
    assert added.json() == {"key": "news", "created": True, "added": 100}
    # Again, overlapping: only the new ones are added, and duplicates in one call count once.
    again = await api.put("/v1/topics/news/subscribers", json={"recipients": ids[90:] + ids[110:]})
    assert again.json() == {"key": "news", "created": False, "added": 20}
    assert await topic_rows(database_url, stack.tenant_id) == (1, 120)

    pages = await every_page(api, "/v1/topics/news/subscribers", 50)
    assert [len(p) for p in pages] == [50, 50, 20]
    listed = [s["external_id"] for p in pages for s in p]
    assert sorted(listed) == sorted(ids) and len(set(listed)) == 120

    mine = await api.get(f"/v1/recipients/{ids[0]}/topics")
    assert [t["key"] for t in mine.json()["data"]] == ["news"], mine.text

    removed = await api.request(
        "DELETE", "/v1/topics/news/subscribers", json={"recipients": ids[:30]}
    )
    assert removed.json() == {"key": "news", "removed": 30}, removed.text
    removed_again = await api.request(
        "DELETE", "/v1/topics/news/subscribers", json={"recipients": ids[:30]}
    )
    assert removed_again.json()["removed"] == 0
    left = [s["external_id"] for p in await every_page(api, "/v1/topics/news/subscribers", 200)
            for s in p]  # fmt: skip
    assert sorted(left) == sorted(ids[30:])
    assert (await api.get(f"/v1/recipients/{ids[0]}/topics")).json()["data"] == []

    deleted = await api.delete("/v1/topics/news")
    assert deleted.status_code == 204, deleted.text
    assert await topic_rows(database_url, stack.tenant_id) == (0, 0)
    assert_problem(await api.get("/v1/topics/news/subscribers"), 404, "not_found")
    assert_problem(await api.delete("/v1/topics/news"), 404, "not_found")
    # The recipients themselves stay.
    assert (await api.get(f"/v1/recipients/{ids[0]}")).status_code == 200


async def test_topics_and_a_recipients_topics_are_paged_by_key(stack, database_url):
    api = stack.api
    [who] = await seed(database_url, stack.tenant_id, 1)
    keys = ["alpha", "beta.1", "city:berlin", "delta_x", "echo-2"]
    for key in reversed(keys):
        response = await api.put(f"/v1/topics/{key}/subscribers", json={"recipients": [who]})
        assert response.status_code == 200, response.text
    pages = await every_page(api, "/v1/topics", 2)
    assert [[t["key"] for t in p] for p in pages] == [keys[:2], keys[2:4], keys[4:]]
    pages = await every_page(api, f"/v1/recipients/{who}/topics", 3)
    assert [[t["key"] for t in p] for p in pages] == [keys[:3], keys[3:]]
    assert_problem(
        await api.get("/v1/topics", params={"cursor": "nonsense"}), 422, "validation_error"
    )
    assert_problem(await api.get(f"/v1/recipients/nobody-{uuid.uuid4()}/topics"), 404, "not_found")


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def test_refusals_name_the_field_and_write_nothing(stack, database_url):
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 3)
    assert (await api.put("/v1/topics/kept/subscribers", json={"recipients": ids[:1]})).is_success
    before = await topic_rows(database_url, stack.tenant_id)

    unknown = [f"ghost-{i}" for i in range(7)]
    refused = await api.put("/v1/topics/fresh/subscribers", json={"recipients": ids + unknown})
    problem = assert_problem(refused, 422, "validation_error")
    assert fields(refused) == ["recipients"]
    for ghost in unknown[:5]:  # the first few, in the order given
        assert repr(ghost) in problem["detail"], problem
    assert "ghost-5" not in problem["detail"] and "and more" in problem["detail"]
    # On an existing topic too: none of the known ones is added.
    refused = await api.put("/v1/topics/kept/subscribers", json={"recipients": ids + unknown})
    assert fields(refused) == ["recipients"]
    refused = await api.request(
        "DELETE", "/v1/topics/kept/subscribers", json={"recipients": ids[:1] + unknown[:1]}
    )
    assert fields(refused) == ["recipients"] and "'ghost-0'" in refused.json()["detail"]

    for bad_key in ("Upper", "-dash-first", "a" * 101, "sp ace", "new%0Aline"):
        refused = await api.put(f"/v1/topics/{bad_key}/subscribers", json={"recipients": ids})
        problem = assert_problem(refused, 422, "validation_error")
        assert fields(refused) == ["key"] and "[a-z0-9][a-z0-9._:-]*" in problem["detail"]
    assert fields(await api.put("/v1/topics/x/subscribers", json={"recipients": []})) == [
        "recipients"
    ]
    too_many = {"recipients": [f"r{i}" for i in range(1001)]}
    assert fields(await api.put("/v1/topics/x/subscribers", json=too_many)) == ["recipients"]
    assert fields(await api.put("/v1/topics/x/subscribers", json={"recipient": ids})) != []
    assert_problem(
        await api.request("DELETE", "/v1/topics/absent/subscribers", json={"recipients": ids}),
        404,
        "not_found",
    )
    assert await topic_rows(database_url, stack.tenant_id) == before


async def test_another_tenant_can_neither_read_nor_change_a_topic(stack, database_url, sessions):
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 2)
    assert (await api.put("/v1/topics/private/subscribers", json={"recipients": ids})).is_success
    b_id, b_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(b_key)

    assert (await other.get("/v1/topics")).json()["data"] == []
    assert_problem(await other.get("/v1/topics/private/subscribers"), 404, "not_found")
    assert_problem(await other.delete("/v1/topics/private"), 404, "not_found")
    refused = await other.request(
        "DELETE", "/v1/topics/private/subscribers", json={"recipients": ids}
    )
    assert_problem(refused, 404, "not_found")
    assert_problem(await other.get(f"/v1/recipients/{ids[0]}/topics"), 404, "not_found")
    # A's recipients are unknown to B: B cannot subscribe them, to its own topic or any.
    refused = await other.put("/v1/topics/private/subscribers", json={"recipients": ids})
    assert fields(refused) == ["recipients"]
    assert await topic_rows(database_url, b_id) == (0, 0)
    assert await topic_rows(database_url, stack.tenant_id) == (1, 2)
