"""HTTP calls to URLs that tenants and recipients give Herald (the webhook channel, chat
webhooks), refused when they lead inside the network Herald runs in (SSRF).

The host is resolved once; every address it resolves to must be public (not private,
loopback, link-local, multicast, reserved or unspecified), and the request then goes to the
address that was checked (its Host header and TLS server name still the URL's host), so a DNS
answer that changes between the check and the call (DNS rebinding) cannot redirect it.
Redirects are not followed. `allow_private` (WEBHOOK_ALLOW_PRIVATE_ADDRESSES) turns the check
off, for a deployment whose receivers live on its own network, and for tests.
"""

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from channels.base import PermanentSendError, TransientSendError

ALLOWED_SCHEMES = ("http", "https")
MAX_RESPONSE_BYTES = 64 * 1024  # of a receiver's answer: enough for any error message


class RefusedAddress(PermanentSendError):
    """The URL leads to an address Herald may not call: the sender's fault, never retried."""


def is_public(address: str) -> bool:
    """Whether Herald may call `address`. An IPv4 address carried in an IPv6 one (mapped,
    6to4) is judged as itself. Besides private, loopback, link-local and the like, every range
    IANA lists as not globally reachable is refused (`is_global`): among them the shared
    address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT), which clouds use inside their
    networks (Alibaba Cloud's metadata service is 100.100.100.200)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    return not (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def resolve_checked(url: str, allow_private: bool) -> tuple[str, str]:
    """(the URL's host, the address to call). RefusedAddress for a URL that is not http(s), has
    no host, or resolves to an address that is not public (unless allowed); TransientSendError
    when the name does not resolve now."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise RefusedAddress(f"not an http(s) URL with a host: {url[:80]!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientSendError(f"cannot resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise TransientSendError(f"{host} resolves to no address")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise RefusedAddress(
                f"{host} resolves to {refused[0]}, a private, loopback or link-local address:"
                " refused (WEBHOOK_ALLOW_PRIVATE_ADDRESSES allows it)"
            )
    return host, addresses[0]


async def guarded_post(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """POST to `url` at the address that was checked. Raises RefusedAddress or
    TransientSendError as resolve_checked does; httpx's errors pass through."""
    host, address = await resolve_checked(url, allow_private)
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    host_header = f"{host}:{parts.port}" if parts.port else host
    request = client.build_request(
        "POST",
        pinned,
        # Uncompressed, so the cap below counts what is kept (no decompression bomb).
        headers={**(headers or {}), "Host": host_header, "Accept-Encoding": "identity"},
        extensions={"sni_hostname": host},
        **kwargs,
    )
    # The receiver is anyone's: its answer is read up to MAX_RESPONSE_BYTES, the rest dropped,
    # so an endless or huge body cannot hold a worker's memory (the timeout bounds its time).
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk[: MAX_RESPONSE_BYTES - len(body)]
            if len(body) >= MAX_RESPONSE_BYTES:
                break
    finally:
        await response.aclose()
    headers_kept = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code, headers=headers_kept, content=bytes(body), request=request
    )
