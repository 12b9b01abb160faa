"""The SSRF guard of URLs tenants and recipients give Herald (channels/safe_http.py)."""

import httpx
import pytest
from werkzeug import Response

from channels.base import PermanentSendError
from channels.safe_http import (
    MAX_RESPONSE_BYTES,
    RefusedAddress,
    guarded_post,
    is_public,
    resolve_checked,
)

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback, anywhere in 127/8",
    "10.1.2.3": "private 10/8",
    "172.16.0.1": "private 172.16/12",
    "172.31.255.254": "private 172.16/12, its end",
    "192.168.1.1": "private 192.168/16",
    "169.254.169.254": "link-local: the cloud metadata service",
    "::1": "IPv6 loopback",
    "fe80::1": "IPv6 link-local",
    "fd00:ec2::254": "IPv6 unique local (AWS's IPv6 metadata service)",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:169.254.169.254": "IPv4-mapped link-local",
    "2002:7f00:1::1": "6to4 of 127.0.0.1",
    "0.0.0.0": "unspecified (reaches the host itself on Linux)",
    "::": "IPv6 unspecified",
    "224.0.0.1": "multicast",
    "255.255.255.255": "broadcast",
    # Carrier-grade NAT's shared space (RFC 6598) is not globally reachable: clouds use it
    # inside their networks (Alibaba Cloud's metadata service is 100.100.100.200). Refused.
    "100.64.0.1": "shared address space 100.64/10",
    "100.100.100.200": "Alibaba Cloud's metadata service",
    "192.0.2.10": "documentation (TEST-NET-1)",
    "198.18.0.1": "benchmarking",
}
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_addresses_inside_a_network_are_not_public(address):
    assert not is_public(address), REFUSED[address]


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are(address):
    assert is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:9000/",
        "http://localhost/",  # a name: refused for what it resolves to
        "http://LocalHost:8000/",
    ],
)
async def test_urls_leading_inside_are_refused(url):
    with pytest.raises(RefusedAddress, match="refused") as refused:
        await resolve_checked(url, allow_private=False)
    assert isinstance(refused.value, PermanentSendError)  # never retried


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "javascript:alert(1)",
        "//example.com/no-scheme",
        "https:///no-host",
    ],
)
async def test_urls_other_than_http_with_a_host_are_refused(url):
    with pytest.raises(RefusedAddress, match="not an http"):
        await resolve_checked(url, allow_private=True)  # whatever the operator allows


async def test_public_addresses_pass_and_are_the_address_called():
    assert await resolve_checked("https://8.8.8.8/hook", allow_private=False) == (
        "8.8.8.8",
        "8.8.8.8",
    )


async def test_the_operator_may_allow_private_addresses():
    host, address = await resolve_checked("http://localhost:8080/hook", allow_private=True)
    assert host == "localhost" and not is_public(address)


async def test_a_post_goes_to_the_checked_address_with_the_urls_host(httpserver):

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    url = f"http://localhost:{httpserver.port}/hook?x=1"
    async with httpx.AsyncClient() as client:
        response = await guarded_post(client, url, allow_private=True, content=b"{}")
    assert response.status_code == 200
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"localhost:{httpserver.port}"
    assert request.args["x"] == "1"


async def test_a_post_does_not_follow_redirects(httpserver):
    """A public receiver cannot bounce Herald to an address inside (169.254.169.254)."""

    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=307, headers={"Location": "http://169.254.169.254/latest/"})
    )
    async with httpx.AsyncClient() as client:
        response = await guarded_post(
            client, f"http://127.0.0.1:{httpserver.port}/hook", allow_private=True
        )
    assert response.status_code == 307
    assert len(httpserver.log) == 1


async def test_a_refused_url_is_never_called(httpserver):

    async with httpx.AsyncClient() as client:
        with pytest.raises(RefusedAddress):
            await guarded_post(
                client, f"http://127.0.0.1:{httpserver.port}/hook", allow_private=False
            )
    assert httpserver.log == []


async def test_a_huge_answer_is_read_only_up_to_the_cap(httpserver):
    """A receiver is anyone's: its answer must not fill the worker's memory."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("x" * (5 * 1024 * 1024))
    async with httpx.AsyncClient() as client:
        response = await guarded_post(
            client, f"http://127.0.0.1:{httpserver.port}/hook", allow_private=True, json={}
        )
    assert response.status_code == 200
    assert len(response.content) == MAX_RESPONSE_BYTES
    request, _ = httpserver.log[0]
    assert request.headers["Accept-Encoding"] == "identity"
