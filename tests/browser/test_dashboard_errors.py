"""The dashboard's error notice in Chromium (web/error_pages.py): when a part of a page updating
itself (htmx) meets an error, the page shows the notice in its notice area and keeps the part as
it was (base.html's htmx configuration swaps 5xx answers; the server retargets them)."""

from playwright.async_api import expect

from api.deps import get_session
from tests.browser.conftest import ConsoleWatch, NewPage
from tests.browser.dashboard import Dashboard


async def test_an_error_answering_a_part_of_the_page_is_shown_in_its_notice_area(
    dashboard: Dashboard, new_page: NewPage, console: ConsoleWatch
):
    page = await dashboard.open(new_page, "/dashboard/send")
    fields = page.locator("#message-fields")
    await expect(fields).to_be_attached()  # empty until an event is chosen
    before = await fields.inner_html()

    async def broken_session():
        raise RuntimeError("secret internals: password=hunter2")
        yield  # pragma: no cover  (a generator dependency, like the real one)

    app = dashboard.served.stack.app
    assert app is not None
    app.dependency_overrides[get_session] = broken_session
    # The browser logs the failed request, and htmx the error it reports (htmx:responseError).
    console.allow(r"(status of|Status Error Code) 500")
    try:
        # The event's fields come from the server (hx-get on change): now a 500.
        await page.get_by_label("Event").select_option("booking.confirmation")
        notice = page.locator("#page-notice [role=alert]")
        await expect(notice).to_contain_text("Something went wrong on Herald's side")
    finally:
        app.dependency_overrides.clear()
    assert "hunter2" not in await page.content()
    assert await fields.inner_html() == before  # the part asked for is left as it was
