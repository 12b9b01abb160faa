"""The dashboard's routers, mounted under /dashboard by `mount_dashboard` (api/app.py).

Adding a page (see web/pages.py): a module here with `router = APIRouter(include_in_schema=False)`
and a GET on the page's path, listed in ROUTERS; its placeholder then goes away by itself."""

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from config.settings import Settings
from web.auth import check_csrf, install_access
from web.error_pages import install_error_pages
from web.pages import dev_mailbox_enabled, navigation
from web.routes import (
    access,
    analytics,
    dev_mailbox,
    health,
    history,
    overview,
    recipients,
    scheduled,
    send,
    team,
    template_preview,
    template_versions,
    templates,
    tenant_settings,
)
from web.routes.placeholders import placeholder_router
from web.templating import STATIC_DIRECTORY, STATIC_PATH, forbidden_page

ROUTERS: list[APIRouter] = [
    overview.router,
    health.router,
    access.router,
    team.router,
    recipients.router,
    scheduled.router,
    # The preview's fixed paths before the editor's /{template_id} (a UUID only, all the same).
    template_preview.router,
    template_versions.router,
    templates.router,
    analytics.router,
    tenant_settings.router,
    history.router,
    send.router,
]


def mount_dashboard(app: FastAPI, settings: Settings) -> None:
    """The dashboard's access (web/auth.py: sign-in redirects, role and CSRF refusals), its
    error pages (web/error_pages.py: after the API's handlers, which it wraps), static files and
    pages; the Dev mailbox only where it may exist."""
    install_access(app, settings, forbidden_page)
    install_error_pages(app)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIRECTORY), name="dashboard-static")
    routers = [*ROUTERS, *([dev_mailbox.router] if dev_mailbox_enabled(settings) else [])]
    served = {
        route.path
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }
    unbuilt = [page for page in navigation(settings) if page.path not in served]
    # Every dashboard request that changes something carries the session's CSRF token.
    for router in [*routers, placeholder_router(unbuilt)]:
        app.include_router(router, dependencies=[Depends(check_csrf)])
