"""Sandbox escapes and denial-of-service payloads: refused at validation, harmless at run time."""

import pytest
from jinja2.exceptions import TemplateError as JinjaTemplateError

from domain.templating import (
    TemplateError,
    TemplateRenderer,
    TemplateSource,
    TemplateValidationError,
    validate_template,
)
from domain.templating.sandbox import (
    HTML_ENVIRONMENT,
    TEXT_ENVIRONMENT,
    add_render_globals,
    render_blocks,
)
from domain.types import Channel

# (payload, words the refusal message must contain)
HOSTILE_PAYLOADS = [
    ("{{ ''.__class__.__mro__ }}", "'__class__'"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "private"),
    ("{{ [].__class__.__base__.__subclasses__() }}", "private"),
    ("{{ (1).__class__ }}", "private"),
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "'cycler' is not available"),
    ("{{ lipsum.__globals__['os'].environ }}", "'lipsum' is not available"),
    ("{{ joiner.__init__.__globals__ }}", "'joiner' is not available"),
    ("{% set ns = namespace() %}{{ ns }}", "'namespace' is not available"),
    ("{{ self._TemplateReference__context }}", "'self' is not available"),
    ("{{ self.__dict__ }}", "'self' is not available"),
    ("{{ config }}", "'config' is not available"),
    ("{{ config.items() }}", "'config' is not available"),
    ("{{ request.environ }}", "'request' is not available"),
    ("{{ __builtins__ }}", "names starting with '_' are private"),
    ("{{ ''|attr('__class__') }}", "attr filter is not allowed"),
    ("{% filter attr('x') %}y{% endfilter %}", "attr filter is not allowed"),
    ("{% filter upper %}{{ name }}{% endfilter %}", "{% filter %} blocks are not supported"),
    ("{% set b %}{{ name }}{{ name }}{% endset %}{{ b }}", "{% set %}...{% endset %} blocks"),
    ("{{ items|map('attr', 'x')|list }}", "filter 'attr' is not available"),
    ("{{ ''['__class__'] }}", "private"),
    ("{{ ''['_' ~ '_class_' ~ '_'] }}", "computed keys are not allowed"),
    ("{{ items|sort(attribute='__class__') }}", "strings containing '__'"),
    ("{{ '{0.__class__}'.format(name) }}", "strings containing '__'"),
    ("{{ '{0:>999999999}'.format(name) }}", "calling 'format' is not allowed"),
    ("{{ ''.join(['a', 'b']) }}", "calling 'join' is not allowed"),
    ("{{ items.pop() }}", "calling 'pop' is not allowed"),
    ("{{ dict(a=1) }}", "'dict' is not available"),
    ("{{ range(10**9)|list }}", "** operator is not allowed"),
    ("{{ range(1000000000)|list }}", "range() may produce at most"),
    ("{{ 'a' * 1000000000 }}", "'*' may produce at most"),
    ("{{ 'a' * 10**9 }}", "** operator is not allowed"),
    ("{{ 9**9**9 }}", "** operator is not allowed"),
    ("{{ '%999999999d' % 1 }}", "%-formatting of strings is not allowed"),
    ("{{ '%999999999d'|format(1) }}", "filter 'format' is not available"),
    ("{{ 'a'|center(1000000000) }}", "filter 'center' is not available"),
    ("{{ 'a'|indent(1000000000) }}", "filter 'indent' is not available"),
    ("{{ name|safe }}", "filter 'safe' is not available"),
    ("{% include 'secrets.txt' %}", "{% include %} is not allowed"),
    ("{% import 'macros.html' as m %}", "{% import %} is not allowed"),
    ("{% from 'macros.html' import m %}", "{% from ... import %} is not allowed"),
    ("{% extends 'base.html' %}", "{% extends %} is not allowed"),
    ("{% block b %}x{% endblock %}", "{% block %} is not allowed"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{% macro %} is not supported"),
    ("{% autoescape false %}{{ name }}{% endautoescape %}", "{% autoescape %} is not allowed"),
    (
        "{% for x in items recursive %}{{ loop(x) }}{% endfor %}",
        "recursive loops are not supported",
    ),
    ("{{ loop.__class__ }}", "private"),
]

# Markers of Python internals or process data that must never reach an output.
LEAK_MARKERS = ("<class", "function", "module", "built-in", "environ", "globals", "__")


def _sms(body: str) -> TemplateSource:
    return TemplateSource("v-hostile", "hostile", "booking.confirmation", Channel.SMS, body=body)


def test_the_corpus_is_large_enough():
    assert len(HOSTILE_PAYLOADS) >= 25


@pytest.mark.parametrize(("payload", "expected"), HOSTILE_PAYLOADS)
def test_validation_refuses_payload_with_a_clear_message(payload, expected):
    issues = validate_template(_sms(payload))

    assert issues, payload
    assert all(issue.field == "body" for issue in issues)
    assert any(expected in issue.message for issue in issues), [str(i) for i in issues]


@pytest.mark.parametrize(("payload", "expected"), HOSTILE_PAYLOADS)
def test_renderer_never_renders_payload(payload, expected):
    with pytest.raises(TemplateValidationError):
        TemplateRenderer().render(_sms(payload), {"name": "Ana", "items": [1, 2]})


@pytest.mark.parametrize("environment", [HTML_ENVIRONMENT, TEXT_ENVIRONMENT], ids=["html", "text"])
@pytest.mark.parametrize(("payload", "expected"), HOSTILE_PAYLOADS)
def test_sandbox_alone_stops_payload(environment, payload, expected):
    """Even skipping validation, a payload fails with a domain error or prints nothing secret."""
    try:
        template = environment.from_string(payload)
    except JinjaTemplateError:
        return  # refused at compile time (no such filter, no loader...)
    values = add_render_globals({"name": "Ana", "items": [1, 2]})
    try:
        output = render_blocks(template, values, ("body",))["body"]
    except TemplateError:
        return
    assert not any(marker in output for marker in LEAK_MARKERS), output


RUNTIME_ONLY_PAYLOADS = [
    # Each passes the static checks by indirection; the sandbox still stops it.
    "{% for k in ['_' ~ '_class_' ~ '_'] %}{{ ''[k] }}{% endfor %}",
    (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "{% set s = 'a' * 100000 %}{% for i in range(1000) %}{{ s }}{% endfor %}",
    "{% set s = 'a' * 100000 %}{{ (s, s, s, s, s, s, s, s, s, s, s)|join(s) }}",
    "{% set s = 'a' * 1000 %}{{ s * 1000 }}",
    "{{ [name] * 1000000 }}",
    "{% set s = 'a' * 100000 %}{% set b = s ~ s %}{% set c = b ~ b %}{{ c }}",
    "{% set s = 'a' * 100000 %}{% set b = s + s %}{{ b }}",
    "{% set s = '&' * 50000 %}{{ s|forceescape|forceescape|forceescape }}",
    "{% set s = 'a' * 1000 %}{% set l = [s] * 100 %}{{ l * 100 }}",
    "{% for i in range(1000) %}{% for j in range(20) %}{{ j }}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("payload", RUNTIME_ONLY_PAYLOADS)
def test_sandbox_stops_payloads_that_pass_static_checks(payload):
    template = TEXT_ENVIRONMENT.from_string(payload)
    with pytest.raises(TemplateError):
        TemplateRenderer().render(_sms(payload), {"name": "Ana"})
    with pytest.raises(TemplateError):
        render_blocks(template, add_render_globals({"name": "Ana"}), ("body",))
