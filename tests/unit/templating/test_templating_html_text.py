import pytest

from domain.templating import derive_text_from_html, sample_context
from domain.templating.html_text import derive_text_template, tidy_text
from domain.templating.sandbox import HTML_ENVIRONMENT, TEXT_ENVIRONMENT, add_render_globals


def test_paragraphs_breaks_lists_and_links():
    html = """<html><head><title>T</title><style>p { color: red }</style></head><body>
    <h1>Hello  <b>Ana</b></h1>
    <p>Line one<br>line two</p>
    <ul><li>first</li><li><a href="https://example.com/x">Details</a></li></ul>
    <p><a href="https://example.com">https://example.com</a> or
       <a href="mailto:help@example.com">help@example.com</a> or <a href="#top">top</a></p>
    <script>alert(1)</script>
    <p>Tom &amp; Jerry &lt;3</p>
    </body></html>"""

    assert derive_text_from_html(html) == (
        "Hello Ana\n\nLine one\nline two\n\n- first\n- Details (https://example.com/x)\n\n"
        "https://example.com or help@example.com or top\n\nTom & Jerry <3"
    )


def test_table_rows_become_lines():
    html = (
        "<table><tr><td>When</td><td>Monday</td></tr><tr><td>Where</td><td>Online</td></tr></table>"
    )
    assert derive_text_from_html(html) == "When Monday\nWhere Online"


def test_tidy_text_collapses_blank_line_runs():
    assert tidy_text("\n\na\n\n\n\n\nb\n\n\nc\n") == "a\n\nb\n\nc"


TEMPLATES = [
    '<h1>Hi {{ name }}</h1><p>Your <a href="{{ url }}">booking</a> is set.</p>',
    (
        "<ul>{% for b in bookings %}<li>{{ b.event_name }} at {{ b.start_time }}</li>{% endfor %}"
        "</ul><p>End</p>"
    ),
    "<p>A</p>{% if flag %}<p>B</p>{% else %}<p>C</p>{% endif %}<p>D</p>",
    (
        "<table>{% for b in bookings %}"
        "<tr><td>{{ b.start_time }}</td><td>{{ b.event_name }}</td></tr>{% endfor %}</table>"
        '{% if url %}<p><a href="{{ url }}">{{ url }}</a></p>{% endif %}'
    ),
    "<p>Use {braces} &amp; &#123;&#123; name &#125;&#125;</p><p>{{ name }}</p>",
]


@pytest.mark.parametrize("html_template", TEMPLATES)
@pytest.mark.parametrize("flag", [True, False])
def test_derived_text_template_matches_text_of_rendered_html(html_template, flag):
    context = sample_context("daily_agenda") | {
        "name": "<Ana>",
        "url": "https://x.test/b",
        "flag": flag,
    }
    text_template = derive_text_template(HTML_ENVIRONMENT, html_template)
    assert text_template is not None
    html = HTML_ENVIRONMENT.from_string(html_template).render(add_render_globals(dict(context)))
    text = TEXT_ENVIRONMENT.from_string(text_template).render(add_render_globals(dict(context)))

    rendered_text = tidy_text(text)

    assert rendered_text == derive_text_from_html(html)


def test_literal_braces_never_become_template_tags():
    text_template = derive_text_template(HTML_ENVIRONMENT, "<p>&#123;&#123; 7 * 7 &#125;&#125;</p>")
    assert text_template is not None
    assert TEXT_ENVIRONMENT.from_string(text_template).render() == "{{ 7 * 7 }}"
