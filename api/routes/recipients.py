"""PUT/PATCH/GET /v1/recipients/{external_id}; a person's privacy requests: their data's
export and their consent history."""

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import ApiKeyIdDep, SessionDep, SessionsDep, TemporalDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.common import ExternalId
from api.schemas.consent import ConsentPage
from api.schemas.erasure import ErasurePublic
from api.schemas.merge_patch import merge_patch_body
from api.schemas.notifications import RecipientFields, RecipientPublic
from services import consent, erasure, recipient_export, recipients

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])

RecipientPatch = Annotated[
    dict[str, Any],
    merge_patch_body(
        "the recipient's contact details",
        "it takes its default",
        {
            "new number": {"phone": "+14155550123"},
            "no email": {"email": None},
            "on Slack, off Discord": {"chat_addresses": {"slack": "U024BE7LH", "discord": None}},
        },
    ),
]


@router.put("/{external_id}", response_model=RecipientPublic)
async def put_recipient(
    external_id: ExternalId, body: RecipientFields, tenant: TenantDep, session: SessionDep
) -> RecipientPublic:
    """Create a recipient, or replace its contact details whole: a field left out takes its
    default (no name, email, phone or chat addresses; `UTC`; `en`). To change some fields
    only, PATCH."""
    return await recipients.put_recipient(session, tenant, external_id, body)


@router.patch("/{external_id}", response_model=RecipientPublic)
async def patch_recipient(
    external_id: ExternalId, body: RecipientPatch, tenant: TenantDep, session: SessionDep
) -> RecipientPublic:
    """Change some contact details of an existing recipient (RFC 7396 merge patch). The result
    is validated whole: invalid, it is a 422 naming the field, and nothing is written."""
    return await recipients.patch_recipient(session, tenant, external_id, body)


@router.get("/{external_id}", response_model=RecipientPublic)
async def get_recipient(
    external_id: str, tenant: TenantDep, session: SessionDep
) -> RecipientPublic:
    return await recipients.read_recipient(session, tenant, external_id)


# Privacy requests: a person's data export and consent history.


@router.get(
    "/{external_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Everything Herald holds about the recipient, as one JSON document "
            "(an attachment): `generated_at`, `recipient`, `preferences` (effective, overrides, "
            "unsubscribed), then `devices`, `topic_subscriptions`, `suppressions`, "
            "`invalid_addresses`, `consent_events`, `bookings`, `in_app_messages` and "
            "`notifications` (each with its `deliveries`), every list newest first. Streamed: "
            "a download cut short is not valid JSON.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def export_recipient(
    external_id: ExternalId, tenant: TenantDep, sessions: SessionsDep
) -> StreamingResponse:
    """A person's data export (a subject access request): written while it is read, a page
    at a time, so a long history is never held in memory."""
    export = await recipient_export.export_recipient(sessions, tenant, external_id)
    return StreamingResponse(
        export.chunks,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",  # a person's data: no shared cache keeps it
        },
    )


@router.get("/{external_id}/consents", response_model=ConsentPage)
async def list_consents(
    external_id: ExternalId,
    tenant: TenantDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ConsentPage:
    """The recipient's consent history, newest first: each opt-in and opt-out, with where it
    came from (the preferences API, their inbox, the dashboard, an unsubscribe link, a spam
    report or a provider's unsubscribe) and when."""
    return await consent.list_consents(session, tenant, external_id, cursor, limit)


# Privacy requests: erasing a person.


@router.delete(
    "/{external_id}",
    response_model=ErasurePublic,
    responses={
        200: {"description": "Erased: the record of the erasure (who asked, when, counts)."},
        404: {
            "description": "No recipient with this external id (`not_found`): never one, or "
            "already erased (its external id no longer exists)."
        },
    },
)
async def erase_recipient(
    external_id: ExternalId,
    tenant: TenantDep,
    key_id: ApiKeyIdDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> ErasurePublic:
    """Erase a person (right to erasure): their contact details, preferences, devices, chat
    addresses, in-app messages, topic subscriptions and the personal content of their
    notifications and deliveries (addresses, subjects, context, errors), the bookings naming
    them and what Temporal holds about them (workflow histories deleted). Their waiting
    notifications and booking reminders are cancelled first. The recipient stays as an
    anonymous row, `erased:<recipient_id>`, so statistics keep counting its deliveries. Done
    once: a second DELETE is a 404."""
    return await erasure.erase_recipient(
        session, temporal, tenant, external_id, erasure.by_api_key(key_id)
    )
