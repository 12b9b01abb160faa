"""How big a value a template may build: numbers, strings and containers, nesting included."""

from collections.abc import Sequence
from typing import Any

from domain.templating.budget import LimitExceeded, spend

MAX_INT = 2**64  # integers a template computes stay within ±MAX_INT
MAX_BUILT_LENGTH = 100_000  # characters or items one value a template builds may hold
_CONTAINERS = (list, tuple, dict, set, frozenset)


def built_size(value: object, limit: int = MAX_BUILT_LENGTH) -> int:
    """Roughly how much `value` holds: a string its characters, a container its items plus
    what they hold, at every depth (a list of rows counts every cell, a list repeated in
    itself once per occurrence). Stops counting once past `limit`, so it costs at most that.
    """
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        return 1
    total, pending = 0, [value]
    while pending and total <= limit:
        current = pending.pop()
        items = current.items() if isinstance(current, dict) else current
        total += len(items)
        for item in items:
            if isinstance(item, str):
                total += len(item)
            elif isinstance(item, _CONTAINERS):
                pending.append(item)
            if total > limit:
                break
    return total


def require_int(value: object, operation: str) -> None:
    if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
        raise LimitExceeded(f"{operation} gave a number beyond ±2**64, the largest allowed")


def require_built(value: object, operation: str) -> None:
    """Refuse `value` if it is too big, else count it against the render's budget."""
    if isinstance(value, int):
        require_int(value, operation)
        return
    size = built_size(value)
    if size > MAX_BUILT_LENGTH:
        raise LimitExceeded(_too_long(operation))
    spend(size)


def require_repetition(left: Any, right: Any) -> None:
    """`left * right` on a string or sequence: refused before it is built, else counted."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int):
            size = built_size(sequence) * times
            if size > MAX_BUILT_LENGTH:
                raise LimitExceeded(_too_long("'*'"))
            spend(size)
            return


def require_total(pieces: Sequence[Any], operation: str, separators: int = 0) -> None:
    """Joining `pieces` (`~`, `+`, join() with `separators` characters between them): refused
    before it is built, else counted."""
    total = separators
    for piece in pieces:
        total += built_size(piece)
        if total > MAX_BUILT_LENGTH:
            raise LimitExceeded(_too_long(operation))
    spend(total)


def _too_long(operation: str) -> str:
    return f"{operation} may produce at most {MAX_BUILT_LENGTH} characters or items"
