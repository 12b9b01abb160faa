"""Resend: a failed or bounced delivery gets a new attempt chain linked to the old one."""

import uuid

from db.address_health import mark_address_invalid
from tests.conftest import new_tenant
from tests.e2e.test_email_smtp import email_request


async def failed_delivery(stack, smtp) -> tuple[dict, str]:
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    smtp.refused_addresses[to] = "550 5.1.1 No such user here"
    accepted = (await stack.api.post("/v1/notifications", json=email_request(to))).json()
    notification = await stack.wait_for_status(accepted["id"], "failed")
    smtp.refused_addresses.pop(to)
    return notification, to


async def test_resending_a_failed_delivery_starts_a_linked_chain(stack, smtp):
    notification, to = await failed_delivery(stack, smtp)
    [old] = notification["deliveries"]

    response = await stack.api.post(f"/v1/deliveries/{old['id']}/resend")
    assert response.status_code == 202, response.text
    resent = response.json()
    assert resent["resent_from_id"] == old["id"] and resent["id"] != old["id"]

    await smtp.wait_for(to)
    after = await stack.wait_for_status(notification["id"], "sent")
    by_id = {d["id"]: d for d in after["deliveries"]}
    assert by_id[old["id"]]["status"] == "failed"  # history stays as it was
    assert by_id[resent["id"]]["status"] == "sent"
    assert by_id[resent["id"]]["resent_from_id"] == old["id"]

    again = await stack.api.post(f"/v1/deliveries/{old['id']}/resend")
    assert again.status_code == 409 and "already resent" in again.json()["detail"]
    sent_one = await stack.api.post(f"/v1/deliveries/{resent['id']}/resend")
    assert sent_one.status_code == 409 and "only failed or bounced" in sent_one.json()["detail"]


async def test_a_suppressed_address_is_not_resent(stack, smtp, sessions):
    notification, to = await failed_delivery(stack, smtp)
    async with sessions.begin() as session:
        await mark_address_invalid(
            session, stack.tenant_id, "email", to, "hard bounce: 550 mailbox unavailable"
        )
    response = await stack.api.post(f"/v1/deliveries/{notification['deliveries'][0]['id']}/resend")
    assert response.status_code == 409
    assert "suppressed: hard bounce" in response.json()["detail"]


async def test_bulk_resend_by_filter_and_tenant_isolation(stack, smtp, sessions):
    failed = [await failed_delivery(stack, smtp) for _ in range(3)]
    _, other_key = await new_tenant(sessions, "Other")
    other = {"Authorization": f"Bearer {other_key}"}
    assert (
        await stack.api.post(
            f"/v1/deliveries/{failed[0][0]['deliveries'][0]['id']}/resend", headers=other
        )
    ).status_code == 404
    assert (
        await stack.api.post("/v1/deliveries/resend", json={"status": "failed"}, headers=other)
    ).json()["resent"] == []

    response = await stack.api.post(
        "/v1/deliveries/resend", json={"status": "failed", "channel": "email"}
    )
    assert response.status_code == 202, response.text
    assert len(response.json()["resent"]) == 3 and response.json()["skipped"] == []
    for notification, to in failed:
        await smtp.wait_for(to)
        await stack.wait_for_status(notification["id"], "sent")
    bad = await stack.api.post("/v1/deliveries/resend", json={"status": "sent"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("status")
