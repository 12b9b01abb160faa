"""Pick the template locale to use for a recipient."""


def normalize_locale(locale: str) -> str:
    """`pt_BR`, `PT-br` and `pt-BR` are the same locale: compare them as `pt-br`."""
    return locale.strip().replace("_", "-").lower()


def resolve_locale(requested: str | None, available: set[str], tenant_default: str) -> str | None:
    """The entry of `available` to use: `pt-BR`, then `pt`, then the tenant default (same chain).

    Returns the entry as spelled in `available`, or None when nothing fits
    (the caller then falls back to Herald's shipped default templates).
    """
    by_normalized = {normalize_locale(locale): locale for locale in available}
    for candidate in (requested, tenant_default):
        if not candidate:
            continue
        normalized = normalize_locale(candidate)
        for option in (normalized, normalized.split("-", 1)[0]):
            if option in by_normalized:
                return by_normalized[option]
    return None
