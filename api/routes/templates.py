"""/v1/templates: CRUD with immutable versions, preview, test send, variables, the email layout."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.common import EventKey
from api.schemas.notifications import NotificationAccepted
from api.schemas.templates import (
    LayoutPublic,
    LayoutPut,
    PreviewRequest,
    PreviewResult,
    TemplateCreate,
    TemplatePublic,
    TemplatesPublic,
    TemplateUpdate,
    TemplateVersionsPublic,
    TestSendRequest,
)
from domain.filters import TemplateFilter
from domain.templating import catalogue
from domain.types import Channel
from services import templates
from services.template_preview import preview, send_test

router = APIRouter(prefix="/v1/templates", tags=["templates"])


# "/variables" and "/layout" are not template ids: a template id matches only a UUID
# ({template_id:uuid}), so PUT /variables is a 405 naming the methods it has, not a PUT of
# template "variables" refused with a 422.
@router.get("/variables")
async def list_template_variables(tenant: TenantDep) -> dict[str, list[dict[str, Any]]]:
    """Every variable templates can use: name, description, example, the events that carry it."""
    return {"data": catalogue()}


@router.get("/layout", response_model=LayoutPublic)
async def get_layout(tenant: TenantDep, session: SessionDep) -> LayoutPublic:
    """The email layout that wraps every email body: the tenant's own, or Herald's."""
    return await templates.get_layout(session, tenant)


@router.put("/layout", response_model=LayoutPublic)
async def put_layout(body: LayoutPut, tenant: TenantDep, session: SessionDep) -> LayoutPublic:
    return await templates.put_layout(session, tenant, body.html)


@router.delete("/layout", status_code=204)
async def delete_layout(tenant: TenantDep, session: SessionDep) -> Response:
    """Go back to Herald's default layout."""
    await templates.delete_layout(session, tenant)
    return Response(status_code=204)


@router.get("", response_model=TemplatesPublic)
async def list_templates(
    tenant: TenantDep,
    session: SessionDep,
    event_key: EventKey | None = None,
    channel: Channel | None = None,
    owner: Annotated[str | None, Query(description="An organizer's id.")] = None,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TemplatesPublic:
    filters = TemplateFilter(event_key, channel, owner, active)
    return await templates.list_templates(session, tenant, filters, cursor, limit)


@router.post(
    "",
    status_code=201,
    response_model=TemplatePublic,
    responses={
        409: {
            "description": "Another template has this name, or is the default for the same "
            "owner, event, channel and locale."
        }
    },
)
async def create_template(
    body: TemplateCreate,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> TemplatePublic:
    """Validate and store a template as its version 1."""
    template = await templates.create_template(session, tenant, body, settings.sms_max_segments)
    response.headers["Location"] = f"/v1/templates/{template.id}"
    return template


@router.get("/{template_id:uuid}", response_model=TemplatePublic)
async def get_template(
    template_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> TemplatePublic:
    return await templates.read_template(session, tenant, template_id)


@router.put(
    "/{template_id:uuid}",
    response_model=TemplatePublic,
    responses={
        409: {
            "description": "Another template has this name, or is the default for the same "
            "owner, event, channel and locale."
        }
    },
)
async def update_template(
    template_id: uuid.UUID,
    body: TemplateUpdate,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TemplatePublic:
    """Change the fields given; the result is saved as a new immutable version."""
    return await templates.update_template(
        session, tenant, template_id, body, settings.sms_max_segments
    )


@router.delete("/{template_id:uuid}", status_code=204)
async def delete_template(
    template_id: uuid.UUID, tenant: TenantDep, session: SessionDep
) -> Response:
    """Deactivate and hide the template; its versions stay for the deliveries that used them."""
    await templates.delete_template(session, tenant, template_id)
    return Response(status_code=204)


@router.get("/{template_id:uuid}/versions", response_model=TemplateVersionsPublic)
async def list_template_versions(
    template_id: uuid.UUID,
    tenant: TenantDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TemplateVersionsPublic:
    """Every saved version, newest first."""
    return await templates.list_versions(session, tenant, template_id, cursor, limit)


@router.post("/{template_id:uuid}/preview", response_model=PreviewResult)
async def preview_template(
    template_id: uuid.UUID,
    body: PreviewRequest,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PreviewResult:
    """Render with the event's sample data, overlaid with `context`; nothing is sent."""
    return await preview(session, tenant, template_id, body.context, settings.sms_max_segments)


@router.post("/{template_id:uuid}/test", status_code=202, response_model=NotificationAccepted)
async def send_template_test(
    template_id: uuid.UUID,
    body: TestSendRequest,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> NotificationAccepted:
    """Send the current version to `email` or `phone` as a real notification marked "[TEST]"."""
    return await send_test(session, temporal, settings, tenant, template_id, body)
