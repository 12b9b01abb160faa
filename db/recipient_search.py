"""Finding a tenant's recipients by what an operator types: the start of their external id,
email or phone (case-insensitive), or the start of words of their name. Each is an index of
migration 0018 (prefix and full-text), so a search costs the same however many recipients and
deliveries the tenant has."""

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class RecipientMatch:
    id: uuid.UUID
    external_id: str
    name: str | None
    email: str | None
    phone: str | None


def _prefix_pattern(typed: str) -> str:
    """`typed%` for LIKE, with LIKE's own wildcards in `typed` taken literally."""
    escaped = typed.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _name_words(typed: str) -> str | None:
    """A tsquery for names with words starting with each word typed (`ada lov` -> ada:* &
    lov:*), or None when nothing typed is a word. Only word characters reach it: nothing an
    operator types can be tsquery syntax."""
    words = re.findall(r"[^\W_]+", typed.lower())
    return " & ".join(f"{word}:*" for word in words) or None


_MATCH = """
    SELECT id, external_id, name, email, phone FROM recipients
    WHERE tenant_id = :tenant_id AND (
        lower(external_id) LIKE :prefix OR lower(email) LIKE :prefix OR phone LIKE :prefix
        {by_name})
    ORDER BY external_id LIMIT :limit
"""
# The expression of ix_recipients_name_words, as it must be written to use it.
_BY_NAME = "OR to_tsvector('simple', coalesce(name, '')) @@ to_tsquery('simple', :words)"


async def search_recipients(
    session: AsyncSession, tenant_id: uuid.UUID, typed: str, limit: int
) -> list[RecipientMatch]:
    """Up to `limit` of the tenant's recipients `typed` finds, by external id."""
    typed = typed.strip()
    if not typed:
        return []
    words = _name_words(typed)
    statement = text(_MATCH.format(by_name=_BY_NAME if words else ""))
    params = {"tenant_id": tenant_id, "prefix": _prefix_pattern(typed), "limit": limit}
    found = await session.execute(statement, params | ({"words": words} if words else {}))
    return [RecipientMatch(**row._mapping) for row in found]
