"""Operators' passwords, hashed with argon2id: memory-hard, so each guess against a stolen hash
costs 64 MiB and several passes over it. The parameters are RFC 9106's recommendation for
memory-constrained hosts (t=3, m=64 MiB, p=4); hashes made with others are redone at the next
sign-in. Hashing takes a few hundred milliseconds of CPU, so it runs in a thread, off the event
loop."""

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def password_matches(hashed: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(HASHER.verify, hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    return HASHER.check_needs_rehash(hashed)


@cache
def _nobodys_hash() -> str:
    return HASHER.hash("no operator has this password")


async def spend_a_verification(password: str) -> None:
    """Checked when no account has the email, so that the answer takes as long as for one that
    has: its time tells nothing about which addresses have accounts."""
    await password_matches(await asyncio.to_thread(_nobodys_hash), password)
