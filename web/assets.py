"""Files Herald serves to browsers as they are (web/static/, no build step), each read once per
process and versioned by a hash of its content (its ETag)."""

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Asset:
    content: bytes
    version: str  # the first 16 hex digits of the content's SHA-256

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


@cache
def asset(relative_path: str) -> Asset:
    """A file under web/static/, read once per process."""
    content = (STATIC / relative_path).read_bytes()
    return Asset(content, hashlib.sha256(content).hexdigest()[:16])
