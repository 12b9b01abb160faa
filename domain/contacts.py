"""Validation of recipient contact data: E.164 phones, IANA zones, locale tags."""

import re

import phonenumbers

from domain.preferences import is_known_timezone

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_LOCALE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")


def check_phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError(
            "must be an E.164 number like +14155550123 (a '+', country code, digits only)"
        )
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("is not a possible phone number for its country code")
    return value


def check_timezone(value: str) -> str:
    if not is_known_timezone(value):
        raise ValueError(f"unknown IANA timezone {value!r} (expected e.g. 'Europe/Berlin')")
    return value


def check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError(f"{value!r} is not a locale tag like 'en' or 'pt-BR'")
    return value.replace("_", "-")


# An erased recipient's row keeps only its id, as `erased:<id>`: such an id names no one a
# caller may write to or read (services/erasure.py).
ERASED_PREFIX = "erased:"


def check_not_erased(external_id: str) -> str:
    if external_id.startswith(ERASED_PREFIX):
        raise ValueError(f"ids starting with {ERASED_PREFIX!r} are reserved for erased recipients")
    return external_id


def address_external_id(email: str | None, phone: str | None) -> str:
    """The external id of a recipient known only by address: `email:...`, else `phone:...`."""
    return f"email:{email}" if email else f"phone:{phone}"
