"""A push template's icon: the URL a browser or phone fetches and shows beside the notification.

Rendered from the template like any field, so what it renders is checked: an https URL (a
`javascript:` or `data:` value, a plain-http fetch, or a page of text is never handed to a
push service), or nothing at all (no icon).
"""

from urllib.parse import urlsplit

ICON_FIELD = "icon"
MAX_ICON_URL_CHARS = 2048  # what browsers and push services reliably take in a URL


def icon_problem(url: str) -> str | None:
    """Why the rendered `url` (stripped) cannot be an icon; None when it is fine or empty."""
    if not url:
        return None
    if len(url) > MAX_ICON_URL_CHARS:
        return f"renders {len(url)} characters; an icon URL may have at most {MAX_ICON_URL_CHARS}"
    if not _is_https_url(url):
        return f"must render to an https URL or nothing, not {url[:60]!r}"
    return None


def _is_https_url(url: str) -> bool:
    if any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() == "https" and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False
