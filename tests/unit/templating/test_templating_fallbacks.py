import pytest

from domain.templating import MissingPlaceholdersError, TemplateError


def render_body(renderer, make_source, body, context, **kwargs):
    return renderer.render(make_source(body=body, **kwargs), context).body


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invitee_name", "Guest"),
        ("start_time", "TBD"),
        ("end_time", "TBD"),
        ("start_time_invitee", "TBD"),
        ("previous_start_time", "TBD"),
        ("agenda_date", "TBD"),
        ("duration", "TBD"),
        ("meeting_link", "N/A"),
        ("anything_else", "N/A"),
    ],
)
def test_missing_optional_variables_use_default_fallbacks(renderer, make_source, name, expected):
    assert render_body(renderer, make_source, f"{{{{ {name} }}}}", {}) == expected


def test_none_counts_as_missing(renderer, make_source):
    assert (
        render_body(renderer, make_source, "Hi {{ invitee_name }}", {"invitee_name": None})
        == "Hi Guest"
    )


def test_template_fallbacks_override_defaults(renderer, make_source):
    body = "{{ invitee_name }} / {{ meeting_link }}"
    out = render_body(
        renderer,
        make_source,
        body,
        {},
        fallbacks={"invitee_name": "there", "meeting_link": "(link soon)"},
    )
    assert out == "there / (link soon)"


def test_missing_variables_are_false_in_conditions(renderer, make_source):
    body = "{% if meeting_link %}Join {{ meeting_link }}{% else %}No link{% endif %}"
    assert render_body(renderer, make_source, body, {}) == "No link"
    assert (
        render_body(renderer, make_source, body, {"meeting_link": "https://m"}) == "Join https://m"
    )


def test_default_filter_beats_fallback(renderer, make_source):
    assert render_body(renderer, make_source, "{{ meeting_link|default('-') }}", {}) == "-"


def test_missing_nested_attributes_fall_back_by_their_own_name(renderer, make_source):
    body = "{% for b in bookings %}{{ b.event_name }} at {{ b.start_time }};{% endfor %}"
    out = render_body(renderer, make_source, body, {"bookings": [{"event_name": "Call"}]})
    assert out == "Call at TBD;"


def test_missing_parent_object_chains_to_its_fallback(renderer, make_source):
    assert render_body(renderer, make_source, "{{ booking.invitee.name }}", {}) == "N/A"


def test_inline_if_without_else_prints_nothing(renderer, make_source):
    body = "{{ 1 }} booking{{ 's' if count != 1 }}"
    assert render_body(renderer, make_source, body, {"count": 1}) == "1 booking"


def test_missing_required_placeholders_are_named_sorted(renderer, make_source):
    source = make_source(
        body="{{ meeting_link }} {{ invitee_name }}",
        required_placeholders=["meeting_link", "invitee_name", "booking_id"],
    )
    context = {"invitee_name": "", "meeting_link": None, "booking_id": "bk_1"}

    with pytest.raises(MissingPlaceholdersError) as raised:
        renderer.render(source, context)

    assert raised.value.missing == ["invitee_name", "meeting_link"]
    assert "invitee_name, meeting_link" in str(raised.value)
    assert isinstance(raised.value, TemplateError)
    assert raised.value.retryable is False


def test_required_placeholders_accept_falsy_but_real_values(renderer, make_source):
    source = make_source(body="{{ amount }}", required_placeholders=["amount"])
    assert renderer.render(source, {"amount": 0}).body == "0"


def test_context_data_cannot_shadow_globals(renderer, make_source):
    out = render_body(renderer, make_source, "{{ range(3)|list|length }}", {"range": "x"})
    assert out == "3"
