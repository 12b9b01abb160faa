"""Operators' access to the dashboard (issue 14), over HTTP against the real application,
database and Temporal: passwords, sign-in and out, sessions, CSRF and roles on every route,
sign-in limits across processes, tenant isolation. Invitations and resets: test_operator_links.py.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from domain.maintenance import PurgeInput
from domain.operators import Role, signed_session
from services.operators import NewOperator, create_operator
from tests.e2e.test_maintenance import run
from tests.e2e.test_templates_api import sms_template
from tests.utils.dashboard_forms import (
    PASSWORD,
    browser_client,
    csrf_of,
    field_error,
    log_in,
    new_operator,
    signed_in,
    submit,
)
from tests.utils.routes import api_routes
from workflows.maintenance import PurgeLogsWorkflow

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Routes a signed-out browser uses: anyone may post them (with the form's CSRF token).
SIGNED_OUT = {
    ("POST", "/dashboard/login"),
    ("POST", "/dashboard/forgot"),
    ("POST", "/dashboard/invite/{token}"),
    ("POST", "/dashboard/reset/{token}"),
}
# What any signed-in operator may do to their own session, a viewer included.
OWN_SESSION = {("POST", "/dashboard/logout"), ("POST", "/dashboard/logout/everywhere")}

# Every /dashboard route with a path parameter, classified. By id: an operator of another
# tenant gets 404 for this tenant's ids and changes nothing (the body is what the form sends).
DASHBOARD_BY_ID = {
    ("POST", "/dashboard/team/members/{operator_id}/role"): {"role": "viewer"},
    ("POST", "/dashboard/team/members/{operator_id}/remove"): {},
    ("POST", "/dashboard/team/invitations/{invitation_id}/revoke"): {},
    ("GET", "/dashboard/recipients/{external_id}"): {},
    ("GET", "/dashboard/recipients/{external_id}/dnd-preview"): {},
    ("POST", "/dashboard/recipients/{external_id}/contact"): {"name": "Taken over"},
    ("POST", "/dashboard/recipients/{external_id}/preferences"): {"dnd.enabled": "on"},
    ("POST", "/dashboard/scheduled/{id}/cancel"): {},
    ("POST", "/dashboard/scheduled/{id}/reschedule"): {"send_at": "2099-01-01T09:00"},
    ("GET", "/dashboard/templates/{template_id}"): {},
    ("POST", "/dashboard/templates/{template_id}"): {"name": "Taken over", "body": "x"},
    ("GET", "/dashboard/templates/{template_id}/email"): {},
    ("POST", "/dashboard/templates/{template_id}/test"): {"to": "+14155550123"},
    ("GET", "/dashboard/templates/{template_id}/versions"): {},
    ("GET", "/dashboard/templates/{template_id}/diff"): {},
    ("POST", "/dashboard/templates/{template_id}/restore"): {"version": "1"},
    ("GET", "/dashboard/history/{delivery_id}"): {},
    ("GET", "/dashboard/history/{delivery_id}/html"): {},
    ("POST", "/dashboard/history/{delivery_id}/resend"): {},
    ("POST", "/dashboard/settings/api-keys/{key_id}/revoke"): {},
}
# The secret is the credential: a made-up one finds nothing (410), whoever asks
# (tests/e2e/test_operator_links.py follows real ones).
DASHBOARD_TOKENS = {
    ("GET", "/dashboard/invite/{token}"),
    ("POST", "/dashboard/invite/{token}"),
    ("GET", "/dashboard/reset/{token}"),
    ("POST", "/dashboard/reset/{token}"),
}


def dashboard_routes(app) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, route in api_routes(app)
        if path.startswith("/dashboard")
        for method in route.methods or ()
        if method != "HEAD"
    }


def example_url(path: str) -> str:
    """The path with each parameter filled with a made-up id."""
    for name in (
        "operator_id",
        "invitation_id",
        "token",
        "message_id",
        "template_id",
        "external_id",
        "key_id",
        "delivery_id",
        "id",
    ):
        path = path.replace(f"{{{name}}}", str(uuid.uuid4()))
    assert "{" not in path, f"give {path}'s parameter an example here"
    return path


async def test_passwords_are_hashed_with_argon2id(stack, sessions):
    operator = await new_operator(sessions, stack.tenant_id)
    async with sessions() as session:
        hashed = await session.scalar(
            text("SELECT password_hash FROM operators WHERE id = :id"), {"id": operator.id}
        )
    # RFC 9106's second recommendation: argon2id, 64 MiB, 3 passes, 4 lanes, 16-byte salt.
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), hashed
    assert PASSWORD not in hashed
    other = await new_operator(sessions, stack.tenant_id)
    async with sessions() as session:
        other_hash = await session.scalar(
            text("SELECT password_hash FROM operators WHERE id = :id"), {"id": other.id}
        )
    assert other_hash != hashed  # salted: the same password hashes differently


async def test_sign_in_and_out(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    async with browser_client(stack.app) as browser:
        first = await browser.get("/dashboard/team")
        assert first.status_code == 303
        assert first.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fteam"
        # htmx would swap a redirect's page into a part of the page: it is told to go instead.
        part = await browser.get("/dashboard/team", headers={"HX-Request": "true"})
        assert part.status_code == 401
        assert part.headers["hx-redirect"] == "/dashboard/login?next=%2Fdashboard%2Fteam"

        wrong = await log_in(browser, owner.email, "not the password at all")
        assert wrong.status_code == 422
        assert field_error(wrong.text, "password") == "the email or password is not right"
        nobody = await log_in(browser, "nobody@example.com", PASSWORD)
        assert nobody.status_code == 422  # the same answer: no hint of which addresses exist
        assert field_error(nobody.text, "password") == "the email or password is not right"

        page = await browser.get("/dashboard/login?next=%2Fdashboard%2Fteam")
        signed = await browser.post(
            "/dashboard/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": owner.email.upper(),  # one account whatever the case
                "password": PASSWORD,
                "next": "/dashboard/team",
            },
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/dashboard/team"
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith("herald_session=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        team = await browser.get("/dashboard/team")
        assert team.status_code == 200 and owner.email in team.text

        session_cookie = browser.cookies["herald_session"]
        out = await submit(browser, "/dashboard/team", "/dashboard/logout", {})
        assert out.status_code == 303
        assert out.headers["location"] == "/dashboard/login?notice=signed_out"
        assert (await browser.get("/dashboard/team")).status_code == 303
    # The cookie kept from before is no session any more: the server ended it.
    async with browser_client(stack.app) as replay:
        replay.cookies.set("herald_session", session_cookie)
        assert (await replay.get("/dashboard/team")).status_code == 303


async def test_the_login_page_sends_nowhere_but_the_dashboard(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    for elsewhere in ("https://evil.example/", "//evil.example/dashboard", "/v1/logs"):
        async with browser_client(stack.app) as browser:
            page = await browser.get("/dashboard/login")
            signed = await browser.post(
                "/dashboard/login",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": owner.email,
                    "password": PASSWORD,
                    "next": elsewhere,
                },
            )
            assert signed.headers["location"] == "/dashboard", elsewhere


async def test_log_out_everywhere_ends_every_session(stack, sessions):
    editor = await new_operator(sessions, stack.tenant_id, Role.EDITOR)
    async with signed_in(stack.app, editor) as laptop, signed_in(stack.app, editor) as phone:
        assert (await phone.get("/dashboard/team")).status_code == 200
        out = await submit(laptop, "/dashboard/team", "/dashboard/logout/everywhere", {})
        assert out.headers["location"] == "/dashboard/login?notice=signed_out_everywhere"
        assert (await laptop.get("/dashboard/team")).status_code == 303
        assert (await phone.get("/dashboard/team")).status_code == 303
    audit = await audit_actions(sessions, stack.tenant_id)
    assert ("operator.sign_out_everywhere", editor.email) in audit


async def test_a_tampered_or_unknown_session_cookie_is_no_session(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner) as browser:
        real = browser.cookies["herald_session"]
    token, _, signature = real.rpartition(".")
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    key = stack.settings.signing_key()
    for cookie in (
        f"{flipped}.{signature}",  # another token under the real signature
        f"{token}.{signature[:-2]}xx",  # the real token, another signature
        token,  # no signature
        signed_session(key, uuid.uuid4().hex),  # signed by Herald, but no such session
        signed_session(b"another key of sixteen+ bytes", token),  # signed by someone else
    ):
        async with browser_client(stack.app) as forged:
            forged.cookies.set("herald_session", cookie)
            response = await forged.get("/dashboard/audit")
            assert response.status_code == 303, cookie
            assert response.headers["location"].startswith("/dashboard/login")
    async with browser_client(stack.app) as still:
        still.cookies.set("herald_session", real)  # untouched: still valid
        assert (await still.get("/dashboard/audit")).status_code == 200


async def test_idle_and_old_sessions_end(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner) as idle, signed_in(stack.app, owner) as old:
        async with sessions.begin() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT id FROM operator_sessions WHERE operator_id = :id "
                        "ORDER BY created_at"
                    ),
                    {"id": owner.id},
                )
            ).all()
            # Unused for 8 hours and a minute; used a minute ago but signed in 7 days ago.
            await session.execute(
                text("UPDATE operator_sessions SET last_seen_at = now() - :ago WHERE id = :id"),
                {"ago": timedelta(hours=8, minutes=1), "id": rows[0].id},
            )
            await session.execute(
                text(
                    "UPDATE operator_sessions SET created_at = now() - :ago, "
                    "last_seen_at = now() - interval '1 minute' WHERE id = :id"
                ),
                {"ago": timedelta(days=7, minutes=1), "id": rows[1].id},
            )
        assert (await idle.get("/dashboard/team")).status_code == 303
        assert (await old.get("/dashboard/team")).status_code == 303


async def test_over_https_the_cookie_is_secure_and_host_only(make_stack, temporal_env, sessions):
    async with make_stack(temporal_env, public_base_url="https://herald.example.com") as stack:
        owner = await new_operator(sessions, stack.tenant_id)
        async with browser_client(stack.app, base_url="https://herald.example.com") as browser:
            page = await browser.get("/dashboard/login")
            anonymous = page.headers["set-cookie"]
            assert anonymous.startswith("__Host-herald_csrf=") and "Secure" in anonymous
            signed = await browser.post(
                "/dashboard/login",
                data={"csrf_token": csrf_of(page.text), "email": owner.email, "password": PASSWORD},
            )
            cookie = signed.headers["set-cookie"]
    assert cookie.startswith("__Host-herald_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


async def test_every_state_changing_dashboard_route_needs_the_csrf_token(stack, sessions):
    routes = sorted(r for r in dashboard_routes(stack.app) if r[0] in UNSAFE)
    assert ("POST", "/dashboard/team/invitations") in routes  # the list is the app's own
    owner = await new_operator(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner) as browser:
        good = csrf_of((await browser.get("/dashboard/team")).text)
        for method, path in routes:
            url = example_url(path)
            missing = await browser.request(method, url, data={"role": "viewer"})
            assert missing.status_code == 403, (method, path, missing.status_code)
            assert "Reload the page" in missing.text, (method, path)
            wrong = await browser.request(
                method, url, data={"csrf_token": good[:-3] + "abc", "role": "viewer"}
            )
            assert wrong.status_code == 403, (method, path, wrong.status_code)
            header = await browser.request(method, url, headers={"X-CSRF-Token": "made-up"})
            assert header.status_code == 403, (method, path, header.status_code)
        # A token is this session's only: another operator's does not do.
        other = await new_operator(sessions, stack.tenant_id)
        async with signed_in(stack.app, other) as theirs:
            their_token = csrf_of((await theirs.get("/dashboard/team")).text)
        stolen = await browser.post("/dashboard/logout", data={"csrf_token": their_token})
        assert stolen.status_code == 403
        # The right one, in the form or in htmx's header, does.
        role = await browser.post(
            f"/dashboard/team/members/{other.id}/role",
            headers={"X-CSRF-Token": good},
            data={"role": "viewer"},
        )
        assert role.status_code == 303, role.text
    # Signed out, the login form needs the token of the browser's own cookie.
    async with browser_client(stack.app) as anonymous:
        login = {"email": owner.email, "password": PASSWORD}
        refused = await anonymous.post("/dashboard/login", data=login)
        assert refused.status_code == 403 and "herald_session" not in anonymous.cookies
        response = await log_in(anonymous, owner.email, PASSWORD)
        assert response.status_code == 303


async def test_a_viewer_cannot_change_anything(stack, sessions):
    """Every route that changes something, from the application's route list (so later pages are
    covered too), answers a viewer 403 with a valid CSRF token, and nothing changes."""
    routes = sorted(
        r
        for r in dashboard_routes(stack.app)
        if r[0] in UNSAFE and r not in SIGNED_OUT | OWN_SESSION
    )
    assert ("POST", "/dashboard/team/members/{operator_id}/role") in routes
    owner = await new_operator(sessions, stack.tenant_id)
    viewer = await new_operator(sessions, stack.tenant_id, Role.VIEWER)
    before = await audit_actions(sessions, stack.tenant_id)
    async with signed_in(stack.app, viewer) as browser:
        token = csrf_of((await browser.get("/dashboard/team")).text)
        for method, path in routes:
            url = example_url(path.replace("{operator_id}", str(owner.id)))
            response = await browser.request(
                method, url, data={"csrf_token": token, "role": "viewer", "email": "x@example.com"}
            )
            assert response.status_code == 403, (method, path, response.status_code)
        team = await browser.get("/dashboard/team")
    assert "Send the invitation" not in team.text and "Change role" not in team.text
    assert await audit_actions(sessions, stack.tenant_id) == before
    async with sessions() as session:
        role = await session.scalar(
            text("SELECT role FROM operators WHERE id = :id"), {"id": owner.id}
        )
    assert role == "owner"


async def test_sign_in_is_limited_per_account_across_processes(make_stack, temporal_env, sessions):
    """Five failures for an address within 15 minutes: the next attempt, even with the right
    password and from another API process and client address, is 429 with Retry-After."""
    async with make_stack(temporal_env) as first, make_stack(temporal_env) as second:
        owner = await new_operator(sessions, first.tenant_id)
        for attempt in range(5):
            async with browser_client((first if attempt % 2 else second).app) as browser:
                response = await log_in(browser, owner.email, f"wrong password {attempt}")
                assert response.status_code == 422, attempt
        async with browser_client(second.app) as browser:
            limited = await log_in(browser, owner.email, PASSWORD)
            assert limited.status_code == 429, limited.text
            assert 14 * 60 < int(limited.headers["retry-after"]) <= 15 * 60
            assert "too many failed attempts" in field_error(limited.text, "password")
        # The window starts at the oldest failure: moved back 15 minutes, one attempt is allowed.
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "UPDATE login_attempts SET at = at - interval '15 minutes' WHERE id = "
                    "(SELECT min(id) FROM login_attempts WHERE email = :email)"
                ),
                {"email": owner.email},
            )
        async with browser_client(first.app) as browser:
            assert (await log_in(browser, owner.email, PASSWORD)).status_code == 303
        # A success clears the address's failures.
        async with browser_client(first.app) as browser:
            assert (await log_in(browser, owner.email, "wrong again")).status_code == 422
            assert (await log_in(browser, owner.email, PASSWORD)).status_code == 303


async def test_sign_in_is_limited_per_client_address(stack, sessions):
    """Twenty failures from one address, whatever the accounts: that address waits, others not."""
    owner = await new_operator(sessions, stack.tenant_id)
    address = f"192.0.2.{uuid.uuid4().int % 250}"
    async with browser_client(stack.app, address) as guesser:
        for attempt in range(20):
            response = await log_in(guesser, f"guess{attempt}@example.com", "wrong password")
            assert response.status_code == 422, attempt
        limited = await log_in(guesser, owner.email, PASSWORD)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    async with browser_client(stack.app) as elsewhere:
        assert (await log_in(elsewhere, owner.email, PASSWORD)).status_code == 303


async def test_operators_see_and_change_only_their_own_tenant(make_stack, temporal_env, sessions):
    async with make_stack(temporal_env) as a, make_stack(temporal_env) as b:
        routes = dashboard_routes(a.app)
        with_params = {r for r in routes if "{" in r[1]}
        unclassified = with_params - DASHBOARD_BY_ID.keys() - DASHBOARD_TOKENS
        assert not unclassified, f"classify these dashboard routes for isolation: {unclassified}"
        a_owner = await new_operator(sessions, a.tenant_id, name="Alice of A")
        a_editor = await new_operator(sessions, a.tenant_id, Role.EDITOR, name="Eve of A")
        b_owner = await new_operator(sessions, b.tenant_id, name="Bob of B")
        async with signed_in(a.app, a_owner) as alice:
            invited = await submit(
                alice, "/dashboard/team", "/dashboard/team/invitations",
                {"email": "a-invitee@example.com", "role": "viewer"},
            )  # fmt: skip
            assert invited.status_code == 303, invited.text
        a_invitation = await _invitation_id(sessions, a.tenant_id, "a-invitee@example.com")
        a_template = await a.api.post("/v1/templates", json=sms_template())
        ids = {"operator_id": str(a_editor.id), "invitation_id": str(a_invitation)}
        ids["external_id"] = await _recipient_with_scheduled_notification(a)
        ids["id"] = (await a.api.get("/v1/scheduled")).json()["data"][0]["id"]
        ids["template_id"] = a_template.json()["id"]
        ids["delivery_id"] = await _a_delivery(a)
        ids["key_id"] = (await a.api.get("/v1/api-keys")).json()["data"][0]["id"]
        before = await audit_actions(sessions, a.tenant_id)

        async with signed_in(b.app, b_owner) as bob:
            token = csrf_of((await bob.get("/dashboard/team")).text)
            for (method, path), body in sorted(DASHBOARD_BY_ID.items()):
                url = path.format(**ids)
                response = await bob.request(method, url, data={"csrf_token": token, **body})
                assert response.status_code == 404, (path, response.status_code)
                assert a_editor.email not in response.text, path
            # Pages show B nothing of A's: no member, invitation or audit entry.
            for _, path in sorted(r for r in routes if r[0] == "GET" and "{" not in r[1]):
                page = await bob.get(path)
                assert page.status_code < 500, (path, page.text[:300])
                for secret in (a_owner.email, a_editor.email, "a-invitee@example.com"):
                    assert secret not in page.text, (path, secret)
        recipient = (await a.api.get(f"/v1/recipients/{ids['external_id']}")).json()
        assert recipient["name"] == "Of A"
        assert (await a.notification(ids["id"]))["status"] == "scheduled"
        template = (await a.api.get(f"/v1/templates/{ids['template_id']}")).json()
        assert template["version"] == 1 and template["name"] != "Taken over"
    assert await audit_actions(sessions, a.tenant_id) == before
    async with sessions() as session:
        role = await session.scalar(
            text("SELECT role FROM operators WHERE id = :id"), {"id": a_editor.id}
        )
        open_invitations = await session.scalar(
            text("SELECT count(*) FROM operator_invitations WHERE id = :id AND revoked_at IS NULL"),
            {"id": a_invitation},
        )
    assert role == "editor" and open_invitations == 1


async def _recipient_with_scheduled_notification(stack) -> str:
    """A recipient of the stack's tenant, with a notification scheduled for a month ahead."""
    external_id = f"of-a-{uuid.uuid4().hex[:8]}"
    put = await stack.api.put(
        f"/v1/recipients/{external_id}",
        json={"name": "Of A", "email": f"{external_id}@example.com"},
    )
    assert put.status_code == 200, put.text
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {
        "recipient": {"external_id": external_id},
        "event_key": "booking.confirmation",
        "channels": ["email"],
        "context": {"subject": "Later", "message": "Later."},
        "send_at": later,
    }
    accepted = await stack.api.post("/v1/notifications", json=body)
    assert accepted.status_code == 202, accepted.text
    await stack.wait_for_status(accepted.json()["id"], "scheduled")
    return external_id


async def _a_delivery(stack) -> str:
    """A delivery of the stack's tenant: an email sent (to the test's mail catcher)."""
    body = {
        "recipient": {"email": f"a-{uuid.uuid4().hex[:8]}@example.com"},
        "event_key": "payment.completed",
        "channels": ["email"],
        "context": {"amount": "1.00", "currency": "EUR"},
    }
    accepted = await stack.api.post("/v1/notifications", json=body)
    assert accepted.status_code == 202, accepted.text
    sent = await stack.wait_for_status(accepted.json()["id"], "sent")
    return sent["deliveries"][0]["id"]


async def _invitation_id(sessions, tenant_id, email) -> uuid.UUID:
    async with sessions() as session:
        return await session.scalar(
            text(
                "SELECT id FROM operator_invitations WHERE tenant_id = :tenant AND email = :email "
                "ORDER BY created_at DESC LIMIT 1"
            ),
            {"tenant": tenant_id, "email": email},
        )


async def test_the_team_keeps_an_owner_and_every_change_is_in_the_audit_log(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id, name="Olga Owner")
    editor = await new_operator(sessions, stack.tenant_id, Role.EDITOR, name="Ed Editor")
    async with signed_in(stack.app, owner) as browser:
        last = await submit(
            browser,
            "/dashboard/team",
            f"/dashboard/team/members/{owner.id}/role",
            {"role": "editor"},
        )
        assert last.status_code == 409
        assert "a team keeps at least one owner" in last.text
        removed = await submit(
            browser, "/dashboard/team", f"/dashboard/team/members/{owner.id}/remove", {}
        )
        assert removed.status_code == 409

        promoted = await submit(
            browser,
            "/dashboard/team",
            f"/dashboard/team/members/{editor.id}/role",
            {"role": "owner"},
        )
        assert promoted.status_code == 303
        demoted = await submit(
            browser,
            "/dashboard/team",
            f"/dashboard/team/members/{owner.id}/role",
            {"role": "viewer"},
        )
        assert demoted.status_code == 303  # another owner remains
        # The role is read on every request: the demoted owner is a viewer at once.
        assert "Send the invitation" not in (await browser.get("/dashboard/team")).text
        audit = await browser.get("/dashboard/audit")
    assert audit.status_code == 200
    assert "operator.change_role" in audit.text and editor.email in audit.text
    assert (await audit_actions(sessions, stack.tenant_id))[-2:] == [
        ("operator.change_role", editor.email),
        ("operator.change_role", owner.email),
    ]


async def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    before = await audit_actions(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner) as browser:
        bad = await submit(
            browser, "/dashboard/team", "/dashboard/team/invitations",
            {"email": "not an address", "role": "boss"},
        )  # fmt: skip
        assert bad.status_code == 422
        assert field_error(bad.text, "email").startswith("value is not a valid email address")
        assert field_error(bad.text, "role") == "Input should be 'owner', 'editor' or 'viewer'"
        assert 'value="not an address"' in bad.text  # what was typed stays in the form
        member = await submit(
            browser, "/dashboard/team", "/dashboard/team/invitations",
            {"email": owner.email, "role": "editor"},
        )  # fmt: skip
        assert member.status_code == 409
        assert (
            field_error(member.text, "email") == f"{owner.email} is already a member of this team"
        )
    assert await audit_actions(sessions, stack.tenant_id) == before
    async with sessions() as session:
        invitations = await session.scalar(
            text("SELECT count(*) FROM operator_invitations WHERE tenant_id = :t"),
            {"t": stack.tenant_id},
        )
    assert invitations == 0


async def audit_actions(sessions, tenant_id) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT action, target FROM audit_log WHERE tenant_id = :t ORDER BY id"),
            {"t": tenant_id},
        )
        return [(row.action, row.target) for row in rows]


async def test_the_daily_purge_deletes_old_access_records_but_not_the_audit_log(stack, sessions):
    owner = await new_operator(sessions, stack.tenant_id)
    async with signed_in(stack.app, owner):
        pass
    old = "now() - interval '100 days'"
    async with sessions.begin() as session:
        for table, column in (
            ("login_attempts", "at"),
            ("operator_sessions", "created_at"),
            ("audit_log", "at"),
        ):
            await session.execute(text(f"UPDATE {table} SET {column} = {old}"))
    result = await run(stack, PurgeLogsWorkflow.run, PurgeInput(retention_days=90))
    assert result.deleted["login_attempts"] >= 1 and result.deleted["operator_sessions"] >= 1
    async with sessions() as session:
        for table in ("login_attempts", "operator_sessions"):
            left = await session.scalar(text(f"SELECT count(*) FROM {table}"))
            assert left == 0, table
        kept = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE tenant_id = :t"), {"t": stack.tenant_id}
        )
    assert kept >= 1


async def test_an_address_on_two_teams_chooses_one_at_sign_in(make_stack, temporal_env, sessions):
    async with make_stack(temporal_env) as a, make_stack(temporal_env) as b:
        email = f"both-{uuid.uuid4().hex[:8]}@example.com"
        for stack, name in ((a, "Ann of A"), (b, "Ann of B")):
            await create_operator(
                sessions,
                NewOperator(stack.tenant_id, email, name, Role.EDITOR, PASSWORD),
                actor="tests",
            )
        async with browser_client(a.app) as browser:
            asked = await log_in(browser, email, PASSWORD)
            assert asked.status_code == 200 and "which one?" in asked.text
            assert "herald_session" not in browser.cookies
            chosen = await browser.post(
                "/dashboard/login",
                data={
                    "csrf_token": csrf_of(asked.text),
                    "email": email,
                    "password": PASSWORD,
                    "tenant_id": str(b.tenant_id),
                },
            )
            assert chosen.status_code == 303
            assert "Ann of B" in (await browser.get("/dashboard/team")).text
