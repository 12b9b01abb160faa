"""The limits that keep a template from hurting the process: numbers, time, built sizes,
output, the shape of what compiles, and renders off the event loop (issue 11)."""

import asyncio
import time
import tracemalloc
from random import Random

import pytest
from jinja2.filters import FILTERS as DEFAULT_FILTERS

from bootstrap import tune_runtime_for_the_event_loop
from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    EmailLayout,
    TemplateError,
    TemplateRenderError,
    TemplateValidationError,
    validate_layout,
    validate_template,
)
from domain.templating.budget import LimitExceeded, check_time, spending
from domain.templating.compiled import CompiledTemplate
from domain.templating.css import MAX_INLINING_COST, inline_css, inlining_cost
from domain.templating.errors import TemplateLimitError, public_message
from domain.templating.render_thread import in_render_thread
from domain.templating.sandbox import chunked_wordcount
from domain.templating.sizes import MAX_INT
from tests.corpus.hostile_templates import HOSTILE_TEMPLATES, Hostile

SLOW = "{% set s = 'xy' * 4000 %}{% for i in range(1000) %}{% for j in range(9) %}" \
       "{{ s|sort|first }}{% endfor %}{% endfor %}"  # fmt: skip


def test_integer_results_stay_within_2_to_the_64(renderer, make_source):
    at_the_bound = renderer.render(make_source(body="{{ a * 2 }}"), {"a": MAX_INT // 2})
    assert at_the_bound.body == str(MAX_INT)
    for body, context in [
        ("{{ a * a }}", {"a": 2**40}),
        ("{{ a + a }}", {"a": MAX_INT}),
        ("{{ a - b }}", {"a": MAX_INT, "b": -1}),
        ("{{ s|int }}", {"s": "9" * 30}),
        ("{% set a = 3 %}" + "{% set a = a * a %}" * 10 + "{{ a }}", {}),
    ]:
        with pytest.raises(TemplateLimitError, match=r"beyond ±2\*\*64"):
            renderer.render(make_source(body=body), context)
    [issue] = validate_template(make_source(body="{{ 18446744073709551617 }}"))
    assert (issue.field, issue.message) == ("body", "numbers beyond ±2**64 are not allowed")


def test_a_render_stops_at_its_time_budget(make_source):
    compiled = CompiledTemplate(make_source(body=SLOW))
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=r"took longer than its budget of 0\.05 s"):
        compiled.render_fields({}, seconds=0.05)
    assert time.monotonic() - started < 0.5  # stopped at the next hook, not at the end


def test_nested_containers_count_every_item(renderer, make_source):
    rows = "{% set r = ['x' * 1000] * 99 %}{% set m = [r] * 1000 %}{{ m|length }}"
    with pytest.raises(TemplateLimitError, match="'\\*' may produce at most 100000"):
        renderer.render(make_source(body=rows), {})
    mapped = "{% set r = ['x' * 1000] * 99 %}{{ ([r] * 90)|map('join')|join|length }}"
    with pytest.raises(TemplateLimitError):
        renderer.render(make_source(body=mapped), {})


def test_everything_a_render_builds_is_counted(renderer, make_source):
    copies = "{% set a = 'x' * 99000 %}" + "".join(
        f"{{% set b{i} = a ~ '{i}' %}}" for i in range(30)
    )
    with pytest.raises(TemplateLimitError, match="built more than 2000000"):
        renderer.render(make_source(body=copies + "{{ b29|length }}"), {})


def test_the_output_is_refused_before_it_is_joined(renderer, make_source):
    # Escaped in HTML: each print is a new 400,000-character string.
    flood = "{% for i in range(999) %}{{ s }}{% endfor %}"
    source = make_source("email", subject="s", html_body=flood)
    tracemalloc.start()
    try:
        with pytest.raises(TemplateLimitError, match="output exceeds 1000000"):
            renderer.render(source, {"s": "&" * 80_000})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000, peak  # 999 copies would be 400 MB


def test_filters_that_multiply_are_bounded_before_they_run(renderer, make_source):
    for body, words in [
        ("{{ range(9)|batch(99999999, 'x')|list }}", "batch() takes a count"),
        ("{{ range(9)|slice(99999999)|list }}", "slice() takes a count"),
        ("{{ [[1]]|sum(start=[]) }}", "sum() adds numbers only"),
    ]:
        with pytest.raises(TemplateError) as refused:
            renderer.render(make_source(body=body), {})
        assert words in str(refused.value)


def test_wordcount_scanned_in_chunks_counts_as_jinja_does(renderer, make_source):
    # Chunked so that no single scan holds the interpreter long (sandbox._WORDCOUNT_CHUNK);
    # a word across a chunk's boundary is still one word.
    random = Random(11)
    for length in [0, 1, 8_191, 8_192, 8_193, 16_384, 20_000, 99_999]:
        for _ in range(20 if length < 10_000 else 3):
            text = "".join(random.choice("ab é_1 \n\t.-") for _ in range(length))
            assert chunked_wordcount(text) == DEFAULT_FILTERS["wordcount"](text), length
    sms = renderer.render(make_source(body="{{ text|wordcount }}"), {"text": "ab " * 33_000})
    assert sms.body == "33000"


def test_what_a_template_prints_never_shows_a_memory_address(renderer, make_source):
    body = "{{ items|map('upper') }} {{ name.upper }} {{ range ~ '' }} {{ [name.lower]|join }}"
    sms = renderer.render(make_source(body=body), {"items": ["a", "b"], "name": "x"})
    assert sms.body == "['A', 'B'] <function upper> <function range> <function lower>"
    with pytest.raises(TemplateRenderError) as refused:
        renderer.render(make_source(body="{{ name[name.upper] + 1 }}"), {"name": "ab"})
    assert "0x" not in str(refused.value)
    message = "<bound method A.b of <A object at 0x7f00ab12>> is not safely callable"
    assert public_message(message) == "<bound method A.b of <object>> is not safely callable"


def test_shapes_that_cannot_compile_are_refused_naming_the_field(make_source):
    cases = [
        ("text_body", "{% if x %}" * 9 + "x" + "{% endif %}" * 9, "blocks nested more than 8"),
        ("subject", "{{ x" + "|lower" * 30 + " }}", "expressions nested more than 24"),
        ("html_body", "{{ x }}" * 3000, "more than 5000 pieces of template code"),
        ("html_body", "{{x}}" * 1600, "too large to compile"),  # its HTML and text together
        ("subject", "{{ " + "9" * 5000 + " }}", "numbers beyond"),
    ]
    for field, text, words in cases:
        fields = {"subject": "s", "html_body": "<p>x</p>", field: text}
        issues = validate_template(make_source("email", **fields), DEFAULT_EMAIL_LAYOUT)
        assert [issue.field for issue in issues] == [field], (field, words, issues)
        assert words in issues[0].message


def test_saving_refuses_what_cannot_render_in_budget_but_not_missing_data(make_source):
    email = {"subject": "s", "html_body": "<p>{{ count + 1 }}</p>"}
    assert validate_template(make_source("email", **email)) == []  # real data may have count
    [issue] = validate_template(make_source("email", subject="s", html_body=SLOW))
    assert issue.field == "html_body"
    assert issue.message == "does not render with sample data: took longer than its budget of 0.5 s"


def test_a_layout_is_compiled_and_rendered_when_saved():
    slow = EmailLayout("l1", SLOW + "{{ content }}")
    [issue] = validate_layout(slow)
    assert issue.field == "layout" and "took longer than its budget" in issue.message
    deep = EmailLayout("l2", "{% if a %}" * 9 + "{{ content }}" + "{% endif %}" * 9)
    [issue] = validate_layout(deep)
    assert issue.field == "layout" and "nested more than 8" in issue.message


def test_css_inlining_too_costly_is_skipped():
    rules = ":has(* * * q) {color: red} " * 3
    html = f"<html><head><style>{rules}</style></head><body>{'<div>' * 4000}</body></html>"
    assert inlining_cost(html) > MAX_INLINING_COST
    started = time.monotonic()
    assert inline_css(html) == html  # kept as it is: inlining it takes ~100 ms of native code
    assert time.monotonic() - started < 0.05
    small = "<html><head><style>p {color: red}</style></head><body><p>x</p></body></html>"
    assert 'style="color: red' in inline_css(small)


async def test_a_render_runs_off_the_event_loop(make_source):
    """The loop keeps ticking through a render that runs its whole budget (on the loop, it
    would stand still for 0.5 s). The 100 ms goal is measured by test_hostile_templates."""
    compiled = CompiledTemplate(make_source(body=SLOW))
    tune_runtime_for_the_event_loop()  # as the API and the worker do once started: no full
    # collection of the test suite's modules in the middle of the measurement
    ticks, worst, running = 0, 0.0, True

    async def probe() -> None:
        nonlocal ticks, worst
        while running:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            worst = max(worst, time.monotonic() - before - 0.005)
            ticks += 1

    ticker = asyncio.create_task(probe())
    started = time.monotonic()
    with pytest.raises(TemplateLimitError):
        await in_render_thread(compiled.render_fields, {})
    took = time.monotonic() - started
    running = False
    await ticker
    # On the loop, the probe could not tick until the render ended: one hold as long as it.
    assert ticks >= 10 and worst < took / 2, (ticks, worst, took)


def _source(hostile: Hostile, make_source):
    if hostile.channel == "sms":
        return make_source("sms", event_key="hostile.probe", body=hostile.source)
    fields = {"subject": "Hi", "html_body": "<p>Hi</p>", hostile.field: hostile.source}
    return make_source("email", event_key="hostile.probe", **fields)


@pytest.mark.parametrize("hostile", HOSTILE_TEMPLATES, ids=lambda hostile: hostile.name)
def test_each_hostile_template_is_refused_or_fails_naming_its_field(hostile, renderer, make_source):
    source = _source(hostile, make_source)
    layout = DEFAULT_EMAIL_LAYOUT if hostile.channel == "email" else None
    issues = validate_template(source, layout)
    if issues:
        assert issues[0].field == hostile.field, issues
    else:
        assert hostile.context, "saved, and nothing in its data can make it fail"
    # A copy stored before these checks, sent with its data: a domain error naming the field.
    with pytest.raises((TemplateValidationError, TemplateRenderError)) as failed:
        renderer.render(source, hostile.context, layout)
    assert str(failed.value).startswith(hostile.field), failed.value
    assert "0x" not in str(failed.value)


def test_the_corpus_is_large_and_covers_every_field():
    assert len(HOSTILE_TEMPLATES) >= 50
    assert {h.field for h in HOSTILE_TEMPLATES} == {"subject", "html_body", "text_body", "body"}


def test_the_budget_counts_the_render_s_own_time_up_to_a_hard_wall_clock_limit():
    with spending(0.05):
        time.sleep(0.08)  # kept waiting (a busy machine): not the render's own time
        check_time()
        started = time.thread_time()
        with pytest.raises(LimitExceeded, match=r"its budget of 0\.05 s"):
            while True:  # the render's own work
                check_time()
        assert time.thread_time() - started >= 0.04
    with spending(0.05), pytest.raises(LimitExceeded, match=r"longer than 0\.2 s"):
        time.sleep(0.21)  # however long it waits, not past HARD_LIMIT_FACTOR budgets
        check_time()
