from domain.templating import EmailLayout
from domain.templating.css import inline_css, inline_css_in_template
from domain.templating.sandbox import HTML_ENVIRONMENT

STYLE = (
    "<style>p { color: red; } td.x { padding: 4px; }"
    " @media (max-width: 600px) { p { color: blue; } }</style>"
)


def test_rules_are_inlined_and_media_queries_kept():
    html = inline_css(f"<html><head>{STYLE}</head><body><p>Hi</p></body></html>")
    assert '<p style="color: red;">Hi</p>' in html
    assert "@media (max-width: 600px)" in html


def test_template_is_inlined_once_with_its_jinja_intact():
    source = (
        f"<html><head><title>{{{{ title }}}}</title>{STYLE}</head><body>"
        '{% if name %}<p class="{{ cls }}">Hi {{ name }}</p>{% endif %}'
        '<table>{% for row in rows %}<tr><td class="x">{{ row }}</td></tr>{% endfor %}</table>'
        "</body></html>"
    )
    inlined = inline_css_in_template(HTML_ENVIRONMENT, source)

    assert inlined is not None
    assert '<p class="{{ cls }}" style="color: red;">Hi {{ name }}</p>' in inlined
    assert (
        '{% for row in rows %}<tr><td class="x" style="padding: 4px;">{{ row }}</td></tr>'
        "{% endfor %}" in inlined
    )
    assert "<tbody>" not in inlined  # the parser's own <tbody> would split the loop
    assert "<title>{{ title }}</title>" in inlined


def test_fragment_without_style_is_left_alone():
    assert inline_css_in_template(HTML_ENVIRONMENT, "<p>{{ x }}</p>") == "<p>{{ x }}</p>"


def test_tags_between_attributes_fall_back_to_inlining_each_render(renderer, make_source):
    body = STYLE + '<p {% if x %}class="a"{% endif %}>Hi</p>'
    assert inline_css_in_template(HTML_ENVIRONMENT, body) is None

    source = make_source("email", subject="s", html_body=body)
    compiled = renderer.compiled(source)
    email = renderer.render(source, {"x": True})

    assert compiled.inlines_css_per_render
    assert '<p class="a" style="color: red;">Hi</p>' in email.html


def test_layout_styles_apply_to_the_body(renderer, make_source):
    layout = EmailLayout(
        "layout-1", f"<html><head>{STYLE}</head><body>{{{{ content }}}}</body></html>"
    )
    source = make_source("email", subject="s", html_body="<p>{{ name }}</p>")

    email = renderer.render(source, {"name": "Ana"}, layout)

    assert not renderer.compiled(source, layout).inlines_css_per_render
    assert '<p style="color: red;">Ana</p>' in email.html


def test_remote_stylesheets_are_never_fetched():
    html = '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"><style>p{color:red}</style></head><body><p>x</p></body></html>'
    assert 'style="color: red;"' in inline_css(html)
