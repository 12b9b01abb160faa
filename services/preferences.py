"""Preferences: a recipient's own changes over the tenant's defaults, and those defaults.

Stored preferences are always valid together: a recipient's change is checked over the
tenant's defaults, and a defaults change that would make some recipient's stored changes
invalid is refused, naming them. Reading is total besides (domain.preferences): a setting
stored by an older version that no longer validates is ignored, and logged.

A recipient's change reaches what is already under way: notifications waiting for them
decide again at once, and an organizer's agenda Schedule follows its time, weekends and timezone.
"""

import logging
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.preferences import RecipientPreferences
from config.settings import Settings
from db import preferences as store
from db.opt_outs import clear_suppressions, unsubscribed_addresses
from domain.consent import ConsentSource, consent_changes
from domain.merge_patch import merge_patch
from domain.operators import Operator
from domain.preferences import (
    Preferences,
    as_document,
    check_overrides,
    defaults_document,
    resolve_preferences,
)
from domain.tenants import TenantIdentity
from services import audit
from services.agendas import AGENDA_PREFERENCES, follow_preferences
from services.consent import record_consent
from services.errors import field_and_problem, first_invalid_field, invalid_field
from services.recipients import find_recipient
from temporal_clients.notifications import notify_preferences_changed

log = logging.getLogger("herald.preferences")

# How many recipients a refused defaults change names (then "and N more").
NAMED_RECIPIENTS = 10


async def get_preferences(
    session: AsyncSession, tenant: TenantIdentity, external_id: str
) -> RecipientPreferences:
    """The effective preferences: the tenant's defaults overlaid with the recipient's changes."""
    recipient = await find_recipient(session, tenant, external_id)
    resolved = resolve_preferences(
        await store.tenant_defaults(session, tenant.id), recipient.preference_overrides
    )
    if resolved.ignored:
        log.warning(
            "tenant %s recipient %r: stored preferences ignored as invalid: %s",
            tenant.id,
            external_id,
            ", ".join(resolved.ignored),
        )
    return _public(
        resolved.preferences, await unsubscribed_addresses(session, tenant.id, recipient.id)
    )


async def replace_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    overrides: dict[str, Any],
) -> RecipientPreferences:
    """Replace the recipient's changes; fields left out follow the tenant's defaults."""
    overrides = _settable(overrides)
    return await _store(
        session,
        temporal,
        settings,
        tenant,
        external_id,
        overrides,
        lambda current: overrides,
        ConsentSource.API,
    )


async def patch_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    patch: dict[str, Any],
    by: Operator | None = None,
    source: ConsentSource = ConsentSource.API,
) -> RecipientPreferences:
    """Merge-patch the recipient's changes (RFC 7396): `null` removes a change, so the field
    follows the tenant's default again; objects merge; arrays and values replace. A change an
    operator makes (`by`, from the dashboard) goes in the audit log with it, and in the consent
    history as the dashboard's; `source` says whose other changes are (the inbox's)."""
    patch = _settable(patch)
    return await _store(
        session,
        temporal,
        settings,
        tenant,
        external_id,
        patch,
        lambda current: merge_patch(as_document(current), patch),
        ConsentSource.DASHBOARD if by is not None else source,
        by,
    )


async def get_defaults(session: AsyncSession, tenant: TenantIdentity) -> Preferences:
    return resolve_preferences(await store.tenant_defaults(session, tenant.id), {}).preferences


async def put_defaults(
    session: AsyncSession, tenant: TenantIdentity, defaults: dict[str, Any]
) -> Preferences:
    """Replace the tenant's defaults, unless that would make a recipient's stored changes
    invalid (a quiet-hours window of zero length once merged...): then 422, naming them."""
    effective = _checked(defaults_document({}), defaults)
    async with session.begin():
        current = await store.lock_tenant_defaults(session, tenant.id)
        await _refuse_stranding(session, tenant, current, defaults)
        await store.save_tenant_defaults(session, tenant.id, defaults)
    return effective


async def _refuse_stranding(
    session: AsyncSession, tenant: TenantIdentity, current: Any, new: dict[str, Any]
) -> None:
    """Refuse `new` defaults under which some recipient's valid overrides turn invalid.
    Overrides already invalid under the current defaults (an older version's) are not the
    change's doing; reading ignores their faulty parts."""
    affected, named = 0, list[str]()
    first: ValidationError | None = None
    before, after = defaults_document(current), defaults_document(new)
    async for stored in store.overrides_in_use(session, tenant.id, NAMED_RECIPIENTS):
        overrides = as_document(stored.overrides)
        try:
            check_overrides(after, overrides)
        except ValidationError as exc:
            try:
                check_overrides(before, overrides)
            except ValidationError:
                continue
            affected += stored.recipients
            named = sorted(named + stored.first_external_ids)[:NAMED_RECIPIENTS]
            first = first or exc
    if first is None:
        return
    field, problem = field_and_problem(first.errors()[0])
    more = affected - len(named)
    raise invalid_field(
        field,
        f"these defaults would make the preferences of {affected} recipient(s) invalid "
        f"({problem}): {', '.join(map(repr, named))}{f' and {more} more' if more else ''}; "
        "change or remove their own setting first",
    )


async def _store(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    body: dict[str, Any],
    change: Callable[[Any], dict[str, Any]],
    source: ConsentSource,
    by: Operator | None = None,
) -> RecipientPreferences:
    async with session.begin():
        # Locked: an unsubscribe merging its rule in meanwhile must not be lost to this write.
        recipient = await find_recipient(session, tenant, external_id, for_update=True)
        defaults = await store.tenant_defaults(session, tenant.id, for_change=True)
        before = resolve_preferences(defaults, recipient.preference_overrides).preferences
        overrides = change(recipient.preference_overrides)
        effective = _checked(defaults_document(defaults), overrides)
        reopened = opted_in(body)
        # Only an explicit switch on takes an address off the suppression list: an opt-in too.
        was_unsubscribed = (
            await unsubscribed_addresses(session, tenant.id, recipient.id) if reopened else []
        )
        await store.save_overrides(session, recipient.id, overrides)
        await clear_suppressions(session, tenant.id, recipient.id, reopened)
        unsubscribed = await unsubscribed_addresses(session, tenant.id, recipient.id)
        consent = consent_changes(before, effective, was_unsubscribed, unsubscribed)
        details = {"operator_id": str(by.id)} if by is not None else {}
        await record_consent(session, tenant.id, recipient.id, consent, source, details)
        waiting = await store.waiting_workflow_ids(session, tenant.id, recipient.id)
        if by is not None:
            target = f"recipient {external_id}"
            await audit.record(session, by, "preferences.update", target, {"fields": sorted(body)})
    await notify_preferences_changed(temporal, waiting)
    if any(getattr(before, name) != getattr(effective, name) for name in AGENDA_PREFERENCES):
        await follow_preferences(session, temporal, settings, tenant, external_id)
    return _public(effective, unsubscribed)


def _settable(body: dict[str, Any]) -> dict[str, Any]:
    """A body without the read-only `unsubscribed` a GET answers with, so what a client read
    it can write back."""
    return {key: value for key, value in body.items() if key != "unsubscribed"}


def _public(preferences: Preferences, unsubscribed: list[tuple[str, str]]) -> RecipientPreferences:
    return RecipientPreferences.model_validate(
        {
            **preferences.model_dump(),
            "unsubscribed": [{"channel": ch, "category": cat} for ch, cat in unsubscribed],
        }
    )


def opted_in(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (category, channel) pairs a preferences body switches on explicitly
    (`{"rules": {"booking": {"email": true}}}`): re-subscribing the recipient's address."""
    rules = body.get("rules")
    if not isinstance(rules, dict):
        return []
    return [
        (category, channel)
        for category, switches in rules.items()
        if isinstance(switches, dict)
        for channel, on in switches.items()
        if on is True
    ]


def _checked(defaults: dict[str, Any], overrides: dict[str, Any]) -> Preferences:
    try:
        return check_overrides(defaults, overrides)
    except ValidationError as exc:
        raise first_invalid_field(exc) from None
