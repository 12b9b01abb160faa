"""Web Push for the inbox widget: Herald's VAPID public key (GET /v1/inbox/push/public-key),
which browsers subscribe with, and the service worker that shows the pushes
(GET /v1/inbox/herald-sw.js). Both public: they hold nothing of a tenant's, and the widget
loads them from the tenant's pages (api/inbox_cors.py: `Access-Control-Allow-Origin: *`).
A browser's subscription is then registered as a device: PUT /v1/inbox/devices."""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.deps import SessionDep, SettingsDep
from api.routes.inbox_widget import script_answer
from api.routes.recipient_tokens import NO_SECRET_KEY
from api.schemas.push import PushPublicKey
from services import vapid

router = APIRouter(tags=["inbox"])

SERVICE_WORKER = "inbox/herald-sw.js"
# The key pair never changes (services/vapid.py): browsers may keep the answer a day.
PUBLIC_KEY_MAX_AGE = 24 * 3600


@router.get("/v1/inbox/push/public-key", response_model=PushPublicKey, responses=NO_SECRET_KEY)
async def get_push_public_key(
    session: SessionDep, settings: SettingsDep, response: Response
) -> PushPublicKey:
    """Herald's VAPID public key: the `applicationServerKey` a browser subscribes with. No
    credentials needed. The key pair is made on the first request (or a worker's start)."""
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_KEY_MAX_AGE}"
    return PushPublicKey(public_key=await vapid.public_vapid_key(session, settings))


@router.get(
    "/v1/inbox/herald-sw.js",
    response_class=Response,
    responses={
        200: {
            "content": {"text/javascript": {"schema": {"type": "string"}}},
            "description": "The service worker that shows Herald's pushes (README: Web Push).",
        },
        304: {"description": "The copy the browser holds (`If-None-Match`) is current."},
    },
)
async def get_service_worker(
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The service worker: on a push it shows the notification and tells the open pages;
    a click opens the notification's action URL. Registered by the widget where the page is
    on Herald's origin; on another origin the tenant serves a one-line worker that imports
    this one (`importScripts`), since a service worker must come from the page's origin.
    `Service-Worker-Allowed: /` lets a page on Herald's origin register it for any scope."""
    return script_answer(SERVICE_WORKER, if_none_match, {"Service-Worker-Allowed": "/"})
