"""/dashboard/settings: the tenant's delivery policy, booking follow-up, sender and API keys, and
who is on the team (managed on the Team page).

Each part is a form of its own, saved by the service the API's PUT uses, in one transaction
with its audit entry (nothing half-saved); refused, the page comes back with each problem
beside its field in the API's words and nothing written. Editors and owners change the
settings; only owners create and revoke API keys; viewers see everything and change nothing.
"""

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ApiKeyCacheDep, SessionDep, SessionsDep, SettingsDep
from api.errors import STATUS
from api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated
from api.schemas.email_settings import EmailSettings
from api.schemas.scheduling import BookingSettings
from config.settings import Settings
from domain.operators import Operator, Role
from domain.tenants import TenantIdentity
from services import api_keys, operators
from services.email_settings import email_settings, save_email_settings
from services.errors import ServiceError
from services.tenant_settings import (
    booking_settings,
    delivery_policy,
    save_booking_settings,
    save_delivery_policy,
)
from web.auth import CurrentOperator, EditorOperator, OwnerOperator
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PAGES_BY_KEY
from web.policy_form import BYPASS, CHANNELS, UNLESS, PolicyForm, checked_policy, form_of
from web.policy_form import submitted as submitted_policy
from web.templating import render

router = APIRouter(include_in_schema=False)
SETTINGS = PAGES_BY_KEY["settings"].path
KEYS_SHOWN = 100  # a tenant has a handful; more than this are listed by the API

# What the page says after a change, in which section (a fixed text per key: nothing echoed).
NOTICES = {
    "policy": ("Delivery policy saved.", "policy"),
    "bookings": ("Booking settings saved.", "bookings"),
    "email": ("Sender saved.", "sender"),
    "revoked": ("API key revoked: it no longer works.", "api-keys"),
}
EMAIL_FIELDS = ("from_name", "from_address", "reply_to")


@dataclass
class Refused:
    """A form sent back: its section, each problem by field, and what was sent."""

    section: str
    errors: FieldErrors
    values: Any = None
    status_code: int = 422
    extra: dict[str, Any] = field(default_factory=dict)


def _tenant(operator: Operator) -> TenantIdentity:
    return TenantIdentity(id=operator.tenant_id, name="")


@dataclass
class SettingsPage:
    """What drawing the page takes, for every handler of it: each shows the page again with
    what it refused (or the new key) beside the section it concerns."""

    request: Request
    session: SessionDep
    sessions: SessionsDep
    settings: Settings

    async def show(
        self,
        operator: Operator,
        refused: Refused | None = None,
        new_key: ApiKeyCreated | None = None,
    ) -> HTMLResponse:
        session, tenant = self.session, _tenant(operator)

        def sent(section: str) -> Any:
            return refused.values if refused and refused.section == section else None

        policy = sent("policy") or form_of(await delivery_policy(session, tenant))
        bookings = sent("bookings") or _as_values(await booking_settings(session, tenant))
        sender = sent("email") or _as_values(await email_settings(session, tenant))
        keys = await api_keys.list_keys(session, tenant, None, KEYS_SHOWN)
        return render(
            self.request,
            "settings.html",
            page="settings",
            policy=policy,
            bookings=bookings,
            sender=sender,
            keys=keys.data,
            more_keys=keys.next_cursor is not None,
            new_key=new_key,
            team=await operators.team(self.sessions, operator),
            errors={refused.section: refused.errors} if refused else {},
            refusal=refused.extra if refused else {},
            notice=NOTICES.get(self.request.query_params.get("saved", ""), ("", "")),
            can_edit=operator.role.allows(Role.EDITOR),
            is_owner=operator.role == Role.OWNER,
            from_domains=self.settings.from_domains,
            channels=CHANNELS,
            unless=UNLESS,
            bypass=BYPASS,
            status_code=refused.status_code if refused else 200,
        )


def _settings_page(
    request: Request, session: SessionDep, sessions: SessionsDep, settings: SettingsDep
) -> SettingsPage:
    return SettingsPage(request, session, sessions, settings)


PageDep = Annotated[SettingsPage, Depends(_settings_page)]


def _as_values(model: Any) -> dict[str, str]:
    """A model's fields as the form's text (none: empty)."""
    return {
        name: "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in model.model_dump().items()
    }


def _saved(notice: str) -> RedirectResponse:
    """Back to the page's section, saying so (a redirect: reloading does not post again)."""
    return RedirectResponse(f"{SETTINGS}?saved={notice}#{NOTICES[notice][1]}", status_code=303)


@router.get(SETTINGS)
async def settings_page(page: PageDep, operator: CurrentOperator) -> HTMLResponse:
    return await page.show(operator)


@router.post(f"{SETTINGS}/delivery-policy")
async def save_policy(page: PageDep, editor: EditorOperator) -> Response:
    form: PolicyForm = submitted_policy(await form_values(page.request))
    policy, errors = checked_policy(form)
    if policy is None:
        refused = Refused("policy", errors, form)
        return await page.show(editor, refused)
    await save_delivery_policy(page.session, _tenant(editor), policy, by=editor)
    return _saved("policy")


@router.post(f"{SETTINGS}/bookings")
async def save_bookings(page: PageDep, editor: EditorOperator) -> Response:
    values = await form_values(page.request)
    delay = values.get("follow_up_delay_minutes", "").strip()
    body = {
        "follow_up_enabled": values.get("follow_up_enabled") == "true",
        "follow_up_delay_minutes": int(delay) if delay.isdigit() else delay,
    }
    booking, errors = checked(BookingSettings, body)
    if booking is None:
        shown = {**values, "follow_up_enabled": str(body["follow_up_enabled"]).lower()}
        refused = Refused("bookings", errors, shown)
        return await page.show(editor, refused)
    await save_booking_settings(page.session, _tenant(editor), booking, by=editor)
    return _saved("bookings")


@router.post(f"{SETTINGS}/email")
async def save_sender(page: PageDep, editor: EditorOperator) -> Response:
    values = await form_values(page.request)
    body = {name: values.get(name, "").strip() or None for name in EMAIL_FIELDS}
    sender, errors = checked(EmailSettings, body)
    if sender is not None:
        try:
            await save_email_settings(
                page.session, _tenant(editor), sender, page.settings.from_domains, by=editor
            )
            return _saved("email")
        except ServiceError as problem:
            errors = refusal_errors(problem)
    refused = Refused("email", errors, values)
    return await page.show(editor, refused)


@router.post(f"{SETTINGS}/api-keys")
async def create_api_key(page: PageDep, owner: OwnerOperator) -> Response:
    """The new key is on the page this once (never in a URL, a log or the audit)."""
    values = await form_values(page.request)
    form, errors = checked(ApiKeyCreate, {"name": values.get("name", "")})
    if form is None:
        refused = Refused("api_keys", errors, values)
        return await page.show(owner, refused)
    created = await api_keys.create_key(page.session, _tenant(owner), form.name, by=owner)
    return await page.show(owner, new_key=created)


@router.post(f"{SETTINGS}/api-keys/{{key_id}}/revoke")
async def revoke_api_key(
    key_id: uuid.UUID, page: PageDep, owner: OwnerOperator, cache: ApiKeyCacheDep
) -> Response:
    """The tenant's last active key is revoked only when asked again (`force`): the API would
    refuse it too (409 last_api_key), since it locks out every client until a key is made."""
    force = (await form_values(page.request)).get("force") == "yes"
    try:
        await api_keys.revoke_key(page.session, cache, _tenant(owner), key_id, force, by=owner)
    except ServiceError as problem:
        refused = Refused(
            "api_keys",
            {"": problem.message},
            status_code=STATUS.get(type(problem), 422),
            extra={"last_key": key_id} if problem.code == "last_api_key" else {},
        )
        return await page.show(owner, refused)
    return _saved("revoked")
