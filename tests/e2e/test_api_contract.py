"""The API's contract is what it does: every refusal is RFC 9457 problem details, documented in
the OpenAPI document for each route that gives it, under an operation id a client can use.

The route-walking tests read the app's route list, so a route added later is covered too."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.deps import get_session
from api.inbox_cors import is_inbox_path
from api.schemas.pages import MAX_LIMIT, Page
from api.schemas.problems import PROBLEM_JSON, Problem
from tests.e2e.bookings_factory import (
    booking_event,
    eventually,
    new_address,
    new_booking_id,
    post_event,
)
from tests.e2e.inbox_factory import as_recipient, recipient_token
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_templates_api import create as create_template
from tests.e2e.test_templates_api import email_template
from tests.utils.routes import api_routes

# verb_noun at least (`list_logs`): a generated client's method names say what they do.
OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is problem details with this status and code, and shows no internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    problem = Problem.model_validate_json(response.text).model_dump()
    assert (problem["status"], problem["code"]) == (status, code), problem
    assert problem["type"].endswith(f":{code}") and problem["title"] and problem["detail"]
    assert "Traceback" not in response.text and " object at 0x" not in response.text
    return problem


def _operations(app) -> list[tuple[str, str, Any]]:
    """(method, full path, route) of every documented route."""
    return [
        (method, path, route)
        for path, route in api_routes(app)
        if route.include_in_schema
        for method in sorted(route.methods or ())
    ]


def _url(path: str) -> str:
    """The path with each parameter filled with an id nothing has: a fresh UUID fits them all."""
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def test_every_kind_of_refusal_is_problem_details(stack, sessions):
    api = stack.api
    assert_problem(await api.get("/v1/no-such-thing"), 404, "not_found")
    wrong_method = await api.delete("/v1/logs")
    assert_problem(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "GET"
    assert_problem(await api.get(f"/v1/notifications/{uuid.uuid4()}"), 404, "not_found")

    invalid = await api.post(
        "/v1/notifications", json=email_request("not-an-email", priority="extreme")
    )
    problem = assert_problem(invalid, 422, "validation_error")
    assert {e["field"] for e in problem["errors"]} == {"recipient.email", "priority"}

    oversized = email_request("big@example.com", context={"blob": "x" * (300 * 1024)})
    problem = assert_problem(
        await api.post("/v1/notifications", json=oversized), 413, "payload_too_large"
    )
    assert [e["field"] for e in problem["errors"]] == ["body"]

    headers = {"Idempotency-Key": f"contract-{uuid.uuid4()}"}
    first = await api.post(
        "/v1/notifications", json=email_request("a@example.com"), headers=headers
    )
    assert first.status_code == 202, first.text
    other = await api.post(
        "/v1/notifications", json=email_request("b@example.com"), headers=headers
    )
    assert_problem(other, 409, "idempotency_conflict")

    assert_problem(await api.post(f"/v1/unsubscribe/{uuid.uuid4()}"), 403, "invalid_token")


async def test_an_unexpected_error_is_a_500_problem_without_internals(stack):
    async def broken_session():
        raise RuntimeError("secret internals: password=hunter2")
        yield  # pragma: no cover  (a generator dependency, like the real one)

    stack.app.dependency_overrides[get_session] = broken_session
    try:
        transport = httpx.ASGITransport(app=stack.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://herald", headers=stack.api.headers
        ) as api:
            response = await api.get(f"/v1/notifications/{uuid.uuid4()}")
    finally:
        stack.app.dependency_overrides.clear()
    assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


async def test_malformed_json_is_a_400_naming_the_body_with_its_line_and_column(stack):
    body = b'{\n  "event_key": "payment.completed",\n  "channels": ["email",]\n}'
    response = await stack.api.post(
        "/v1/notifications", content=body, headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, "malformed_body")
    [error] = problem["errors"]
    assert error["field"] == "body"
    # The stray `]` after the comma: line 3, column 24 (both counted from 1).
    assert "is not valid JSON" in error["problem"] and "line 3, column 24" in error["problem"]
    assert problem["detail"] == f"body: {error['problem']}"

    latin1 = b'{"event_key": "caf\xe9"}'  # Latin-1, not UTF-8: byte 19 is the first not UTF-8
    not_utf8 = await stack.api.post(
        "/v1/notifications", content=latin1, headers={"Content-Type": "application/json"}
    )
    [error] = assert_problem(not_utf8, 400, "malformed_body")["errors"]
    assert error == {"field": "body", "problem": "is not valid JSON: not UTF-8 text at byte 19"}


async def test_every_401_says_how_to_authenticate(stack):
    """RFC 9110: a 401 carries WWW-Authenticate; Herald's keys are Bearer tokens (RFC 6750)."""
    checked = 0
    for method, path, _ in _operations(stack.app):
        for authorization in ("", "Bearer hk_not_a_key"):
            response = await stack.api.request(
                method, _url(path), headers={"Authorization": authorization}
            )
            if response.status_code != 401:
                continue  # a public route
            checked += 1
            assert_problem(response, 401, "unauthorized")
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith('Bearer realm="herald"'), (method, path, challenge)
            assert ('error="invalid_token"' in challenge) == bool(authorization), challenge
    assert checked >= 2 * 40  # every authenticated route, without a key and with a wrong one


async def test_operation_ids_are_the_route_functions_names(stack):
    schema = stack.app.openapi()
    seen: dict[str, str] = {}
    for method, path, route in _operations(stack.app):
        operation_id = schema["paths"][path][method.lower()]["operationId"]
        assert operation_id == route.endpoint.__name__, (method, path, operation_id)
        assert OPERATION_ID.match(operation_id), operation_id
        assert operation_id not in seen, f"{operation_id}: {seen.get(operation_id)} and {path}"
        seen[operation_id] = f"{method} {path}"


async def test_the_openapi_document_describes_every_error_as_a_problem(stack):
    schema = stack.app.openapi()
    assert "HTTPValidationError" not in str(schema) and "ValidationError" not in str(schema)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    assert set(schema["components"]["schemas"]["Problem"]["required"]) >= {
        "type",
        "title",
        "status",
        "detail",
        "code",
    }
    for method, path, _ in _operations(stack.app):
        responses = schema["paths"][path][method.lower()]["responses"]
        assert "500" in responses, (method, path)
        for status, response in responses.items():
            if int(status) < 400:
                continue
            content = response["content"]
            assert response["description"], (method, path, status)
            if status == "401":
                assert "WWW-Authenticate" in response["headers"], (method, path)
            if PROBLEM_JSON in content:
                assert content[PROBLEM_JSON]["schema"] == problem_ref, (method, path, status)
            else:  # a report of its own (the health check's 503), declared by its route
                assert "application/json" in content, (method, path, status)


async def test_every_status_a_route_answers_is_documented_for_it(stack):
    """Each route is asked with an id nothing has, with an empty body, with a body that is not
    JSON and with one over the size limit: whatever it answers, its document lists that status,
    and an error comes as problem details."""
    schema = stack.app.openapi()
    too_large = b"[" + b"0," * (stack.settings.max_request_bytes // 2) + b"0]"
    for method, path, _ in _operations(stack.app):
        documented = schema["paths"][path][method.lower()]["responses"]
        requests: list[dict[str, Any]] = [{}, {"headers": {"Authorization": ""}}]
        if method in ("POST", "PUT", "PATCH"):
            json_body = {"headers": {"Content-Type": "application/json"}}
            requests += [
                {"json": {}},
                {"content": b"{not json", **json_body},
                {"content": too_large, **json_body},
            ]
        for options in requests:
            response = await stack.api.request(method, _url(path), **options)
            status = str(response.status_code)
            assert status in documented, (method, path, status, response.text[:300], options.keys())
            if response.status_code >= 400 and PROBLEM_JSON in documented[status]["content"]:
                assert response.headers["content-type"] == PROBLEM_JSON, (method, path, status)
                Problem.model_validate_json(response.text)


async def test_the_docs_load_nothing_from_another_host(stack):
    """/docs and /redoc work on a network without the internet: every script, style and icon
    they reference is served by Herald itself."""
    for page in ("/docs", "/redoc"):
        response = await stack.api.get(page)
        assert response.status_code == 200, page
        references = re.findall(
            r"""(?:src|href|spec-url|url:)\s*=?\s*["']([^"']+)["']""", response.text
        )
        assert len(references) >= 2, (page, references)
        for reference in references:
            assert reference.startswith("/") and not reference.startswith("//"), (page, reference)
            asset = await stack.api.get(reference)
            assert asset.status_code == 200 and asset.content, (page, reference)
    assert '"validatorUrl": null' in (await stack.api.get("/docs")).text  # no swagger.io badge


def _page_model(route) -> bool:
    model = route.response_model
    return isinstance(model, type) and issubclass(model, Page)


# Lists that stay small whatever a tenant does: returned whole, as {"data": [...]}.
WHOLE_LISTS = {
    "list_template_variables": "Herald's fixed catalogue of template variables",
    "list_alerts": "the last 7 days of hourly failure-rate alerts",
    "recent_inbox": "a recipient's newest feed messages, at most 50",
}


async def test_every_list_route_pages_the_same_way(stack):
    """Every GET that answers a list takes `limit` (1 to MAX_LIMIT) and an opaque `cursor`, and
    answers {data, next_cursor}; a bad limit or cursor is a 422 naming it, never a 500."""
    template = await create_template(stack.api, email_template())
    recipient = as_recipient(stack, await recipient_token(stack.api))  # for /v1/inbox lists
    await stack.api.put("/v1/recipients/paged", json={"email": "paged@example.com"})
    topic = await stack.api.put("/v1/topics/paged/subscribers", json={"recipients": ["paged"]})
    assert topic.status_code == 200, topic.text
    endpoint = await stack.api.post(  # disabled: nothing is ever sent to its address
        "/v1/webhook-endpoints", json={"url": "https://93.184.215.14/paged", "enabled": False}
    )
    assert endpoint.status_code == 201, endpoint.text
    names = {
        "{template_id}": template["id"],
        "{key}": "paged",
        "{external_id}": "paged",
        "{endpoint_id}": endpoint.json()["id"],
    }
    lists = []
    for method, path, route in _operations(stack.app):
        if method != "GET" or route.name in WHOLE_LISTS:
            continue
        fields = getattr(route.response_model, "model_fields", {})
        if not _page_model(route):
            assert "data" not in fields, f"{path} answers a list that is not a Page"
            continue
        lists.append(path)
        url = path
        for name, value in names.items():
            url = url.replace(name, value)
        client = recipient if is_inbox_path(path) else stack.api
        assert {"limit", "cursor"} <= {p.name for p in route.dependant.query_params}, path
        for limit in ("0", str(MAX_LIMIT + 1), str(2**64), "-1", "ten"):
            refused = await client.get(url, params={"limit": limit})
            assert_problem(refused, 422, "validation_error")
            assert [e["field"] for e in refused.json()["errors"]] == ["limit"], (path, limit)
        for cursor in ("garbage", "W10", "WzEsMl0", "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5XQ", "x" * 201):
            refused = await client.get(url, params={"cursor": cursor})
            assert_problem(refused, 422, "validation_error")
            assert [e["field"] for e in refused.json()["errors"]] == ["cursor"], (path, cursor)
        answered = await client.get(url, params={"limit": MAX_LIMIT})
        assert answered.status_code == 200, (path, answered.text)
        assert set(answered.json()) == {"data", "next_cursor"}, path
    assert {"/v1/logs", "/v1/templates", "/v1/scheduled", "/v1/inbox"} <= set(lists)


async def test_scheduled_items_of_both_kinds_page_by_due_time(stack):
    soon = datetime.now(UTC) + timedelta(hours=2)
    for hours in (3, 1, 2):
        body = email_request(new_address(), send_at=(soon + timedelta(hours=hours)).isoformat())
        assert (await stack.api.post("/v1/notifications", json=body)).status_code == 202
    start = datetime.now(UTC) + timedelta(days=3)
    await post_event(stack, booking_event("booking.created", new_booking_id(), start))

    async def everything(limit: int) -> list[list[dict]]:
        pages, cursor = [], None
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            response = await stack.api.get("/v1/scheduled", params=params)
            assert response.status_code == 200, response.text
            pages.append(response.json()["data"])
            if not (cursor := response.json()["next_cursor"]):
                return pages

    # Three notifications and the booking's two reminders, once their workflows have planned.
    await eventually(lambda: everything(MAX_LIMIT), lambda pages: len(pages[0]) == 5)
    pages = await everything(2)
    assert [len(p) for p in pages] == [2, 2, 1]
    items = [item for p in pages for item in p]
    assert len({item["id"] for item in items}) == 5
    assert {item["kind"] for item in items} == {"notification", "booking_reminder"}
    due = [datetime.fromisoformat(item["due_at"]) for item in items]
    assert due == sorted(due)
