"""One way to page through every list: at most `limit` rows after a cursor, the position of the
previous page's last row in the list's order. A page that is not the last ends with the cursor of
its own last row. Positions, not offsets: a page stays right while rows are added before it, and
the database seeks to it instead of counting past every row before it.

A cursor is opaque to clients (base64 of the position's values as JSON); one this API did not
return is refused as an invalid `cursor`."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from services.errors import invalid_field

Row = TypeVar("Row")
Value = datetime | uuid.UUID | int | str
Position = tuple[Value, ...]


def encode_cursor(position: Position) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in position]
    text = json.dumps([str(v) if isinstance(v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *kinds: type) -> tuple[Any, ...] | None:
    """The position a cursor holds, its values of the given types, or None for the first page."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("not a position")
        return tuple(_value(kind, value) for kind, value in zip(kinds, values, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_field("cursor", "is not a cursor this API returned") from None


def _value(kind: type, value: Any) -> Value:
    if kind is datetime:
        found = datetime.fromisoformat(value)
        if found.tzinfo is None:
            raise ValueError("a position's time has its offset")
        return found
    if kind is uuid.UUID and isinstance(value, str):
        return uuid.UUID(value)
    if kind is int and type(value) is int and -(2**63) <= value < 2**63:  # a bigint column
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"not a {kind.__name__}")


def page(
    rows: Sequence[Row], limit: int, position: Callable[[Row], Position]
) -> tuple[list[Row], str | None]:
    """The page and the next page's cursor, from rows fetched with `limit + 1`: the extra row
    only tells that more follow."""
    if len(rows) <= limit:
        return list(rows), None
    kept = list(rows[:limit])
    return kept, encode_cursor(position(kept[-1]))
