"""A "not built yet" page, within the layout, at the path of every navigation page no router
serves yet: the navigation never leads to a 404 while the dashboard is being built."""

from collections.abc import Awaitable, Callable, Iterable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.auth import CurrentOperator
from web.pages import Page
from web.templating import render


def placeholder_router(pages: Iterable[Page]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for page in pages:
        router.add_api_route(
            page.path, _placeholder(page), methods=["GET"], name=f"{page.key}_placeholder"
        )
    return router


def _placeholder(page: Page) -> Callable[..., Awaitable[HTMLResponse]]:
    async def placeholder_page(request: Request, _: CurrentOperator) -> HTMLResponse:
        return render(request, "placeholder.html", page=page.key)

    return placeholder_page
