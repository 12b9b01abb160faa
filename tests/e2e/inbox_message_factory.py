"""In-app messages for inbox tests, made the way a tenant makes them: a notification on the
in_app channel through POST /v1/notifications, its workflow run to the end.

    from tests.e2e.inbox_message_factory import in_app_message
    message_id = await in_app_message(stack, "ann", title="Your order shipped")
"""

import uuid

from tests.conftest import Stack


async def in_app_message(stack: Stack, external_id: str, **context: str) -> uuid.UUID:
    """Sends one in-app notification to the recipient (created, with an email address, when
    it does not exist) and returns its message's id once stored (the delivery's id)."""
    response = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id, "email": f"{external_id}@example.com"},
            "event_key": "order.shipped",
            "channels": ["in_app"],
            "context": {"title": "Order shipped", "message": "It is on its way."} | context,
        },
    )
    assert response.status_code == 202, response.text
    notification = await stack.wait_for_status(response.json()["id"], "sent")
    [delivery] = notification["deliveries"]
    return uuid.UUID(delivery["id"])
