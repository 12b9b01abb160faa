"""Idempotency keys and event ids derived from the caller's own ids.

The same ids always give the same key, so a retried checkout (or the outbox re-sending after a
crash) is a replay Herald answers with what it did the first time, never a second notification.
"""

import hashlib
import uuid
from urllib.parse import quote

from herald_client.errors import FieldProblem, ValidationError

# Herald takes 1-255 visible ASCII characters without spaces as an Idempotency-Key, and at most
# 200 as an event id.
MAX_KEY_LENGTH = 255
MAX_EVENT_ID_LENGTH = 200

KeyPart = str | int | uuid.UUID


def key_from(*parts: KeyPart, max_length: int = MAX_KEY_LENGTH) -> str:
    """`("order", 1234, "paid")` -> `"order:1234:paid"`.

    Each part is percent-encoded (all but letters, digits and `-._~`), so the `:` between parts
    is unambiguous: `("a:b", "c")` and `("a", "b:c")` give different keys. A key longer than
    `max_length` is shortened to its start and a SHA-256 of the whole, still one per ids."""
    key = ":".join(quote(str(part), safe="-._~") for part in parts)
    if not key:
        problem = "give at least one id that is not empty"
        raise ValidationError(f"key_from: {problem}", errors=[FieldProblem("key_from", problem)])
    if len(key) <= max_length:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: max_length - len(digest) - 1]}~{digest}"


def random_key() -> str:
    """For a call given no key: the client's own retries (and the outbox's) still send one."""
    return f"herald-client:{uuid.uuid4()}"
