import pytest

from domain.templating import (
    EmailLayout,
    TemplateValidationError,
    require_valid_layout,
    require_valid_template,
    validate_layout,
    validate_template,
)


def test_valid_template_has_no_issues(make_source):
    source = make_source("email", subject="Hi {{ invitee_name }}", html_body="<p>Hello</p>")
    assert validate_template(source) == []


def test_syntax_errors_report_field_and_line(make_source):
    source = make_source(
        "email", subject="Hi", html_body="<p>one</p>\n<p>two</p>\n<p>{{ x + }}</p>\n<p>four</p>"
    )
    [issue] = validate_template(source)

    assert issue.field == "html_body"
    assert issue.line == 3
    assert issue.message.startswith("syntax error: ")
    assert str(issue).startswith("html_body, line 3: syntax error")


def test_issues_carry_the_line_of_the_offending_node(make_source):
    [issue] = validate_template(make_source(body="Hi\nthere\n{{ x.__class__ }}"))
    assert (issue.field, issue.line) == ("body", 3)


def test_each_field_is_checked(make_source):
    source = make_source(
        "email",
        subject="{{ config }}",
        html_body="<p>{% include 'x' %}</p>",
        text_body="{{ ''.__class__ }}",
    )
    fields = {issue.field for issue in validate_template(source)}
    assert fields == {"subject", "html_body", "text_body"}


@pytest.mark.parametrize(
    ("channel", "fields", "field", "message"),
    [
        ("email", {"html_body": "<p>x</p>"}, "subject", "required for email templates"),
        ("email", {"subject": "x"}, "html_body", "required for email templates"),
        ("sms", {"body": "  "}, "body", "required for sms templates"),
        ("in_app", {"body": "x"}, "subject", "required for in_app templates"),
        ("sms", {"body": "x", "html_body": "<p>x</p>"}, "html_body", "not used by sms templates"),
    ],
)
def test_fields_must_suit_the_channel(make_source, channel, fields, field, message):
    issues = validate_template(make_source(channel, **fields))
    assert [(issue.field, issue.message) for issue in issues] == [(field, message)]


def test_event_key_and_names_are_checked(make_source):
    source = make_source(
        event_key="Booking.Confirmed!",
        body="x",
        required_placeholders=["ok", "not ok"],
        fallbacks={"_private": "x"},
    )
    fields = {issue.field for issue in validate_template(source)}
    assert fields == {"event_key", "required_placeholders", "fallbacks"}


def test_custom_event_keys_are_accepted(make_source):
    assert validate_template(make_source(event_key="invoice.overdue_v2", body="{{ title }}")) == []


def test_sms_longer_than_the_limit_is_reported(make_source):
    source = make_source(body="{{ event_description }} " + "word " * 100)
    [issue] = validate_template(source)
    assert issue.field == "body"
    assert issue.message == "SMS body is 4 segments (GSM-7); the limit is 3"
    assert validate_template(source, max_sms_segments=4) == []


def test_sms_length_is_measured_on_sample_data(make_source):
    # Each sample name is short, but a UCS-2 character makes the whole message UCS-2.
    source = make_source(body="ç {{ event_name }} " * 20)
    [issue] = validate_template(source)
    assert "(UCS-2)" in issue.message


def test_require_valid_template_raises_with_issues(make_source):
    with pytest.raises(TemplateValidationError) as raised:
        require_valid_template(make_source(body="{% extends 'x' %}"))
    assert raised.value.issues[0].message.startswith("{% extends %} is not allowed")
    assert "body, line 1: {% extends %}" in str(raised.value)


def test_layout_needs_exactly_one_content_slot():
    assert validate_layout(EmailLayout("l1", "<div>{{ content }}</div>")) == []
    [missing] = validate_layout(EmailLayout("l2", "<div>{{ body }}</div>"))
    [twice] = validate_layout(EmailLayout("l3", "{{ content }}{{ content }}"))
    assert missing.field == twice.field == "layout"
    assert "{{ content }} exactly once" in missing.message


def test_layout_is_sandboxed_too():
    with pytest.raises(TemplateValidationError, match="not allowed"):
        require_valid_layout(EmailLayout("l1", "{{ content }}{{ ''.__class__ }}"))


def test_template_validated_with_its_layout(make_source):
    source = make_source("email", subject="x", html_body="<p>x</p>")
    issues = validate_template(source, EmailLayout("l1", "{% include 'x' %}{{ content }}"))
    assert [issue.field for issue in issues] == ["layout"]


def test_required_placeholders_must_be_used_by_the_template(make_source):
    source = make_source(body="{{ room }}", required_placeholders=["room", "door_code"])
    [issue] = validate_template(source)
    assert str(issue) == "required_placeholders: not used by the template: door_code"
    assert validate_template(make_source(body="{% if room %}{{ room }}{% endif %}",
                                         required_placeholders=["room"])) == []  # fmt: skip
