"""Invitations and password resets end to end (issue 14): the email goes through Herald's own
notification workflow to the SMTP server, is found in the tenant's history, and its link works
once; the history never holds a usable link, and a notification someone else makes with a link's
id carries a link that does not work."""

import html
import re
import uuid

from sqlalchemy import text

from domain.operators import Role
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.dashboard_forms import (
    PASSWORD,
    browser_client,
    field_error,
    log_in,
    new_operator,
    signed_in,
    submit,
)

NEW_PASSWORD = "another long passphrase"


def link_in(mail, path: str) -> str:
    """The path of the dashboard link the email carries (`/dashboard/invite/<token>`)."""
    found = re.search(rf"https?://[^/\s\"']+({path}[A-Za-z0-9_\-]+)", mail.text())
    assert found, mail.text()
    assert found.group(1) in html.unescape(mail.html() or "")
    return found.group(1)


async def stored_contexts(sessions, tenant_id, event_key: str) -> list[dict]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT context FROM notifications WHERE tenant_id = :t AND event_key = :e "
                "ORDER BY created_at"
            ),
            {"t": tenant_id, "e": event_key},
        )
        return [row.context for row in rows]


async def test_an_invited_editor_joins_through_the_emailed_link(stack, sessions, smtp):
    owner = await new_operator(sessions, stack.tenant_id, name="Olga Owner")
    invitee = f"new.editor.{uuid.uuid4().hex[:8]}@example.com"
    async with signed_in(stack.app, owner) as browser:
        sent = await submit(
            browser, "/dashboard/team", "/dashboard/team/invitations",
            {"email": invitee, "role": "editor"},
        )  # fmt: skip
        assert sent.status_code == 303, sent.text
        team = await browser.get(sent.headers["location"])
        assert "Invitation sent" in team.text and invitee in team.text  # pending

    (mail,) = await smtp.wait_for(invitee)
    assert mail.subject == "Olga Owner invited you to Acme on Herald"
    path = link_in(mail, "/dashboard/invite/")
    assert "as an editor" in mail.text()

    # In the tenant's history, sent, like any notification; its stored context has no link.
    logs = await stack.api.get("/v1/logs", params={"recipient": f"email:{invitee}"})
    (entry,) = logs.json()["data"]
    assert entry["status"] == "sent" and entry["channel"] == "email", entry
    (context,) = await stored_contexts(sessions, stack.tenant_id, "herald.operator_invite")
    assert path.rsplit("/", 1)[1] not in str(context) and "invite_url" not in context

    async with browser_client(stack.app) as newcomer:
        page = await newcomer.get(path)
        assert page.status_code == 200 and invitee in page.text and "editor" in page.text
        short = await submit(newcomer, path, path, {"name": "Nina", "password": "short"})
        assert short.status_code == 422
        assert field_error(short.text, "password") == "must be at least 12 characters"
        joined = await submit(newcomer, path, path, {"name": "Nina New", "password": PASSWORD})
        assert joined.status_code == 303, joined.text
        assert joined.headers["location"].startswith("/dashboard/login?notice=joined")
        assert (await newcomer.get(path)).status_code == 410  # once only

        assert (await log_in(newcomer, invitee, PASSWORD)).status_code == 303
        team = await newcomer.get("/dashboard/team")
        assert "Nina New" in team.text and "(you)" in team.text
    async with sessions() as session:
        role = await session.scalar(
            text("SELECT role FROM operators WHERE tenant_id = :t AND email = :e"),
            {"t": stack.tenant_id, "e": invitee},
        )
    assert role == Role.EDITOR
    async with sessions() as session:
        actions = (
            await session.execute(
                text("SELECT action, operator_email FROM audit_log WHERE tenant_id = :t"),
                {"t": stack.tenant_id},
            )
        ).all()
    assert ("operator.invite", owner.email) in actions and ("operator.join", invitee) in actions


async def test_a_new_invitation_replaces_the_open_one(stack, sessions, smtp):
    owner = await new_operator(sessions, stack.tenant_id)
    invitee = "twice.invited@example.com"
    async with signed_in(stack.app, owner) as browser:
        for role in ("viewer", "editor"):
            fields = {"email": invitee, "role": role}
            sent = await submit(browser, "/dashboard/team", "/dashboard/team/invitations", fields)
            assert sent.status_code == 303
    first, second = await smtp.wait_for(invitee, count=2)
    async with browser_client(stack.app) as newcomer:
        assert (await newcomer.get(link_in(first, "/dashboard/invite/"))).status_code == 410
        assert (await newcomer.get(link_in(second, "/dashboard/invite/"))).status_code == 200


async def test_a_forgotten_password_is_reset_through_the_emailed_link(stack, sessions, smtp):
    operator = await new_operator(sessions, stack.tenant_id, Role.VIEWER, name="Vic")
    async with signed_in(stack.app, operator) as old_session:
        async with browser_client(stack.app) as browser:
            for address in (operator.email, "nobody-here@example.com"):
                asked = await submit(
                    browser, "/dashboard/forgot", "/dashboard/forgot", {"email": address}
                )
                assert asked.status_code == 200
                # The same answer whether or not an account has the address.
                assert "If an account has the address" in asked.text
            bad = await submit(browser, "/dashboard/forgot", "/dashboard/forgot", {"email": "x"})
            assert bad.status_code == 422 and field_error(bad.text, "email")

        (mail,) = await smtp.wait_for(operator.email)
        path = link_in(mail, "/dashboard/reset/")
        assert "Reset your Herald password" in mail.subject
        (context,) = await stored_contexts(sessions, stack.tenant_id, "herald.password_reset")
        assert path.rsplit("/", 1)[1] not in str(context) and "reset_url" not in context

        async with browser_client(stack.app) as browser:
            assert (await browser.get(path)).status_code == 200
            reset = await submit(browser, path, path, {"password": NEW_PASSWORD})
            assert reset.status_code == 303
            assert (await browser.get(path)).status_code == 410  # once only
            # Every session of the account ended; only the new password signs in.
            assert (await old_session.get("/dashboard/team")).status_code == 303
            assert (await log_in(browser, operator.email, PASSWORD)).status_code == 422
            assert (await log_in(browser, operator.email, NEW_PASSWORD)).status_code == 303
    assert not smtp.to("nobody-here@example.com")


async def test_a_notification_made_with_a_links_id_carries_a_link_that_does_not_work(
    stack, sessions, smtp
):
    """Someone with the tenant's API key sends themself a password-reset notification naming a
    real reset's id: the link in their email is made for their address, so it opens nothing."""
    operator = await new_operator(sessions, stack.tenant_id)
    async with browser_client(stack.app) as browser:
        fields = {"email": operator.email}
        assert (await submit(browser, "/dashboard/forgot", "/dashboard/forgot", fields)).is_success
    await smtp.wait_for(operator.email)
    (context,) = await stored_contexts(sessions, stack.tenant_id, "herald.password_reset")
    attacker = "attacker@example.com"
    forged = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"email": attacker},
            "event_key": "herald.password_reset",
            "channels": ["email"],
            "context": {"reset_id": context["reset_id"], "team_name": "Acme"},
        },
    )
    assert forged.status_code == 202, forged.text
    (mail,) = await smtp.wait_for(attacker)
    async with browser_client(stack.app) as browser:
        assert (await browser.get(link_in(mail, "/dashboard/reset/"))).status_code == 410


async def test_an_invitation_while_temporal_is_down_is_a_503(
    stack,
    sessions,
    smtp,
    unreachable_temporal,  # noqa: F811  (the fixture imported above)
):
    owner = await new_operator(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner) as browser:
        stack.app.state.temporal = unreachable_temporal
        try:
            fields = {"email": "while.down@example.com", "role": "viewer"}
            down = await submit(browser, "/dashboard/team", "/dashboard/team/invitations", fields)
            assert down.status_code == 503 and down.headers["retry-after"] == "5"
        finally:
            stack.app.state.temporal = stack.client
        again = await submit(browser, "/dashboard/team", "/dashboard/team/invitations", fields)
        assert again.status_code == 303
    (mail,) = await smtp.wait_for("while.down@example.com")
    async with browser_client(stack.app) as newcomer:
        assert (await newcomer.get(link_in(mail, "/dashboard/invite/"))).status_code == 200
