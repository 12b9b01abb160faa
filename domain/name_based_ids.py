"""Name-based ids: the version-5 UUIDs `uuid.uuid5` makes, at half its cost.

Herald derives ids from names so that a step done again finds the rows it wrote before. A
broadcast derives two for each recipient (its notification's and its delivery's), and
`uuid.uuid5` spent most of its time outside SHA-1: converting the namespace to bytes each call
and building the UUID through its checking constructor (py-spy on `make bench`'s in-app
broadcast: ~12% of the worker's CPU)."""

import hashlib
import uuid

_VERSION_AND_VARIANT_BITS = (0xF000 << 64) | (0xC000 << 48)
_VERSION_5_RFC_4122 = (0x5000 << 64) | (0x8000 << 48)


class NameBasedIds:
    """uuid.uuid5(namespace, name) for one namespace, whose bytes are read once."""

    def __init__(self, namespace: uuid.UUID):
        self._namespace = namespace.bytes

    def __call__(self, name: str) -> uuid.UUID:
        digest = hashlib.sha1(self._namespace + name.encode()).digest()
        value = int.from_bytes(digest[:16]) & ~_VERSION_AND_VARIANT_BITS | _VERSION_5_RFC_4122
        made = object.__new__(uuid.UUID)
        # UUID's own constructor would check the value's range again and assign the same way
        # (its fields are read-only through __setattr__).
        object.__setattr__(made, "int", value)
        object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
        return made
