"""What a digest says: one line per notification it collects, under one subject."""

from collections.abc import Mapping
from typing import Any

from domain.contracts import DigestItem


def digest_summary(event_key: str, context: Mapping[str, Any]) -> str:
    """The line a notification becomes in a digest: its subject, title or message."""
    return str(
        context.get("subject") or context.get("title") or context.get("message") or event_key
    )


def digest_message(
    frequency: str, category: str, items: list[DigestItem]
) -> tuple[str, dict[str, Any]]:
    """The digest email's subject and its template context."""
    count = len(items)
    title = f"Your {frequency} {category} digest: {count} update{'s' if count != 1 else ''}"
    lines = "\n".join(f"- {item.summary}" for item in items)
    return title, {
        "subject": title,
        "title": title,
        "message": lines,
        "items": [_as_json(item) for item in items],
    }


def _as_json(item: DigestItem) -> dict[str, str]:
    """An item as the template context (stored as JSON) carries it: ids and times as text."""
    return {
        "notification_id": str(item.notification_id),
        "event_key": item.event_key,
        "summary": item.summary,
        "created_at": item.created_at.isoformat(),
        "flush_at": item.flush_at.isoformat(),
    }
