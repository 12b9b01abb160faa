"""Templates of the push, chat and webhook channels: their fields, what they render to, and the
push icon, which must render to an https URL or nothing."""

import pytest

from activities.content import as_content
from domain.templating import (
    RenderedChat,
    RenderedPush,
    RenderedWebhook,
    TemplateRenderError,
    TemplateSecurityError,
    default_template,
    sample_context,
    validate_template,
)
from domain.templating.icons import MAX_ICON_URL_CHARS
from domain.templating.sandbox import MAX_OUTPUT_CHARS
from domain.templating.validation import validate_compiled

ICON = "https://cdn.example.com/icons/{{ event_name|lower|urlencode }}.png"


def test_push_renders_title_body_link_and_icon(renderer, make_source):
    source = make_source(
        "push",
        subject="Soon: {{ event_name }}",
        body="{{ event_name }} starts {{ start_time }}.",
        action_url="{{ booking_url }}",
        icon=ICON,
    )
    context = {"event_name": "Intro call", "start_time": "at 10", "booking_url": "https://b.test/1"}

    assert validate_template(source) == []
    push = renderer.render(source, context)

    assert push == RenderedPush(
        title="Soon: Intro call",
        body="Intro call starts at 10.",
        action_url="https://b.test/1",
        icon="https://cdn.example.com/icons/intro%20call.png",
    )


def test_a_push_icon_that_renders_empty_is_no_icon(renderer, make_source):
    source = make_source("push", body="B", icon="{{ icon_url|default('') }}  ")
    assert renderer.render(source, {}).icon is None
    assert renderer.render(source, {"icon_url": " https://x.test/i.png "}).icon == (
        "https://x.test/i.png"
    )


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "http://cdn.example.com/icon.png",  # never fetched in the clear
        "//cdn.example.com/icon.png",
        "https://",
        "https://cdn.example.com/a b.png",
        "https://cdn.example.com/\x00.png",
        "/icons/icon.png",
    ],
)
def test_an_icon_rendering_to_anything_but_an_https_url_is_refused(renderer, make_source, value):
    source = make_source("push", body="B", icon="{{ icon_url }}")
    with pytest.raises(TemplateRenderError) as refused:
        renderer.render(source, {"icon_url": value})
    assert refused.value.field == "icon"
    assert "must render to an https URL or nothing" in refused.value.detail


def test_a_huge_icon_is_refused_at_its_length_and_by_the_output_limit(renderer, make_source):
    source = make_source("push", body="B", icon="https://x.test/{{ path }}")
    with pytest.raises(TemplateRenderError) as refused:
        renderer.render(source, {"path": "a" * MAX_ICON_URL_CHARS})
    assert refused.value.field == "icon"
    assert f"at most {MAX_ICON_URL_CHARS}" in refused.value.detail

    runaway = make_source("push", body="B", icon="{% for i in range(1000) %}{{ big }}{% endfor %}")
    with pytest.raises(TemplateSecurityError, match=f"output exceeds {MAX_OUTPUT_CHARS}"):
        renderer.render(runaway, {"big": "x" * 5000})


@pytest.mark.parametrize(
    ("icon", "message"),
    [
        ("javascript:alert(1)", "must render to an https URL or nothing, not 'javascript:"),
        ("{{ 'javascript:' ~ recipient_name }}", "must render to an https URL or nothing"),
        ("https://x.test/{{ 'a' * 5000 }}", f"an icon URL may have at most {MAX_ICON_URL_CHARS}"),
    ],
)
def test_saving_refuses_an_icon_that_is_bad_with_the_sample_data(make_source, icon, message):
    [issue] = validate_template(make_source("push", body="B", icon=icon))
    assert issue.field == "icon" and message in issue.message, issue


def test_saving_accepts_an_icon_from_a_variable_the_sample_data_lacks(renderer, make_source):
    # The sample has no `icon_url`: it renders as its fallback, which says nothing of real sends.
    source = make_source("push", event_key="report.ready", body="B", icon="{{ icon_url }}")
    assert validate_compiled(renderer.compiled(source)) == []


def test_the_icon_is_checked_like_every_field(renderer, make_source):
    [escape] = validate_template(make_source("push", body="B", icon="x\n{{ ''.__class__ }}"))
    assert (escape.field, escape.line) == ("icon", 2)
    [include] = validate_template(make_source("push", body="B", icon="{% include 'x' %}"))
    assert include.field == "icon" and "{% include %} is not allowed" in include.message


IMG = "https://x.test/i.png"
LINK = "https://x.test"


@pytest.mark.parametrize(
    ("channel", "fields", "expected"),
    [
        ("push", {"body": " "}, [("body", "required")]),
        ("chat", {"subject": "T"}, [("body", "required")]),
        ("webhook", {"action_url": "x"}, [("body", "required")]),
        ("chat", {"body": "B", "icon": IMG}, [("icon", "not used")]),
        ("webhook", {"body": "B", "icon": IMG}, [("icon", "not used")]),
        ("in_app", {"subject": "T", "body": "B", "icon": IMG}, [("icon", "not used")]),
        ("email", {"subject": "T", "html_body": "B", "icon": IMG}, [("icon", "not used")]),
        ("chat", {"body": "B", "html_body": "<p>B</p>"}, [("html_body", "not used")]),
        ("webhook", {"body": "B", "text_body": "B"}, [("text_body", "not used")]),
        ("chat", {"body": "B", "subject": "T", "action_url": LINK}, []),
        ("webhook", {"body": "B", "subject": "T", "action_url": LINK}, []),
        ("push", {"body": "B", "subject": "T", "action_url": LINK, "icon": IMG}, []),
    ],
)
def test_fields_of_the_new_channels(make_source, channel, fields, expected):
    issues = validate_template(make_source(channel, **fields))
    preposition = {"required": "for", "not used": "by"}
    assert [(issue.field, issue.message) for issue in issues] == [
        (field, f"{words} {preposition[words]} {channel} templates") for field, words in expected
    ]


def test_chat_text_keeps_its_markdown_and_titles_are_optional(renderer, make_source):
    chat = make_source(
        "chat",
        subject="{{ event_name }}\nbooked",
        body="*{{ invitee_name }}* booked <{{ booking_url }}|{{ event_name }}>\n> see you",
        action_url="{{ booking_url }}",
    )
    context = {"event_name": "Intro", "invitee_name": "Ana", "booking_url": "https://b.test/1"}

    assert renderer.render(chat, context) == RenderedChat(
        title="Intro booked",  # one line
        text="*Ana* booked <https://b.test/1|Intro>\n> see you",  # not escaped: markdown
        action_url="https://b.test/1",
    )
    assert renderer.render(make_source("chat", body="B"), {}) == RenderedChat(None, "B", None)
    webhook = make_source("webhook", subject="{{ event_name }}", body="<b>{{ invitee_name }}</b>")
    assert renderer.render(webhook, context) == RenderedWebhook("Intro", "<b>Ana</b>", None)
    assert renderer.render(make_source("webhook", body="B"), {}) == RenderedWebhook(None, "B", None)


def test_content_carries_each_channels_fields_to_the_providers():
    push = RenderedPush("T", "B", action_url="https://a.test", icon="https://a.test/i.png")
    content = as_content(push, {"_test": True})
    assert (content.subject, content.text, content.action_url, content.icon) == (
        "[TEST] T",
        "B",
        "https://a.test",
        "https://a.test/i.png",
    )
    chat = as_content(RenderedChat("T", "*B*", "https://a.test"), {})
    assert (chat.subject, chat.text, chat.action_url) == ("T", "*B*", "https://a.test")
    assert chat.icon is None
    webhook = as_content(RenderedWebhook(None, "B", "https://a.test"), {})
    assert (webhook.subject, webhook.text, webhook.action_url) == ("", "B", "https://a.test")


@pytest.mark.parametrize("channel", ["push", "chat", "webhook"])
@pytest.mark.parametrize("event_key", ["booking.confirmation", "payment.failed", "report.ready"])
def test_shipped_push_chat_and_webhook_say_what_in_app_says(renderer, channel, event_key):
    context = sample_context(event_key)
    in_app = renderer.render(default_template(event_key, "in_app"), context)
    shipped = default_template(event_key, channel)
    assert shipped is not None

    rendered = renderer.render(shipped, context)

    text = rendered.text if isinstance(rendered, RenderedChat) else rendered.body
    assert (rendered.title, text, rendered.action_url) == (
        in_app.title,
        in_app.body,
        in_app.action_url,
    )
    assert shipped.icon is None and shipped.channel == channel
