"""PUT/PATCH/GET /v1/recipients/{external_id}."""

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.schemas.common import ExternalId
from api.schemas.merge_patch import merge_patch_body
from api.schemas.notifications import RecipientFields, RecipientPublic
from services import recipients

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
