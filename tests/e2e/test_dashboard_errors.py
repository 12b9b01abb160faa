"""The dashboard's error pages (web/error_pages.py) at the HTTP level: Temporal unreachable, the
database down or an unexpected error on a /dashboard path answers the browser with an HTML page
in the dashboard's layout (503 with Retry-After, 500 without a word of the error), and an htmx
request with a notice for the page's notice area; the API's routes still answer problem+json."""

import html
import uuid

import httpx
from pydantic import SecretStr

from api.app import create_app
from api.deps import get_session
from config.settings import Settings
from db.session import create_engine, session_factory
from tests.conftest import new_tenant
from tests.e2e.test_database_restart import own_postgres, stop  # noqa: F401  (a fixture)
from tests.e2e.test_resend import failed_delivery
from tests.e2e.test_templates_api import create, email_template
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.dashboard import signed_in_operator
from tests.utils.dashboard_forms import csrf_of
from tests.utils.serving import serving

HTMX = {"HX-Request": "true"}
TEMPORAL_DOWN = "Herald could not reach Temporal, which runs its notifications"
DATABASE_DOWN = "Herald could not reach its database"
NOTICE_HEADERS = {"hx-retarget": "#page-notice", "hx-reswap": "innerHTML", "hx-reselect": "unset"}


def assert_page(response: httpx.Response, status: int, says: str, signed_in: bool = True) -> str:
    """An HTML page of the dashboard's layout with `status`, saying `says`; its text."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    page = html.unescape(response.text)
    assert says in page, page
    assert '<main id="main"' in page and 'id="page-notice"' in page  # base.html's layout
    assert ('<nav class="sidenav"' in page) == signed_in  # the navigation: signed in or not
    assert "Traceback" not in page
    if status == 503:
        assert response.headers["retry-after"] == "5"
    return page


def assert_notice(response: httpx.Response, status: int, says: str) -> None:
    """htmx's answer: a short notice, sent to the page's notice area, not a whole page."""
    assert response.status_code == status, response.text
    assert {name: response.headers.get(name) for name in NOTICE_HEADERS} == NOTICE_HEADERS
    assert response.text.startswith('<p class="notice-error" role="alert">'), response.text
    assert says in html.unescape(response.text) and "<main" not in response.text


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_temporal_unreachable_during_a_test_send_is_an_html_503_page(
    stack,
    owner_browser,
    unreachable_temporal,  # noqa: F811
):
    template = await create(stack.api, email_template())
    editor = await owner_browser.get(f"/dashboard/templates/{template['id']}")
    stack.app.state.temporal = unreachable_temporal
    try:
        sent = await owner_browser.post(
            f"/dashboard/templates/{template['id']}/test",
            data={"csrf_token": csrf_of(editor.text), "to": f"{uuid.uuid4().hex[:8]}@example.com"},
        )
        api = await stack.api.post(
            f"/v1/templates/{template['id']}/test", json={"email": "ada@example.com"}
        )
    finally:
        stack.app.state.temporal = stack.client
    page = assert_page(sent, 503, TEMPORAL_DOWN)
    assert "<title>Temporarily unavailable · Herald</title>" in page
    assert_problem(api, 503, "temporal_unavailable")  # the API's route: problem+json as before


async def test_temporal_unreachable_during_a_resend_is_an_html_503_page(
    stack,
    smtp,
    owner_browser,
    unreachable_temporal,  # noqa: F811
):
    failed, _ = await failed_delivery(stack, smtp)
    await failed_delivery(stack, smtp)  # for the resend of every failure, once one is resent
    [delivery] = failed["deliveries"]
    page = await owner_browser.get(f"/dashboard/history/{delivery['id']}")
    token = csrf_of(page.text)
    stack.app.state.temporal = unreachable_temporal
    try:
        one = await owner_browser.post(
            f"/dashboard/history/{delivery['id']}/resend", data={"csrf_token": token}
        )
        matching = await owner_browser.post(
            "/dashboard/history/resend", data={"csrf_token": token, "status": "failed"}
        )
    finally:
        stack.app.state.temporal = stack.client
    # Each on its own page, saying why (the service's words), as a 503 to retry.
    assert_page(one, 503, "Temporal could not be reached")
    assert_page(matching, 503, "Temporal could not be reached")


async def test_the_database_down_is_an_html_503_page_and_the_api_still_problem_json(
    own_postgres,  # noqa: F811
    temporal_env,
):
    server, data = own_postgres
    engine = create_engine(server.get_uri(), pool_size=2)
    sessions = session_factory(engine)
    tenant_id, key = await new_tenant(sessions)
    settings = Settings(
        database_url=server.get_uri(),
        embedded_worker=False,
        secret_key=SecretStr("dashboard-errors-test-key-0123456789"),
    )
    owner = await signed_in_operator(sessions, settings, tenant_id)
    await engine.dispose()
    app = create_app(settings, temporal=temporal_env.client)
    async with serving(app, key) as api:
        browser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://herald", cookies=owner.cookies
        )
        async with browser:
            assert (await browser.get("/dashboard/history")).status_code == 200
            stop(data)
            # Signing the operator in reads the database: the page has no navigation to offer.
            for path in ("/dashboard", "/dashboard/history", "/dashboard/recipients"):
                assert_page(await browser.get(path), 503, DATABASE_DOWN, signed_in=False)
            polled = await browser.get("/dashboard/history", headers=HTMX)
            assert_notice(polled, 503, DATABASE_DOWN)
            assert polled.headers["retry-after"] == "5"
            assert_problem(await api.get("/v1/logs"), 503, "database_unavailable")
            server.ensure_postgres_running()


async def test_an_unexpected_error_is_an_html_500_page_without_internals(stack, owner):
    async def broken_session():
        raise RuntimeError("secret internals: password=hunter2")
        yield  # pragma: no cover  (a generator dependency, like the real one)

    stack.app.dependency_overrides[get_session] = broken_session
    # The server error middleware answers, then raises the error again for the server's log.
    transport = httpx.ASGITransport(app=stack.app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://herald", cookies=owner.cookies
        ) as browser:
            page = await browser.get("/dashboard/history")
            part = await browser.get("/dashboard/history", headers=HTMX)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://herald", headers=stack.api.headers
        ) as api:
            problem = await api.get("/v1/logs")
    finally:
        stack.app.dependency_overrides.clear()
    shown = assert_page(page, 500, "Something went wrong on Herald's side")
    assert "retry-after" not in page.headers
    assert_notice(part, 500, "Something went wrong on Herald's side")
    for text in (shown, part.text):
        assert "hunter2" not in text and "RuntimeError" not in text
    assert_problem(problem, 500, "internal_error")
