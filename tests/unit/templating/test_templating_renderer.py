import pytest

from domain.templating import (
    EmailLayout,
    RenderedEmail,
    RenderedInApp,
    RenderedPush,
    RenderedSms,
    TemplateRenderer,
    TemplateSecurityError,
)
from domain.templating.sandbox import MAX_OUTPUT_CHARS


def test_email_html_is_escaped_but_subject_and_text_are_not(renderer, make_source):
    source = make_source("email", subject="Hi {{ name }}", html_body="<p>Hi {{ name }}</p>")

    email = renderer.render(source, {"name": "<Tom & Jerry>"})

    assert isinstance(email, RenderedEmail)
    assert email.subject == "Hi <Tom & Jerry>"
    assert email.html == "<p>Hi &lt;Tom &amp; Jerry&gt;</p>"
    assert email.text == "Hi <Tom & Jerry>"


def test_subject_is_one_line(renderer, make_source):
    source = make_source("email", subject="Hi {{ name }}", html_body="<p>x</p>")
    email = renderer.render(source, {"name": "Ana\r\nBcc: victim@example.com"})
    assert email.subject == "Hi Ana Bcc: victim@example.com"


def test_given_text_body_is_used(renderer, make_source):
    source = make_source("email", subject="s", html_body="<p>html</p>", text_body="Plain {{ x }}\n")
    assert renderer.render(source, {"x": 1}).text == "Plain 1"


def test_sms_push_and_in_app(renderer, make_source):
    sms = renderer.render(make_source("sms", body=" Hi {{ name }} "), {"name": "Ana"})
    push = renderer.render(make_source("push", subject="T {{ name }}", body="B"), {"name": "Ana"})
    untitled = renderer.render(make_source("push", body="B"), {})
    in_app = renderer.render(
        make_source(
            "in_app", subject="T", body="<b>{{ name }}</b>", action_url="{{ url|default('') }}"
        ),
        {"name": "Ana", "url": "https://x.test"},
    )
    no_link = renderer.render(
        make_source("in_app", subject="T", body="B", action_url="{{ url|default('') }}"), {}
    )

    assert sms == RenderedSms(body="Hi Ana", info=sms.info)
    assert (sms.info.encoding, sms.info.segments) == ("GSM-7", 1)
    assert push == RenderedPush(title="T Ana", body="B")
    assert untitled.title is None
    assert in_app == RenderedInApp(title="T", body="<b>Ana</b>", action_url="https://x.test")
    assert no_link.action_url is None


def test_layout_wraps_the_body(renderer, make_source):
    layout = EmailLayout("layout-1", "<main>{{ content }}</main><footer>{{ org }}</footer>")
    source = make_source("email", subject="s", html_body="<p>{{ name }}</p>")

    email = renderer.render(source, {"name": "Ana", "org": "Acme"}, layout)

    assert email.html == "<main><p>Ana</p></main><footer>Acme</footer>"
    assert email.text == "Ana\n\nAcme"


def test_compiled_once_per_version(renderer, make_source):
    source = make_source(body="{{ x }}", version_id="v1")
    compiled = renderer.compiled(source)
    renderer.render(source, {"x": 1})
    assert renderer.compiled(source) is compiled


def test_new_version_renders_new_content_and_invalidate_evicts_one_entry(renderer, make_source):
    v1 = make_source(body="one", version_id="v1")
    stale = make_source(body="changed", version_id="v1")
    v2 = make_source(body="two", version_id="v2")
    renderer.render(v1, {})
    renderer.render(v2, {})

    assert renderer.render(stale, {}).body == "one"  # same version id: cached
    renderer.invalidate("v1")

    assert not renderer.is_cached("v1") and renderer.is_cached("v2")
    assert renderer.render(stale, {}).body == "changed"


def test_invalidating_a_layout_evicts_what_used_it(renderer, make_source):
    source = make_source("email", subject="s", html_body="x", version_id="v1")
    renderer.render(source, {}, EmailLayout("layout-1", "{{ content }}"))
    renderer.invalidate("layout-1")
    assert not renderer.is_cached("v1")


def test_cache_is_bounded_least_recently_used_first(make_source):
    renderer = TemplateRenderer(cache_size=2)
    a, b, c = (make_source(body=name, version_id=name) for name in "abc")
    renderer.render(a, {})
    renderer.render(b, {})
    renderer.render(a, {})  # a is now the most recently used
    renderer.render(c, {})

    assert renderer.is_cached("a") and renderer.is_cached("c") and not renderer.is_cached("b")


def test_loops_render_within_budget(renderer, make_source):
    source = make_source(body="{% for b in items %}{{ b }},{% endfor %}")
    assert renderer.render(source, {"items": list(range(500))}).body.count(",") == 500


def test_runaway_output_is_stopped(renderer, make_source):
    source = make_source(body="{% for i in range(1000) %}{{ big }}{% endfor %}")
    with pytest.raises(TemplateSecurityError, match=f"output exceeds {MAX_OUTPUT_CHARS}"):
        renderer.render(source, {"big": "x" * 5000})


def test_render_errors_name_the_field(renderer, make_source):
    source = make_source("email", subject="{{ n + 'x' }}", html_body="<p>ok</p>")
    with pytest.raises(Exception) as raised:
        renderer.render(source, {"n": 1})
    assert str(raised.value).startswith("subject: ")
