"""One-click unsubscribe: a signed link turns a category off for one recipient, no login."""

import uuid

from sqlalchemy import select

from db.models import Recipient
from domain.unsubscribe import Unsubscribe, sign


async def make_recipient(stack, sessions) -> tuple[str, str]:
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": f"{external_id}@example.com"}
    )
    async with sessions() as session:
        recipient_id = await session.scalar(
            select(Recipient.id).where(
                Recipient.tenant_id == stack.tenant_id, Recipient.external_id == external_id
            )
        )
    return external_id, str(recipient_id)


def token_for(stack, recipient_id: str, category: str = "booking") -> str:
    return sign(
        stack.settings.signing_key(), Unsubscribe(str(stack.tenant_id), recipient_id, category)
    )


async def test_one_click_post_turns_the_category_off_without_login(stack, sessions):
    external_id, recipient_id = await make_recipient(stack, sessions)
    token = token_for(stack, recipient_id)

    page = await stack.api.get(f"/v1/unsubscribe/{token}", headers={"Authorization": ""})
    assert page.status_code == 200 and "<form method='post'>" in page.text
    prefs = (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()
    assert prefs["rules"] == {}  # looking at the page changes nothing

    done = await stack.api.post(
        f"/v1/unsubscribe/{token}",
        headers={"Authorization": ""},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert done.status_code == 200
    prefs = (await stack.api.get(f"/v1/recipients/{external_id}/preferences")).json()
    assert prefs["rules"] == {"booking": {"email": False}}


async def test_forged_or_edited_tokens_are_refused(stack, sessions):
    _, recipient_id = await make_recipient(stack, sessions)
    _, other_id = await make_recipient(stack, sessions)
    token = token_for(stack, recipient_id)
    payload, signature = token.split(".")
    edited = sign(
        b"some other key that is long", Unsubscribe(str(stack.tenant_id), other_id, "booking")
    )
    for bad in (
        f"{payload}.{signature[:-2]}AA",
        f"{edited.split('.')[0]}.{signature}",
        edited,
        "garbage",
    ):
        response = await stack.api.post(f"/v1/unsubscribe/{bad}", headers={"Authorization": ""})
        assert response.status_code == 403, bad
        assert response.json()["code"] == "invalid_token"


async def test_every_email_carries_a_working_one_click_link(stack, smtp):
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    address = f"{external_id}@example.com"
    body = {
        "recipient": {"external_id": external_id, "email": address},
        "event_key": "booking.confirmation",
        "channels": ["email"],
        "context": {"subject": "Booked", "message": "See you soon."},
    }
    await stack.api.post("/v1/notifications", json=body)
    [mail] = await smtp.wait_for(address)
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail.message["List-Unsubscribe"].strip("<>")
    # On the wire as mail clients read it: the plain <url>, not RFC 2047 encoded words.
    assert f"List-Unsubscribe: <{link}>".encode() in mail.raw
    assert link.startswith(f"{stack.settings.public_base_url}/v1/unsubscribe/")

    # What a mail client does for one-click unsubscribe: POST to the link, no credentials.
    path = link.removeprefix(stack.settings.public_base_url)
    response = await stack.api.post(
        path, headers={"Authorization": ""}, data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200

    again = (await stack.api.post("/v1/notifications", json=body)).json()
    done = await stack.wait_for_status(again["id"], "suppressed")
    assert done["deliveries"][0]["status_reason"].startswith("rule_disabled:")
