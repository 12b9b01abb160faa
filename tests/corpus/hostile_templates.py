"""Hostile templates: each must be refused when saved (422 naming its field) or, when its
harm depends on the data it is sent with, fail that send cleanly (`failed`, the field named,
never retried). Used by tests/e2e/test_hostile_templates.py and the unit tests of the limits.

Each entry puts its payload in one field of an email (subject, html_body, text_body) or an
SMS (body); the other fields are harmless. `context` is what the notification is sent with.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hostile:
    name: str
    field: str  # subject, html_body, text_body (email) or body (SMS)
    source: str
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def channel(self) -> str:
        return "sms" if self.field == "body" else "email"


def _nested(opening: str, inner: str, closing: str, depth: int) -> str:
    return opening * depth + inner + closing * depth


def _chain(steps: int, step: str) -> str:
    return "".join(step for _ in range(steps))


_BIG = "{% set s = 'x' * 99999 %}"
_SHUFFLED = "".join(chr(97 + (i * 7919) % 26) for i in range(60_000))  # costly to sort

CPU = [
    Hostile(
        "squaring", "subject", "{% set a = 3 %}" + _chain(40, "{% set a = a * a %}") + "{{ a }}"
    ),
    Hostile("doubling", "body", "{% set a = 2 %}" + _chain(70, "{% set a = a + a %}") + "{{ a }}"),
    Hostile(
        "minus_growth",
        "text_body",
        "{% set a = 9 %}" + _chain(70, "{% set a = a - (0 - a) %}") + "{{ a }}",
    ),
    Hostile(
        "triple_loop",
        "html_body",
        "{% for i in range(1000) %}{% for j in range(1000) %}"
        "{% for k in range(1000) %}.{% endfor %}{% endfor %}{% endfor %}",
    ),
    Hostile(
        "sort_in_loop",
        "body",
        "{% set s = 'xy' * 4000 %}{% for i in range(1000) %}"
        "{% for j in range(9) %}{{ (s|sort|first) }}{% endfor %}{% endfor %}",
    ),
    Hostile(
        "urlize_in_loop",
        "text_body",
        "{% set s = 'www.a.io ' * 1500 %}"
        "{% for i in range(1000) %}{% for j in range(9) %}{{ s|urlize|length }}{% endfor %}"
        "{% endfor %}",
    ),
    Hostile(
        "striptags_in_loop",
        "subject",
        "{% set s = '<b>' * 33000 %}{% for i in range(1000) %}"
        "{% for j in range(9) %}{{ s|striptags|length }}{% endfor %}{% endfor %}",
    ),
    Hostile(
        "wordcount_in_loop",
        "body",
        "{% set s = 'ab ' * 33000 %}{% for i in range(1000) %}"
        "{% for j in range(9) %}{{ s|wordcount }}{% endfor %}{% endfor %}",
    ),
    Hostile(
        "title_in_loop",
        "html_body",
        _BIG + "{% for i in range(1000) %}{% for j in range(9) %}"
        "{{ s|title|length }}{% endfor %}{% endfor %}",
    ),
    Hostile("folded_constants", "text_body", _chain(50, "{{ 'a' * 99999 }}")),
    Hostile("int_filter", "subject", "{{ ('9' * 4000)|int }}"),
    Hostile("float_to_int", "body", "{{ (1e308|int) * 2 }}"),
    Hostile(
        "quadratic_sum",
        "html_body",
        "{% set rows = [[1]] * 40000 %}{{ rows|sum(start=[])|length }}",
    ),
    Hostile("batch_fill", "body", "{{ range(9)|batch(99999999, 'x')|list|length }}"),
    Hostile("slice_count", "text_body", "{{ range(9)|slice(99999999)|list|length }}"),
    Hostile(
        "sorted_data",
        "subject",
        "{% for r in rows %}{{ blob|sort|first }}{% endfor %}",
        {"blob": _SHUFFLED, "rows": list(range(1000))},
    ),
    Hostile("cubed_data", "subject", "{{ amount * amount * amount }}", {"amount": 10**7}),
    Hostile(
        "loops_on_data",
        "html_body",
        "{% for a in rows %}{% for b in rows %}{% for c in rows %}"
        ".{% endfor %}{% endfor %}{% endfor %}",
        {"rows": list(range(100))},
    ),
    Hostile(
        "sms_loops_on_data",
        "body",
        "{% for a in rows %}{% for b in rows %}{{ a }}{% endfor %}{% endfor %}",
        {"rows": list(range(200))},
    ),
    Hostile(
        "sms_int_from_data", "body", "{{ (n|default('0')|int) * 3 }}", {"n": "99999999999999999999"}
    ),
]

MEMORY = [
    Hostile(
        "list_of_lists",
        "subject",
        "{% set r = ['x' * 1000] * 99 %}{% set m = [r] * 1000 %}{{ m|length }}",
    ),
    Hostile(
        "mapped_rows",
        "html_body",
        "{% set r = ['x' * 1000] * 99 %}{{ ([r] * 90)|map('join')|join }}",
    ),
    Hostile("output_flood", "body", _BIG + "{% for i in range(999) %}{{ s }}{% endfor %}"),
    Hostile(
        "concat_doubling",
        "text_body",
        "{% set s = 'ab' * 40000 %}{% set s = s ~ s %}{% set s = s ~ s %}{{ s|length }}",
    ),
    Hostile(
        "many_copies",
        "subject",
        "{% set a = 'x' * 99000 %}"
        + "".join(f"{{% set b{i} = a ~ '{i}' %}}" for i in range(30))
        + "{{ b29|length }}",
    ),
    Hostile("escape_amplified", "html_body", "{% set s = '&' * 60000 %}{{ s|e|forceescape }}"),
    Hostile("exploded_string", "body", "{{ ('x' * 99999)|list|map('upper')|list|length }}"),
    Hostile(
        "split_in_loop",
        "text_body",
        "{% for i in range(1000) %}{{ ('a ' * 50000).split()|length }}{% endfor %}",
    ),
    Hostile("dictsort_big", "subject", "{{ {'a': 'x' * 99999, 'b': 'y' * 99999}|dictsort }}"),
    Hostile("repeated_range", "body", "{{ (range(1000)|list) * 1000 }}"),
    Hostile("join_separator", "subject", "{{ range(1000)|join('x' * 90000) }}"),
    Hostile("concat_data", "text_body", "{{ (note ~ note ~ note) * 40 }}", {"note": "x" * 5000}),
    Hostile(
        "output_from_data",
        "html_body",
        "{% for r in rows %}{{ blob }}{% endfor %}",
        {"blob": "y" * 50_000, "rows": list(range(100))},
    ),
]

SHAPE = [
    Hostile("deep_if", "html_body", _nested("{% if x %}", "x", "{% endif %}", 200)),
    Hostile("deep_for", "text_body", _nested("{% for a in b %}", "x", "{% endfor %}", 25)),
    Hostile("deep_with", "body", _nested("{% with a = 1 %}", "x", "{% endwith %}", 12)),
    Hostile("deep_parens", "subject", "{{ " + _nested("(", "1", ")", 500) + " }}"),
    Hostile("deep_list", "body", "{{ " + _nested("[", "1", "]", 300) + " }}"),
    Hostile("filter_chain_thousands", "body", "{{ x" + _chain(3000, "|upper") + " }}"),
    Hostile("filter_chain_thirty", "subject", "{{ x" + _chain(30, "|lower") + " }}"),
    Hostile("plus_chain", "subject", "{{ " + " + ".join(["1"] * 500) + " }}"),
    Hostile("tilde_chain", "text_body", "{{ " + " ~ ".join(["x"] * 2500) + " }}"),
    Hostile("or_chain", "html_body", "{{ " + " or ".join(["x"] * 1000) + " }}"),
    Hostile(
        "conditional_chain", "body", "{{ " + _chain(200, "x if y else (") + "1" + ")" * 200 + " }}"
    ),
    Hostile("many_outputs", "html_body", "{{ x }}" * 5000),
    Hostile("many_ifs", "text_body", "{% if x %}y{% endif %}" * 1500),
    Hostile("elif_ladder", "body", "{% if a %}" + "{% elif b %}" * 2000 + "{% endif %}"),
    Hostile("big_int_literal", "subject", "{{ " + "9" * 5000 + " }}"),
    Hostile("int_literal", "body", "{{ 123456789012345678901234567890 }}"),
    Hostile("list_literal", "text_body", "{{ [" + ",".join(["1"] * 30000) + "] }}"),
    Hostile(
        "dict_literal", "html_body", "{{ {" + ",".join(f"'k{i}': {i}" for i in range(9000)) + "} }}"
    ),
    Hostile("long_source", "subject", "{{ '" + "x" * 150_000 + "' }}"),
]

INTROSPECTION = [
    Hostile("mro", "subject", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    Hostile("method_self", "text_body", "{{ x.upper.__self__ }}"),
    Hostile("cycler_globals", "html_body", "{{ cycler.__init__.__globals__.os }}"),
    Hostile("range_globals", "body", "{{ range.__globals__ }}"),
    Hostile("self_dict", "subject", "{{ self.__dict__ }}"),
    Hostile("built_key", "body", "{% for k in ['_' ~ '_class_' ~ '_'] %}{{ ''[k] }}{% endfor %}"),
    Hostile("loop_class", "text_body", "{% for i in [1] %}{{ loop.__class__ }}{% endfor %}"),
    Hostile("config", "html_body", "{{ config.items() }}"),
    Hostile("attr_filter", "subject", "{{ ''|attr('__class__') }}"),
    Hostile("mapped_attr", "body", "{{ [1]|map('attr', '__class__')|list }}"),
    Hostile("sort_attribute", "text_body", "{{ [1]|sort(attribute='__class__') }}"),
    Hostile("lipsum_popen", "html_body", "{{ lipsum.__globals__.os.popen('id').read() }}"),
]

FORMAT = [
    Hostile("format_attribute", "subject", "{{ '{0.__class__}'.format(x) }}"),
    Hostile("format_padding", "body", "{{ '{:>999999999}'.format(x) }}"),
    Hostile("percent_padding", "text_body", "{{ '%999999999d' % 1 }}"),
    Hostile("format_filter", "html_body", "{{ '%s'|format(x) }}"),
    Hostile("format_by_key", "body", "{% set f = 'format' %}{{ x[f]('{0:>99999999}', 1) }}"),
]

RECURSION = [
    Hostile("macro_recursion", "html_body", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"),
    Hostile(
        "call_block",
        "text_body",
        "{% macro m() %}{{ caller() }}{% endmacro %}"
        "{% call m() %}{% call m() %}x{% endcall %}{% endcall %}",
    ),
    Hostile("recursive_loop", "body", "{% for x in [[1]] recursive %}{{ loop(x) }}{% endfor %}"),
    Hostile("set_block", "subject", "{% set b %}{{ x }}{{ x }}{% endset %}{{ b }}"),
    Hostile("include", "html_body", "{% include 'self' %}"),
    Hostile("extends", "text_body", "{% extends 'base' %}"),
    Hostile("import", "body", "{% import 'm' as m %}{{ m.x() }}"),
]

HOSTILE_TEMPLATES = CPU + MEMORY + SHAPE + INTROSPECTION + FORMAT + RECURSION
