"""/v1/templates on the real stack: CRUD, versions, validation, isolation, preview, test sends."""

import uuid

from tests.conftest import new_tenant

CONFIRMATION_HTML = "<p>Hi {{ invitee_name }},</p>\n<p>See you {{ start_time_invitee }}.</p>\n"


def email_template(**fields) -> dict:
    return {
        "name": f"Confirmation {uuid.uuid4().hex[:6]}",
        "event_key": "booking.confirmation",
        "channel": "email",
        "subject": "See you, {{ invitee_name }}",
        "html_body": CONFIRMATION_HTML,
        **fields,
    }


def sms_template(**fields) -> dict:
    return {
        "name": f"SMS {uuid.uuid4().hex[:6]}",
        "event_key": "booking.reminder",
        "channel": "sms",
        "body": "{{ event_name }} at {{ start_time_invitee }}",
        **fields,
    }


async def create(api, body: dict) -> dict:
    response = await api.post("/v1/templates", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_read_update_versions_delete(stack):
    created = await create(stack.api, email_template(owner_id="org-1"))
    assert (created["version"], created["is_active"], created["locale"]) == (1, True, "en")
    got = (await stack.api.get(f"/v1/templates/{created['id']}")).json()
    assert got == created

    put = await stack.api.put(
        f"/v1/templates/{created['id']}", json={"subject": "Booked: {{ event_name }}"}
    )
    assert put.status_code == 200, put.text
    updated = put.json()
    assert (
        updated["version"] == 2 and updated["current_version_id"] != created["current_version_id"]
    )
    assert updated["html_body"] == CONFIRMATION_HTML  # untouched fields are kept

    versions = (await stack.api.get(f"/v1/templates/{created['id']}/versions")).json()
    assert [v["version"] for v in versions["data"]] == [2, 1] and versions["next_cursor"] is None
    first = (await stack.api.get(f"/v1/templates/{created['id']}/versions?limit=1")).json()
    rest = await stack.api.get(
        f"/v1/templates/{created['id']}/versions", params={"cursor": first["next_cursor"]}
    )
    assert [v["version"] for v in first["data"] + rest.json()["data"]] == [2, 1]
    assert versions["data"][1]["subject"] == "See you, {{ invitee_name }}"  # immutable history
    assert versions["data"][0]["id"] == updated["current_version_id"]

    assert (await stack.api.delete(f"/v1/templates/{created['id']}")).status_code == 204
    assert (await stack.api.get(f"/v1/templates/{created['id']}")).status_code == 404
    assert (await stack.api.get("/v1/templates")).json()["data"] == []


async def test_list_filters_and_paginates(stack):
    for i in range(3):
        await create(stack.api, email_template(name=f"email {i}"))
    await create(stack.api, sms_template(owner_id="org-7", is_active=False))

    first = (await stack.api.get("/v1/templates?limit=3")).json()
    second = (await stack.api.get(f"/v1/templates?limit=3&cursor={first['next_cursor']}")).json()
    assert (len(first["data"]), len(second["data"]), second["next_cursor"]) == (3, 1, None)
    pages = first["data"] + second["data"]
    assert len({t["id"] for t in pages}) == 4
    updated = [t["updated_at"] for t in pages]
    assert updated == sorted(updated, reverse=True)

    async def count(query: str) -> int:
        return len((await stack.api.get(f"/v1/templates?{query}")).json()["data"])

    assert await count("channel=sms") == await count("owner=org-7") == 1
    assert await count("active=true") == await count("event_key=booking.confirmation") == 3
    assert (await stack.api.get("/v1/templates?channel=fax")).status_code == 422


async def test_validation_names_the_field_and_the_line(stack):
    cases = [
        (
            email_template(html_body="<p>one</p>\n<p>two</p>\n<p>{{ x + }}</p>"),
            "html_body line 3: syntax error",
        ),
        (email_template(subject="{{ ''.__class__.__mro__ }}"), "subject line 1: "),
        (
            email_template(html_body="<p>\n{{ cycler.__init__.__globals__ }}</p>"),
            "html_body line 2: ",
        ),
        (
            email_template(html_body="{% include '/etc/passwd' %}"),
            "html_body line 1: {% include %} is not allowed",
        ),
        (email_template(subject=None), "subject: required for email templates"),
        (
            email_template(required_placeholders=["meeting_link"]),
            "required_placeholders: not used by the template: meeting_link",
        ),
        (
            sms_template(body="{{ event_name }} " + "x" * 600),
            "body: SMS body is 4 segments (GSM-7); the limit is 3",
        ),
        (email_template(event_key="Not A Key"), "event_key: "),
        (email_template(channel="fax"), "channel: "),
    ]
    for body, message in cases:
        response = await stack.api.post("/v1/templates", json=body)
        assert response.status_code == 422, (message, response.text)
        assert response.json()["detail"].startswith(message), response.text
    assert (await stack.api.get("/v1/templates")).json()["data"] == []  # nothing was stored

    template = await create(stack.api, email_template())
    bad = await stack.api.put(f"/v1/templates/{template['id']}", json={"text_body": "a\n{% for %}"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("text_body line 2: ")
    assert (await stack.api.get(f"/v1/templates/{template['id']}")).json()["version"] == 1


async def test_names_are_unique_per_owner_event_and_channel(stack):
    await create(stack.api, email_template(name="Welcome"))
    clash = await stack.api.post("/v1/templates", json=email_template(name="welcome"))
    assert clash.status_code == 409 and clash.json()["detail"].startswith("name: ")
    await create(stack.api, email_template(name="Welcome", owner_id="org-2"))  # another owner
    await create(stack.api, sms_template(name="Welcome"))  # another channel


async def test_a_new_default_replaces_the_previous_one(stack):
    first = await create(stack.api, email_template(is_default=True))
    second = await create(stack.api, email_template(is_default=True))
    other_locale = await create(stack.api, email_template(is_default=True, locale="pt-BR"))

    assert (await stack.api.get(f"/v1/templates/{first['id']}")).json()["is_default"] is False
    assert (await stack.api.get(f"/v1/templates/{second['id']}")).json()["is_default"] is True
    assert (await stack.api.get(f"/v1/templates/{other_locale['id']}")).json()["is_default"] is True


async def test_another_tenant_never_sees_the_templates(stack, sessions):
    template = await create(stack.api, email_template())
    _, key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(key)
    base = f"/v1/templates/{template['id']}"
    for method, path, body in [
        ("GET", base, None),
        ("PUT", base, {"name": "mine"}),
        ("DELETE", base, None),
        ("GET", f"{base}/versions", None),
        ("POST", f"{base}/preview", {}),
        ("POST", f"{base}/test", {"email": "x@example.com"}),
    ]:
        response = await other.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await other.get("/v1/templates")).json() == {"data": [], "next_cursor": None}
    assert (await stack.api.get(base)).json()["name"] == template["name"]  # untouched
    assert (
        await stack.api.get("/v1/templates", headers={"Authorization": "Bearer nope"})
    ).status_code == 401


async def test_preview_renders_sample_data_with_warnings(stack):
    template = await create(
        stack.api,
        email_template(
            html_body=CONFIRMATION_HTML + "<p>Code: {{ door_code }}</p>",
            fallbacks={"door_code": "ask at the desk"},
        ),
    )
    response = await stack.api.post(
        f"/v1/templates/{template['id']}/preview", json={"context": {"invitee_name": "Zoë <b>"}}
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["subject"] == "See you, Zoë <b>"
    assert (
        "Zoë &lt;b&gt;" in preview["html"] and "<table" in preview["html"]
    )  # escaped, in the layout
    assert "Monday, June 2, 2025, 4:00 PM +0200" in preview["text"]  # sample data
    assert "Code: ask at the desk" in preview["text"]
    assert preview["warnings"] == [
        "door_code: missing from the context; shown as its fallback 'ask at the desk'"
    ]


async def test_preview_counts_sms_segments_and_encoding(stack):
    template = await create(stack.api, sms_template())
    url = f"/v1/templates/{template['id']}/preview"
    gsm = (await stack.api.post(url, json={})).json()
    assert gsm["sms"] == {"encoding": "GSM-7", "segments": 1, "characters": len(gsm["text"])}
    ucs = (await stack.api.post(url, json={"context": {"event_name": "Созвон " * 12}})).json()
    assert ucs["sms"]["encoding"] == "UCS-2" and ucs["sms"]["segments"] == 2


async def test_preview_formats_booking_times_from_the_context(stack):
    template = await create(stack.api, email_template(locale="pt-BR"))
    context = {
        "start": "2025-06-02T14:00:00Z",
        "end": "2025-06-02T15:00:00Z",
        "organizer_timezone": "America/New_York",
        "invitee_timezone": "America/Sao_Paulo",
    }
    preview = (
        await stack.api.post(f"/v1/templates/{template['id']}/preview", json={"context": context})
    ).json()
    assert "segunda-feira, 2 de junho de 2025 11:00" in preview["text"], preview["text"]
    bad = await stack.api.post(
        f"/v1/templates/{template['id']}/preview",
        json={"context": {**context, "invitee_timezone": "Mars/Olympus"}},
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("context: unknown time zone")


async def test_test_send_reaches_the_smtp_server_marked_as_a_test(stack, smtp):
    template = await create(
        stack.api, email_template(required_placeholders=["invitee_name"], is_active=False)
    )
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    response = await stack.api.post(f"/v1/templates/{template['id']}/test", json={"email": address})
    assert response.status_code == 202, response.text

    [mail] = await smtp.wait_for(address)
    assert mail.subject == "[TEST] See you, Ana Souza"  # an inactive template, with sample data
    notification = await stack.wait_for_status(response.json()["id"], "sent")
    assert notification["deliveries"][0]["template_version_id"] == template["current_version_id"]


async def test_test_send_refuses_what_cannot_be_sent(stack, smtp):
    email = await create(stack.api, email_template())
    sms = await create(
        stack.api, sms_template(body="{{ door_code }}", required_placeholders=["door_code"])
    )
    cases = [
        (email, {"phone": "+14155550123"}, "email: required to test an email template"),
        (
            email,
            {"email": "a@example.com", "phone": "+14155550123"},
            "give either an email or a phone",
        ),
        (sms, {"phone": "+14155550123"}, "context: missing required placeholders: door_code"),
    ]
    for template, body, message in cases:
        response = await stack.api.post(f"/v1/templates/{template['id']}/test", json=body)
        assert response.status_code == 422 and message in response.json()["detail"], response.text


async def test_variables_catalogue(stack):
    response = await stack.api.get("/v1/templates/variables")
    assert response.status_code == 200
    by_name = {v["name"]: v for v in response.json()["data"]}
    assert {
        "invitee_name",
        "start_time_invitee",
        "meeting_link",
        "cancel_url",
        "custom_<key>",
    } <= set(by_name)
    assert "booking.confirmation" in by_name["meeting_link"]["event_keys"]


async def test_tenant_layout_wraps_previews_and_is_validated(stack):
    assert (await stack.api.get("/v1/templates/layout")).json()["is_herald_default"] is True
    bad = await stack.api.put(
        "/v1/templates/layout", json={"html": "<div>\n{{ ''.__class__ }}</div>"}
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("layout line 2: ")
    missing_slot = await stack.api.put("/v1/templates/layout", json={"html": "<div>no slot</div>"})
    assert missing_slot.status_code == 422 and "{{ content }}" in missing_slot.json()["detail"]

    layout = "<html><body><div class='brand'>ACME</div>{{ content }}</body></html>"
    assert (await stack.api.put("/v1/templates/layout", json={"html": layout})).status_code == 200
    template = await create(stack.api, email_template())
    preview = (await stack.api.post(f"/v1/templates/{template['id']}/preview", json={})).json()
    assert "ACME" in preview["html"] and "Hi Ana Souza" in preview["html"]

    assert (await stack.api.delete("/v1/templates/layout")).status_code == 204
    preview = (await stack.api.post(f"/v1/templates/{template['id']}/preview", json={})).json()
    assert "ACME" not in preview["html"]


async def test_the_sms_segment_limit_is_a_setting(make_stack, temporal_env):
    async with make_stack(temporal_env, sms_max_segments=1) as stack:
        two_segments = sms_template(body="{{ event_name }} " + "x" * 200)
        refused = await stack.api.post("/v1/templates", json=two_segments)
        assert refused.status_code == 422
        assert "body: SMS body is 2 segments (GSM-7); the limit is 1" in refused.json()["detail"]

        template = await create(stack.api, sms_template())
        long_context = {"context": {"event_name": "Созвон " * 12}}
        preview = (
            await stack.api.post(f"/v1/templates/{template['id']}/preview", json=long_context)
        ).json()
        assert "body: 2 segments, over the limit of 1" in preview["warnings"]
