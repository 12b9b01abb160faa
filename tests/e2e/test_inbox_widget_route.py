"""GET /v1/inbox/widget.js: the bell's script, public, loadable from any origin, cached by
version (the browser behaviour is tests/browser's)."""

import httpx

from web.assets import STATIC, asset


async def test_the_widget_script_is_public_cross_origin_and_cached_by_version(stack):
    anonymous = httpx.AsyncClient(transport=stack.api._transport, base_url="http://herald")
    response = await anonymous.get(
        "/v1/inbox/widget.js", headers={"Origin": "https://shop.example.com"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == (STATIC / "inbox" / "herald-inbox.js").read_bytes()
    assert 'customElements.define("herald-inbox"' in response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    assert etag == asset("inbox/herald-inbox.js").etag and len(etag) == 18

    again = await anonymous.get("/v1/inbox/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stale = await anonymous.get("/v1/inbox/widget.js", headers={"If-None-Match": '"older"'})
    assert stale.status_code == 200 and stale.content == response.content
    await anonymous.aclose()
