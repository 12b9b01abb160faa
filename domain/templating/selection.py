"""Which of a tenant's templates a notification uses."""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from domain.templating.locales import normalize_locale, resolve_locale


class Choosable(Protocol):
    """What choose_template reads of a candidate (read-only, so frozen dataclasses fit)."""

    @property
    def owner_id(self) -> str | None: ...
    @property
    def locale(self) -> str: ...
    @property
    def is_default(self) -> bool: ...
    @property
    def updated_at(self) -> datetime: ...


T = TypeVar("T", bound=Choosable)


def choose_template(
    candidates: Sequence[T], owner_id: str | None, locale: str | None, tenant_locale: str
) -> T | None:
    """The owner's templates win over the tenant-wide ones (owner_id None); within the
    winning group, the recipient's locale (`pt-BR`, then `pt`, then the tenant default);
    among those, the default one, then the most recently updated.

    The owner's group wins even when only the tenant-wide group has the recipient's exact
    locale: an organizer's own wording (its links, its instructions) matters more than the
    language variant. None when no candidate fits: Herald's shipped templates apply.
    `candidates` are the active templates of one event and channel.
    """
    groups = (
        [c for c in candidates if c.owner_id == owner_id] if owner_id else [],
        [c for c in candidates if c.owner_id is None],
    )
    for group in groups:
        chosen = resolve_locale(locale, {c.locale for c in group}, tenant_locale)
        if chosen is not None:
            same_locale = [
                c for c in group if normalize_locale(c.locale) == normalize_locale(chosen)
            ]
            return max(same_locale, key=lambda c: (c.is_default, c.updated_at))
    return None
