"""Browser notifications in Chromium: the widget on a tenant's page (another origin) enables
Web Push through its real code path (button -> register the service worker -> permission ->
pushManager.subscribe -> PUT /v1/inbox/devices), Herald pushes a notification to the local push
service, and the push reaches Herald's service worker, which shows it and tells the page.

Chromium's own pushManager.subscribe needs Google's push service (no internet here), so the
page gets a stand-in for it (SUBSCRIBE_STAND_IN): a real P-256 key pair and auth secret made
with WebCrypto, and a subscription whose endpoint is the test's push service; the private key
stays reachable to the test, which decrypts what Herald pushed and hands it to the service
worker with CDP's ServiceWorker.deliverPushMessage, as the browser's push client would."""

import asyncio
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.async_api import Page, expect

from tests.browser.conftest import (
    HostPages,
    NewPage,
    Served,
    assert_accessible,
    serving_on_a_port,
)
from tests.browser.inbox_widget import Widget, host_page, new_recipient
from tests.e2e.push_endpoint import Subscriber, b64url_bytes, running_push_service, vapid_claims

# In the page, before any script: PushManager's subscribe and getSubscription, as Chromium's
# would answer with a push service of the test's (ENDPOINT).
SUBSCRIBE_STAND_IN = """
(() => {
  const endpoint = ENDPOINT;
  const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    const serverKey = new Uint8Array(options.applicationServerKey).slice().buffer;
    const pair = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = await crypto.subtle.exportKey("raw", pair.publicKey);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    window.heraldTestPush = {
      userVisibleOnly: options.userVisibleOnly,
      applicationServerKey: b64url(serverKey),
      privateKey: await crypto.subtle.exportKey("jwk", pair.privateKey),
      auth: b64url(auth),
    };
    const keys = { p256dh: b64url(p256dh), auth: b64url(auth) };
    const json = { endpoint, expirationTime: null, keys };
    current = {
      endpoint,
      expirationTime: null,
      options: { userVisibleOnly: options.userVisibleOnly, applicationServerKey: serverKey },
      getKey: (name) => (name === "p256dh" ? p256dh : auth.buffer),
      toJSON: () => json,
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


@pytest.fixture
def push_service(tmp_path):
    with running_push_service(tmp_path) as service:
        yield service


@pytest.fixture
async def push_served(make_stack, temporal_env, push_service):
    async with (
        make_stack(temporal_env, **push_service.settings()) as stack,
        serving_on_a_port(stack) as running,
    ):
        yield running


def browser_subscriber(endpoint: str, pushed_keys: dict) -> Subscriber:
    """The subscription the page made: its private key (a JWK) and auth secret."""
    jwk = pushed_keys["privateKey"]
    key = ec.derive_private_key(int.from_bytes(b64url_bytes(jwk["d"]), "big"), ec.SECP256R1())
    return Subscriber(endpoint, key, b64url_bytes(pushed_keys["auth"]))


async def open_tenant_page(
    new_page: NewPage,
    served: Served,
    host_pages: HostPages,
    token: str,
    endpoint: str,
    grant: bool = True,
) -> Widget:
    """The tenant's page on its own origin, serving the one-line service worker that imports
    Herald's, and naming it in the widget's service-worker attribute; `grant`: the browser
    allows its notifications (as if the person had said yes)."""
    host_pages.put(
        "/herald-sw.js",
        f'importScripts("{served.base_url}/v1/inbox/herald-sw.js");\n',
        "text/javascript",
    )
    page = await new_page()
    if grant:
        await page.context.grant_permissions(["notifications"], origin=host_pages.origin)
    await page.add_init_script(SUBSCRIBE_STAND_IN.replace("ENDPOINT", json.dumps(endpoint)))
    url = host_pages.put(
        f"/{uuid.uuid4().hex[:8]}.html",
        host_page(served.base_url, token, {"service-worker": "/herald-sw.js"}),
    )
    await page.goto(url)
    await page.evaluate(
        """() => document.addEventListener("herald-push",
             (event) => (window.heraldPushes = window.heraldPushes || []).push(event.detail))"""
    )
    widget = Widget(page)
    await widget.wait_live()
    return widget


async def deliver_push(page: Page, scope: str, data: str) -> None:
    """What the browser's push client does with a push for the registration of `scope`: CDP's
    ServiceWorker.deliverPushMessage (the registration's id from its ServiceWorker domain)."""
    cdp = await page.context.new_cdp_session(page)
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def updated(event: dict) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    await cdp.send("ServiceWorker.enable")
    registration = await asyncio.wait_for(found, 10)
    origin = scope.rstrip("/")
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration, "data": data},
    )


async def test_the_widget_enables_web_push_and_a_push_reaches_the_service_worker(
    push_served, host_pages, push_service, new_page
):
    stack = push_served.stack
    recipient = await new_recipient(push_served, host_pages)
    endpoint = push_service.subscriber().endpoint
    widget = await open_tenant_page(new_page, push_served, host_pages, recipient.token, endpoint)
    page = widget.page

    # The real code path: the button registers the worker, subscribes, registers the device.
    await widget.open()
    await page.get_by_role("button", name="Notification preferences").click()
    enable = page.get_by_role("button", name="Enable browser notifications")
    await expect(enable).to_be_visible()
    await assert_accessible(page, "the preferences offering browser notifications")
    async with page.expect_request(
        lambda r: r.url.endswith("/v1/inbox/devices") and r.method == "PUT"
    ) as registering:
        await enable.click()
    registered = await (await registering.value).response()
    assert registered is not None
    assert registered.status == 201, await registered.text()
    await expect(page.locator("herald-inbox .push .hint")).to_have_text(
        "Browser notifications are on for this browser."
    )
    await expect(enable).to_be_hidden()

    key = (await stack.api.get("/v1/inbox/push/public-key")).json()["public_key"]
    made = await page.evaluate("window.heraldTestPush")
    assert made["userVisibleOnly"] is True and made["applicationServerKey"] == key
    devices = (await stack.api.get(f"/v1/recipients/{recipient.external_id}/devices")).json()
    [device] = devices["data"]
    assert device["kind"] == "webpush" and device["active"]
    assert device["endpoint_origin"] == push_service.origin
    assert device["label"].startswith("Browser")

    # Herald pushes to the subscription; the push service gets it signed, encrypted for the
    # page's key.
    sent = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": recipient.external_id},
            "event_key": "order.shipped",
            "channels": ["push"],
            "context": {
                "subject": "Your order shipped",
                "message": "Parcel 1Z999 left the warehouse.",
                "action_url": "https://shop.example.com/orders/42",
            },
        },
    )
    assert sent.status_code == 202, sent.text
    subscriber = browser_subscriber(endpoint, made)
    deadline = time.monotonic() + 15
    while not push_service.received_by(subscriber):
        assert time.monotonic() < deadline, "Herald never pushed"
        await asyncio.sleep(0.05)
    [pushed] = push_service.received_by(subscriber)
    vapid_claims(pushed, key)
    message = subscriber.decrypt(pushed)
    assert message["title"] == "Your order shipped"
    await stack.wait_for_status(sent.json()["id"], "sent")

    # The browser's push client hands the decrypted push to the service worker.
    await deliver_push(page, f"{host_pages.origin}/", json.dumps(message))
    await page.wait_for_function("(window.heraldPushes || []).length === 1")
    [told] = await page.evaluate("window.heraldPushes")
    assert told["message"]["title"] == "Your order shipped"
    shown = await page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.getRegistration("/herald-sw.js");
            return (await registration.getNotifications()).map(
                (n) => ({title: n.title, body: n.body, data: n.data, tag: n.tag}));
        }"""
    )
    assert len(shown) == 1, shown
    [notification] = shown
    assert notification["title"] == "Your order shipped"
    assert "Parcel 1Z999 left the warehouse." in notification["body"]
    assert notification["data"]["action_url"] == "https://shop.example.com/orders/42"
    assert notification["tag"] == f"herald-{message['data']['herald_delivery_id']}"


async def test_refused_permission_registers_no_device_and_says_why(
    push_served, host_pages, push_service, new_page
):
    recipient = await new_recipient(push_served, host_pages)
    endpoint = push_service.subscriber().endpoint
    widget = await open_tenant_page(
        new_page, push_served, host_pages, recipient.token, endpoint, grant=False
    )
    page = widget.page
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)

    await widget.open()
    await page.get_by_role("button", name="Notification preferences").click()
    await page.get_by_role("button", name="Enable browser notifications").click()
    await expect(page.locator("herald-inbox .status")).to_contain_text(
        "Notifications are blocked for this site"
    )
    assert puts == [] and await page.evaluate("window.heraldTestPush === undefined")
    devices = await push_served.stack.api.get(f"/v1/recipients/{recipient.external_id}/devices")
    assert devices.json()["data"] == []
