"""The Recipients page (/dashboard/recipients): search; a recipient's contact details,
preferences and latest notifications; do-not-disturb with a preview of the hours it blocks, in
the recipient's zone and in the operator's (domain/dnd_preview.py), redrawn as the fields change
(htmx asks /dnd-preview).

Changes go through the services the API uses (services/recipients.py, services/preferences.py),
refused in the API's words beside the field at fault, nothing saved; each one made is in the
audit log. The operator's zone comes from their browser (web/static/dashboard/operator-zone.js
fills the hidden `operator_zone` fields); without JavaScript, UTC."""

from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import STATUS
from api.schemas.notifications import RecipientFields
from domain.dnd_preview import dnd_preview
from domain.preferences import DoNotDisturb, is_known_timezone
from domain.tenants import TenantIdentity
from services import recipients
from services.errors import NotFound, ServiceError
from services.recipient_pages import (
    RecipientProfile,
    find_recipients,
    preferences_document,
    recipient_profile,
    save_preferences_form,
)
from web import preference_form
from web.auth import EditorOperator
from web.deps import CurrentTenant
from web.forms import FieldErrors, checked, form_values, refusal_errors
from web.pages import PAGES_BY_KEY
from web.templating import render

router = APIRouter(include_in_schema=False)
RECIPIENTS = PAGES_BY_KEY["recipients"].path
CONTACT_FIELDS = ("name", "email", "phone", "timezone", "locale")
NOTICES = {
    "contact": "Contact details saved.",
    "preferences": "Preferences saved: notifications waiting for them decide again now.",
}
ZONES = sorted(available_timezones())


def recipient_path(external_id: str) -> str:
    return f"{RECIPIENTS}/{quote(external_id, safe='')}"


@router.get(RECIPIENTS)
async def recipients_page(
    request: Request, tenant: CurrentTenant, session: SessionDep, q: str = ""
) -> HTMLResponse:
    found = await find_recipients(session, tenant, q)
    return render(
        request,
        "recipients.html",
        page="recipients",
        query=q,
        found=found,
        path_of=recipient_path,
    )


@router.get(f"{RECIPIENTS}/{{external_id}}")
async def recipient_page(
    request: Request, tenant: CurrentTenant, session: SessionDep, external_id: str
) -> Response:
    profile = await _profile(request, session, tenant, external_id)
    if profile is None:
        return _not_found(request, external_id)
    return _recipient_page(request, profile)


@router.post(f"{RECIPIENTS}/{{external_id}}/contact")
async def save_contact(
    request: Request,
    external_id: str,
    tenant: CurrentTenant,
    editor: EditorOperator,
    session: SessionDep,
) -> Response:
    values = await form_values(request)
    # A field left empty has no value: name, email and phone none, zone and locale the default.
    contact = {name: values.get(name, "").strip() or None for name in CONTACT_FIELDS}
    _, errors = checked(RecipientFields, {k: v for k, v in contact.items() if v is not None})
    if not errors:
        try:
            await recipients.patch_recipient(session, tenant, external_id, contact, by=editor)
        except ServiceError as refused:
            errors = refusal_errors(refused)
            if isinstance(refused, NotFound):
                return _not_found(request, external_id)
    if errors:
        profile = await _profile(request, session, tenant, external_id)
        if profile is None:
            return _not_found(request, external_id)
        return _recipient_page(
            request, profile, contact_values=values, contact_errors=errors, status_code=422
        )
    return _saved(external_id, "contact")


@router.post(f"{RECIPIENTS}/{{external_id}}/preferences")
async def save_preferences(
    request: Request,
    external_id: str,
    tenant: CurrentTenant,
    editor: EditorOperator,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    submitted = preference_form.document(await form_values(request))
    try:
        await save_preferences_form(
            session, temporal, settings, tenant, external_id, submitted, by=editor
        )
    except ServiceError as refused:
        profile = await _profile(request, session, tenant, external_id)
        if profile is None:
            return _not_found(request, external_id)
        return _recipient_page(
            request,
            profile,
            prefs=submitted,
            pref_errors=refusal_errors(refused),
            status_code=STATUS.get(type(refused), 422),
        )
    return _saved(external_id, "preferences")


@router.get(f"{RECIPIENTS}/{{external_id}}/dnd-preview")
async def dnd_preview_part(
    request: Request, tenant: CurrentTenant, session: SessionDep, external_id: str
) -> Response:
    """The preview for the fields as they are now in the form (htmx: `hx-get` with them)."""
    profile = await _profile(request, session, tenant, external_id)
    if profile is None:
        return _not_found(request, external_id)
    values = dict(request.query_params)
    dnd = preference_form.document(values)["dnd"]
    preview = _preview(profile, dnd, values.get("timezone", ""), values)
    return render(request, "_dnd_preview.html", page="recipients", **preview)


def _recipient_page(
    request: Request,
    profile: RecipientProfile,
    *,
    contact_values: dict[str, str] | None = None,
    contact_errors: FieldErrors | None = None,
    prefs: dict[str, Any] | None = None,
    pref_errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    prefs = prefs or preferences_document(profile.preferences)
    values = dict(request.query_params)
    zone_override = prefs.get("timezone") or ""
    return render(
        request,
        "recipient.html",
        page="recipients",
        title=f"Recipient {profile.recipient.external_id}",
        profile=profile,
        path=recipient_path(profile.recipient.external_id),
        contact=contact_values or profile.recipient.model_dump(),
        contact_errors=contact_errors or {},
        prefs=prefs,
        pref_errors=preference_form.placed(pref_errors or {}, preference_form.anchors(prefs)),
        form=preference_form,
        zones=ZONES,
        zone=_recipient_zone(profile, zone_override),
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
        status_code=status_code,
        **_preview(profile, prefs["dnd"], zone_override, values),
    )


def _preview(
    profile: RecipientProfile, dnd: dict[str, Any], zone_override: str, values: dict[str, str]
) -> dict[str, Any]:
    """What _dnd_preview.html draws: the window's hours on a day, in both zones, or why not."""
    window, problems = checked(DoNotDisturb, dnd)
    errors = {_dnd_field(field): problem for field, problem in problems.items()}
    if zone_override and not is_known_timezone(zone_override):
        errors["timezone"] = f"unknown IANA timezone {zone_override!r}"
        zone_override = ""
    zone = _recipient_zone(profile, zone_override)
    operator_zone = values.get("operator_zone", "")
    operator_zone = operator_zone if is_known_timezone(operator_zone) else "UTC"
    day = _day(values.get("preview_day", ""), zone)
    shown = None
    if window is not None and not errors:
        shown = dnd_preview(window.start, window.end, zone, ZoneInfo(operator_zone), day)
    return {
        "preview": shown,
        "preview_errors": errors,
        "dnd_enabled": bool(dnd.get("enabled")),
        "dnd_action": dnd.get("action"),
        "preview_day": day,
        "operator_zone": operator_zone,
    }


def _dnd_field(field: str) -> str:
    """A DoNotDisturb field as the preferences name it (`start` is `dnd.start`)."""
    return "dnd" if field in ("", "body") else f"dnd.{field}"


def _recipient_zone(profile: RecipientProfile, override: str) -> ZoneInfo:
    """The zone the recipient's wall times are in: their own setting, else their contact's."""
    name = override if is_known_timezone(override) else profile.recipient.timezone
    return ZoneInfo(name if is_known_timezone(name) else "UTC")


def _day(text: str, zone: ZoneInfo) -> date:
    """The day asked for (YYYY-MM-DD), else today in the recipient's zone."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.now(zone).date()


async def _profile(
    request: Request, session: SessionDep, tenant: TenantIdentity, external_id: str
) -> RecipientProfile | None:
    try:
        return await recipient_profile(session, tenant, external_id)
    except NotFound:
        return None


def _not_found(request: Request, external_id: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        page="recipients",
        title="Recipient not found",
        message=f"No recipient {external_id!r} in your tenant.",
        status_code=404,
    )


def _saved(external_id: str, notice: str) -> RedirectResponse:
    """Back to the recipient's page saying so (a redirect: reloading does not post again)."""
    return RedirectResponse(
        f"{recipient_path(external_id)}?{urlencode({'notice': notice})}#{notice}",
        status_code=303,
    )
